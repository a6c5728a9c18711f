"""A tiny real HTTP/1.1 server on 127.0.0.1 with scripted faults and a request log.

Used by the net tests so they exercise real sockets (keep-alive, timing, headers) while the
shared simulated web (`oafetch.simweb`) is not needed for these low-level behaviours.
Endpoints mirror simweb's fault endpoints: /status/{code}, /sequence/{key}?codes=…&retry_after=N,
/retry-after-date/{key}?secs=N, /redirect/{n}, /redirect-loop, /ok, /private/…, /robots.txt.
"""

from __future__ import annotations

import email.utils
import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

ROBOTS = b"User-agent: *\nDisallow: /private/\n"


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server: _Server

    def log_message(self, format: str, *args: Any) -> None:  # quiet
        return None

    def _send(self, status: int, body: bytes = b"", headers: dict[str, str] | None = None) -> None:
        # Logged before answering: a client that has its answer must find its request here.
        self.server.record(self, status)
        self.send_response(status)
        for key, value in (headers or {}).items():
            self.send_header(key, value)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def do_GET(self) -> None:
        parts = urlsplit(self.path)
        path, query = parts.path, parse_qs(parts.query)
        srv = self.server
        if path == "/robots.txt":
            if srv.robots_status == 200:
                self._send(200, srv.robots_body, {"Content-Type": "text/plain"})
            else:
                self._send(srv.robots_status, b"oops")
        elif path.startswith("/status/"):
            self._send(int(path.rsplit("/", 1)[1]), b"status")
        elif path.startswith("/sequence/"):
            key = path.rsplit("/", 1)[1]
            codes = [int(c) for c in query["codes"][0].split(",")]
            with srv.lock:
                n = srv.counters.get(key, 0)
                srv.counters[key] = n + 1
            code = codes[min(n, len(codes) - 1)]
            headers = {}
            if code in (429, 503) and "retry_after" in query:
                headers["Retry-After"] = query["retry_after"][0]
            self._send(code, json.dumps({"n": n}).encode(), headers)
        elif path.startswith("/retry-after-date/"):
            key = path.rsplit("/", 1)[1]
            with srv.lock:
                n = srv.counters.get(key, 0)
                srv.counters[key] = n + 1
            if n == 0:
                secs = float(query["secs"][0])
                date = email.utils.formatdate(time.time() + secs, usegmt=True)
                self._send(429, b"slow down", {"Retry-After": date})
            else:
                self._send(200, b"{}", {"Content-Type": "application/json"})
        elif path.startswith("/redirect/"):
            n = int(path.rsplit("/", 1)[1])
            if n <= 0:
                self._send(200, b"arrived")
            else:
                self._send(302, b"", {"Location": f"/redirect/{n - 1}"})
        elif path == "/redirect-loop":
            self._send(302, b"", {"Location": "/redirect-loop-b"})
        elif path == "/redirect-loop-b":
            self._send(302, b"", {"Location": "/redirect-loop"})
        elif path == "/to":
            self._send(302, b"", {"Location": query["url"][0]})
        else:
            body = json.dumps({"path": path}).encode()
            self._send(200, body, {"Content-Type": "application/json"})


class _Server(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, robots_status: int, robots_body: bytes) -> None:
        super().__init__(("127.0.0.1", 0), _Handler)
        self.robots_status = robots_status
        self.robots_body = robots_body
        self.lock = threading.Lock()
        self.counters: dict[str, int] = {}
        self.log: list[dict[str, Any]] = []

    def record(self, handler: _Handler, status: int) -> None:
        with self.lock:
            self.log.append({"ts": time.time(), "path": handler.path, "status": status,
                             "headers": dict(handler.headers)})


class Loopback:
    """`with Loopback() as web:` → `web.url("/ok")`, `web.requests()`."""

    def __init__(self, robots_status: int = 200, robots_body: bytes = ROBOTS) -> None:
        self._server = _Server(robots_status, robots_body)
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    @property
    def host(self) -> str:
        return f"127.0.0.1:{self._server.server_address[1]}"

    def url(self, path: str) -> str:
        return f"http://{self.host}{path}"

    def requests(self) -> list[dict[str, Any]]:
        with self._server.lock:
            return list(self._server.log)

    def __enter__(self) -> Loopback:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._server.shutdown()
        self._server.server_close()


def max_in_window(timestamps: list[float], window: float = 1.0) -> int:
    """The largest number of timestamps inside any `window`-second sliding window."""
    ts = sorted(timestamps)
    best, lo = 0, 0
    for hi, t in enumerate(ts):
        while t - ts[lo] >= window:
            lo += 1
        best = max(best, hi - lo + 1)
    return best
