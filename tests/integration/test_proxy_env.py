"""The one shared client must keep honouring the standard proxy environment (corporate proxies)."""

from __future__ import annotations

import http.client
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any, ClassVar
from urllib.parse import urlsplit

import pytest

from oafetch.simweb import SimWeb

from .helpers import cli_env, read_jsonl, run_cli, sim_args


class _ForwardProxy(BaseHTTPRequestHandler):
    """A plain HTTP forward proxy that records every absolute URL it is asked for."""

    seen: ClassVar[list[str]] = []

    def do_GET(self) -> None:
        self.seen.append(self.path)
        target = urlsplit(self.path)
        conn = http.client.HTTPConnection(target.hostname or "", target.port or 80, timeout=30)
        path = target.path + (f"?{target.query}" if target.query else "")
        headers = {
            k: v
            for k, v in self.headers.items()
            if k.lower() not in ("proxy-connection", "connection")
        }
        conn.request("GET", path, headers=headers)
        resp = conn.getresponse()
        body = resp.read()
        self.send_response(resp.status)
        for k, v in resp.getheaders():
            if k.lower() not in ("transfer-encoding", "connection", "content-length"):
                self.send_header(k, v)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)
        conn.close()

    def log_message(self, *args: Any) -> None:
        pass


@pytest.fixture
def proxy() -> Iterator[tuple[str, list[str]]]:
    seen: ClassVar[list[str]] = []
    handler = type("Handler", (_ForwardProxy,), {"seen": seen})
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}", seen
    server.shutdown()
    server.server_close()


def test_fetch_goes_through_the_environment_proxy(
    tmp_path: Path, proxy: tuple[str, list[str]]
) -> None:
    proxy_url, seen = proxy
    with SimWeb(tmp_path / "web", works=12, seed=3, profile="slice") as web:
        work = next(w for w in web.world if w.expect_status == "downloaded")
        out = tmp_path / "out"
        env = cli_env(HTTP_PROXY=proxy_url, http_proxy=proxy_url, NO_PROXY="", no_proxy="")
        proc = run_cli(["fetch", work.input, *sim_args(web, out)], env=env)
    assert proc.returncode == 0, proc.stderr
    (result,) = read_jsonl(out / "results.jsonl")
    assert result["status"] == "downloaded"
    # Both the metadata call and the artifact download went through the proxy.
    assert any(result["url"] == u for u in seen), seen
    assert len(seen) >= 2
