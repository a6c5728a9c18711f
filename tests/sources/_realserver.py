"""A real loopback HTTP server for the record-search source tests (crossref ... wayback).

Why not a mock transport: the sources must work through the project's real `HttpClient`
(real sockets, real redirects, real headers), so the tests run a `ThreadingHTTPServer`
on 127.0.0.1 that answers registered paths with real recorded bodies from realdata.
Every request is recorded (path, query, headers) so tests can check what was sent.
"""

from __future__ import annotations

import threading
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager, contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import parse_qs, unquote, urlsplit

from oafetch.net.client import ClientSettings, HttpClient
from oafetch.sources.base import SourceContext, SourceSettings

_TYPES = {
    ".json": "application/json",
    ".xml": "application/xml",
    ".html": "text/html; charset=utf-8",
    ".txt": "text/plain; charset=utf-8",
    ".cdx": "text/plain; charset=utf-8",
    ".pdf": "application/pdf",
}


@dataclass
class Reply:
    body: bytes = b""
    status: int = 200
    headers: dict[str, str] = field(default_factory=dict)


@dataclass
class Seen:
    path: str
    query: dict[str, list[str]]
    headers: dict[str, str]


class RealServer:
    """Serves replies by exact percent-decoded path; records every request it gets."""

    def __init__(self) -> None:
        self.routes: dict[str, Reply] = {}
        self.requests: list[Seen] = []
        self.url = ""

    def route(
        self,
        path: str,
        body: Path | bytes | str = b"",
        *,
        status: int = 200,
        content_type: str | None = None,
        headers: dict[str, str] | None = None,
    ) -> None:
        if isinstance(body, Path):
            data = body.read_bytes()
            content_type = content_type or _TYPES.get(body.suffix, "application/octet-stream")
        else:
            data = body.encode() if isinstance(body, str) else body
        hdrs = dict(headers or {})
        if content_type:
            hdrs["Content-Type"] = content_type
        self.routes[path] = Reply(data, status, hdrs)

    def redirect(self, path: str, location: str, status: int = 302) -> None:
        self.routes[path] = Reply(b"", status, {"Location": location})

    def seen(self, path: str) -> list[Seen]:
        return [r for r in self.requests if r.path == path]


def _handler(server: RealServer) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            parts = urlsplit(self.path)
            path = unquote(parts.path)
            server.requests.append(
                Seen(path, parse_qs(parts.query), {k.lower(): v for k, v in self.headers.items()})
            )
            reply = server.routes.get(path, Reply(b'{"error": "not registered"}', 404))
            self.send_response(reply.status)
            for key, value in reply.headers.items():
                self.send_header(key, value)
            self.send_header("Content-Length", str(len(reply.body)))
            self.end_headers()
            self.wfile.write(reply.body)

        def log_message(self, format: str, *args: object) -> None:
            pass

    return Handler


@contextmanager
def serve() -> Iterator[RealServer]:
    state = RealServer()
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), _handler(state))
    state.url = f"http://127.0.0.1:{httpd.server_address[1]}"
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    try:
        yield state
    finally:
        httpd.shutdown()
        httpd.server_close()
        thread.join(timeout=5)


@asynccontextmanager
async def context(
    settings: SourceSettings, *, mailto: str | None = "oafetch-tests@example.org"
) -> AsyncIterator[SourceContext]:
    """A SourceContext around the project's real HttpClient, loopback allowed."""
    # No retries and a generous rate so error-path tests stay fast; politeness itself is
    # tested by the net helper's tests.
    http = HttpClient(
        ClientSettings(
            allow_private_networks=True, mailto=mailto, max_retries=0, rates={"*": "1000/s"}
        )
    )
    try:
        yield SourceContext(http=http, settings=settings, mailto=mailto)
    finally:
        await http.aclose()


@dataclass(frozen=True, slots=True)
class SettingsWithApi(SourceSettings):
    """SourceSettings plus the optional secondary endpoint (`api_url` in config)."""

    api_url: str | None = None
