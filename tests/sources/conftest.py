"""Fixtures for the openalex / unpaywall / arxiv source tests: a real loopback HTTP server
that replays recorded responses from realdata, and the project's real HttpClient."""

from __future__ import annotations

import json
import threading
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, unquote, urlsplit

import pytest

from oafetch.net.client import ClientSettings, HttpClient


@dataclass
class _Route:
    body: bytes
    status: int
    content_type: str


@dataclass
class ReplayServer:
    """Serves registered bodies by exact (percent-decoded) path; records every request."""

    url: str = ""
    routes: dict[str, _Route] = field(default_factory=dict)
    requests: list[tuple[str, dict[str, list[str]]]] = field(default_factory=list)

    def route(
        self, path: str, body: Path | bytes, *, status: int = 200, content_type: str | None = None
    ) -> None:
        data = body.read_bytes() if isinstance(body, Path) else body
        if content_type is None:
            suffix = body.suffix if isinstance(body, Path) else ""
            content_type = {
                ".json": "application/json",
                ".xml": "application/atom+xml",
                ".html": "text/html",
            }.get(suffix, "application/octet-stream")
        self.routes[path] = _Route(data, status, content_type)


def _handler(server: ReplayServer) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            parts = urlsplit(self.path)
            path = unquote(parts.path)
            server.requests.append((path, parse_qs(parts.query)))
            route = server.routes.get(path) or _Route(
                json.dumps({"error": "no route", "path": path}).encode(), 404, "application/json"
            )
            self.send_response(route.status)
            self.send_header("Content-Type", route.content_type)
            self.send_header("Content-Length", str(len(route.body)))
            self.end_headers()
            self.wfile.write(route.body)

        def log_message(self, format: str, *args: Any) -> None:  # keep test output quiet
            pass

    return Handler


@pytest.fixture
def replay_server() -> Iterator[ReplayServer]:
    server = ReplayServer()
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), _handler(server))
    server.url = f"http://127.0.0.1:{httpd.server_address[1]}"
    thread = threading.Thread(target=httpd.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    try:
        yield server
    finally:
        httpd.shutdown()
        httpd.server_close()
        thread.join(timeout=5)


@pytest.fixture
async def http_client() -> AsyncIterator[HttpClient]:
    # No retries: a scripted 5xx/429 must surface at once instead of backing off.
    client = HttpClient(ClientSettings(max_retries=0))
    try:
        yield client
    finally:
        await client.aclose()


@pytest.fixture(scope="session")
def manifest(realdata: Path) -> list[dict[str, Any]]:
    with (realdata / "manifest.jsonl").open(encoding="utf-8") as fh:
        return [json.loads(line) for line in fh if line.strip()]
