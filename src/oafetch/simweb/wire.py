"""The HTTP/1.1 wire layer of simweb: asyncio streams + h11, with byte-level fault hooks.

Why h11 and not http.server: http.server spends a thread per connection and re-parses
headers in Python slowly; h11 is a sans-IO parser, so one event loop serves every host's
port and keep-alive connection, and a fault can bypass it to write raw bytes (send the
headers and K body bytes, then hard-close) exactly like a broken server would.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import socket
import struct
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO
from urllib.parse import parse_qsl, unquote, urlsplit

import h11

__all__ = ["Handler", "HostServer", "Request", "RequestLog", "Response"]


@dataclass(slots=True)
class Request:
    """One parsed request; header names are lower-case, query values the last one given."""

    method: str
    target: str
    path: str
    raw_query: str
    query: dict[str, str]
    headers: dict[str, str]
    host: str
    port: int
    body: bytes = b""

    def header(self, name: str) -> str | None:
        return self.headers.get(name)


@dataclass(slots=True)
class Response:
    """What a handler returns; the last three fields script faults on the wire.

    send_bytes: send the headers and only this many body bytes, then close the socket
        (a FIN, so the client surely sees the K bytes first; `rst` aborts with a RST).
    bps: pace the body at about this many bytes per second.
    close: close the connection after this response (no keep-alive).
    """

    status: int
    headers: list[tuple[str, str]] = field(default_factory=list)
    body: bytes = b""
    send_bytes: int | None = None
    bps: float | None = None
    close: bool = False
    log: bool = True
    rst: bool = False  # with send_bytes: abort with a TCP RST instead of a FIN
    delay: float = 0.0  # seconds to wait before sending anything (latency)


Handler = Callable[[Request], Response]

_REASONS = {
    200: b"OK",
    206: b"Partial Content",
    301: b"Moved Permanently",
    302: b"Found",
    303: b"See Other",
    304: b"Not Modified",
    307: b"Temporary Redirect",
    400: b"Bad Request",
    401: b"Unauthorized",
    403: b"Forbidden",
    404: b"Not Found",
    410: b"Gone",
    416: b"Range Not Satisfiable",
    422: b"Unprocessable Entity",
    429: b"Too Many Requests",
    500: b"Internal Server Error",
    502: b"Bad Gateway",
    503: b"Service Unavailable",
    504: b"Gateway Timeout",
}


class RequestLog:
    """Buffered JSONL request log; flushed every 100 ms by the server and at exit."""

    def __init__(self, path: Path) -> None:
        self._file: IO[str] = path.open("a", encoding="utf-8")
        self._buf: list[str] = []

    def add(self, record: dict[str, object]) -> None:
        self._buf.append(json.dumps(record, separators=(",", ":")) + "\n")

    def flush(self) -> None:
        if self._buf:
            self._file.write("".join(self._buf))
            self._buf.clear()
        self._file.flush()

    def close(self) -> None:
        self.flush()
        self._file.close()


def _parse(event: h11.Request, host: str, port: int) -> Request:
    target = event.target.decode("latin-1")
    parts = urlsplit(target)
    headers = {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in event.headers}
    query = dict(parse_qsl(parts.query, keep_blank_values=True))
    return Request(
        event.method.decode("ascii"),
        target,
        unquote(parts.path),
        parts.query,
        query,
        headers,
        host,
        port,
    )


class HostServer:
    """One listening port serving one simulated host through `handler`."""

    def __init__(self, name: str, handler: Handler, log: RequestLog) -> None:
        self.name = name
        self.handler = handler
        self.log = log
        self.port = 0
        self._server: asyncio.Server | None = None
        self._writers: set[asyncio.StreamWriter] = set()

    async def start(self) -> int:
        self._server = await asyncio.start_server(self._serve, "127.0.0.1", 0, backlog=512)
        self.port = int(self._server.sockets[0].getsockname()[1])
        return self.port

    async def stop(self) -> None:
        if self._server is not None:
            self._server.close()
        for w in list(self._writers):
            w.close()
        if self._server is not None:
            with contextlib.suppress(Exception):
                await asyncio.wait_for(self._server.wait_closed(), 2.0)

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self._writers.add(writer)
        sock = writer.get_extra_info("socket")
        if sock is not None:
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        conn = h11.Connection(h11.SERVER)
        try:
            while await self._one(conn, reader, writer):
                conn.start_next_cycle()
        except (ConnectionError, h11.ProtocolError, asyncio.IncompleteReadError):
            pass
        finally:
            self._writers.discard(writer)
            with contextlib.suppress(Exception):
                writer.close()

    async def _one(
        self, conn: h11.Connection, reader: asyncio.StreamReader, writer: asyncio.StreamWriter
    ) -> bool:
        """Serve one request on the connection; False when the connection must end."""
        req_event: h11.Request | None = None
        body = bytearray()
        while True:
            event = conn.next_event()
            if event is h11.NEED_DATA:
                data = await reader.read(65536)
                conn.receive_data(data)
                if not data and conn.their_state is not h11.DONE:
                    return False
                continue
            if isinstance(event, h11.Request):
                req_event = event
            elif isinstance(event, h11.Data):
                body += event.data
            elif isinstance(event, h11.EndOfMessage):
                break
            elif isinstance(event, h11.ConnectionClosed) or event is h11.PAUSED:
                return False
        assert req_event is not None
        arrived = time.time()
        req = _parse(req_event, self.name, self.port)
        req.body = bytes(body)
        try:
            resp = self.handler(req)
        except Exception as exc:  # a handler bug must show, not hang the client
            resp = Response(
                500, [("Content-Type", "text/plain")], f"simweb error: {exc!r}".encode()
            )
        if resp.delay > 0:
            await asyncio.sleep(resp.delay)
        progress = [0]
        aborted = False
        try:
            sent = await self._send(conn, writer, req, resp, progress)
        except (ConnectionError, OSError):  # the client went away mid-response: log it
            sent, aborted = progress[0], True
        if resp.log:
            self.log.add(
                {
                    "ts": time.time(),  # when the response ended
                    "arrived": arrived,  # when the request was read (rate-limit checks)
                    "host": self.name,
                    "port": self.port,
                    "method": req.method,
                    "path": req.path,
                    "query": req.raw_query,
                    "status": resp.status,
                    "bytes": sent,
                    "range": req.headers.get("range"),
                    "if_range": req.headers.get("if-range"),
                    "if_none_match": req.headers.get("if-none-match"),
                    "ua": req.headers.get("user-agent"),
                    "aborted": aborted,
                }
            )
        if resp.send_bytes is not None or aborted:
            return False
        return conn.our_state is h11.DONE and conn.their_state is h11.DONE

    async def _send(
        self,
        conn: h11.Connection,
        writer: asyncio.StreamWriter,
        req: Request,
        resp: Response,
        progress: list[int],
    ) -> int:
        """Write the response; `progress[0]` tracks body bytes handed to the socket."""
        headers = [(k.encode("latin-1"), v.encode("latin-1")) for k, v in resp.headers]
        names = {k.lower() for k, _ in resp.headers}
        no_body = req.method == "HEAD" or resp.status in (204, 304) or resp.status < 200
        if "content-length" not in names and resp.status not in (204, 304):
            headers.append((b"Content-Length", str(len(resp.body)).encode()))
        headers.append((b"Server", b"simweb"))
        if resp.close:
            headers.append((b"Connection", b"close"))
        reason = _REASONS.get(resp.status, b"")
        writer.write(
            conn.send(h11.Response(status_code=resp.status, headers=headers, reason=reason))
        )
        body = b"" if no_body else resp.body
        if resp.send_bytes is not None:  # raw fault: partial body, then a hard reset
            writer.transport.set_write_buffer_limits(high=0)  # drain() = fully flushed
            writer.write(body[: resp.send_bytes])
            progress[0] = min(len(body), resp.send_bytes)
            await writer.drain()
            if resp.rst:
                sock = writer.get_extra_info("socket")
                if sock is not None:
                    with contextlib.suppress(OSError):
                        sock.setsockopt(
                            socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0)
                        )
                writer.transport.abort()
            else:
                writer.close()
            return min(len(body), resp.send_bytes)
        if resp.bps and body:
            await self._paced(conn, writer, body, resp.bps, progress)
        elif body:
            writer.write(conn.send(h11.Data(data=body)))
            progress[0] = len(body)
        writer.write(conn.send(h11.EndOfMessage()))
        await writer.drain()
        return len(body)

    @staticmethod
    async def _paced(
        conn: h11.Connection,
        writer: asyncio.StreamWriter,
        body: bytes,
        bps: float,
        progress: list[int],
    ) -> None:
        """Send `body` at about `bps` bytes/s in small chunks (slow server / throttle)."""
        chunk = max(1, min(65536, int(bps * 0.05)))
        start = time.monotonic()
        for off in range(0, len(body), chunk):
            writer.write(conn.send(h11.Data(data=body[off : off + chunk])))
            await writer.drain()
            progress[0] = min(len(body), off + chunk)
            due = start + (off + chunk) / bps
            delay = due - time.monotonic()
            if delay > 0:
                await asyncio.sleep(delay)
