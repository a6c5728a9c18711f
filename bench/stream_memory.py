"""Issue 7, benchmark 4 (stream part): peak RSS while streaming one 2 GB artifact.

simweb's faults host cannot serve this: `/bytes?size=N` builds the whole body in memory and
caps N at 512 MiB (see docs/performance.md). So this bench starts its own tiny origin in a
child process: a stdlib HTTP server that writes N bytes from one 1 MiB block, with a
Content-Length, never holding the body. A second child runs oafetch's real
`oafetch.fetch.download.download()` through `HttpClient` into a `.part` file (hashing as
it goes) and reports its own peak RSS (`ru_maxrss`) before and after, so neither the
server nor this parent is counted.

    python bench/stream_memory.py [--size-mb 2048]
Writes bench/results/stream_memory.json.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import multiprocessing as mp
import resource
import sys
import tempfile
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import table, write_result

BLOCK = bytes(range(256)) * 4096  # 1 MiB


class _Origin(BaseHTTPRequestHandler):
    size = 0

    def do_GET(self) -> None:
        if self.path.startswith("/robots.txt"):
            self.send_response(404)
            self.send_header("Content-Length", "0")
            self.end_headers()
            return
        self.send_response(200)
        self.send_header("Content-Type", "application/pdf")
        self.send_header("Content-Length", str(self.size))
        self.end_headers()
        left = self.size
        while left > 0:
            n = min(left, len(BLOCK))
            self.wfile.write(BLOCK[:n] if n < len(BLOCK) else BLOCK)
            left -= n

    def log_message(self, *args: Any) -> None:
        return None


def _serve(size: int, port_out: Any) -> None:
    _Origin.size = size
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Origin)
    port_out.put(server.server_address[1])
    server.serve_forever()


def _rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _client(url: str, part: str, size: int, out: Any) -> None:
    from oafetch.fetch.download import download
    from oafetch.net.client import HttpClient
    from oafetch.net.settings import ClientSettings

    async def go() -> dict[str, Any]:
        settings = ClientSettings(allow_private_networks=True, rates={"*": "100000/s"},
                                  read_timeout_s=60.0)
        client = HttpClient(settings)
        base = _rss_mb()
        t0 = time.perf_counter()
        try:
            res = await download(client, url, Path(part), max_bytes=size + 1, deadline_s=600.0)
        finally:
            await client.aclose()
        wall = time.perf_counter() - t0
        return {"bytes": res.size, "sha256": res.sha256, "wall_s": round(wall, 2),
                "mb_per_s": round(res.size / wall / 2**20, 1), "rss_before_mb": round(base, 1),
                "peak_rss_mb": round(_rss_mb(), 1)}

    out.put(asyncio.run(go()))


def main() -> None:
    ap = argparse.ArgumentParser(description="peak RSS streaming one big artifact (issue 7 §4)")
    ap.add_argument("--size-mb", type=int, default=2048)
    ns = ap.parse_args()
    size = ns.size_mb * 2**20
    ctx = mp.get_context("spawn")
    q: Any = ctx.Queue()
    server = ctx.Process(target=_serve, args=(size, q), daemon=True)
    server.start()
    try:
        port = q.get(timeout=30)
        with tempfile.TemporaryDirectory(prefix="oafetch-stream-") as d:
            out: Any = ctx.Queue()
            child = ctx.Process(target=_client, args=(f"http://127.0.0.1:{port}/big.pdf",
                                                      str(Path(d) / "big.part"), size, out))
            child.start()
            r = out.get(timeout=600)
            child.join(30)
    finally:
        server.terminate()
        server.join(10)
    assert r["bytes"] == size, r
    path = write_result("stream_memory", {"size_bytes": size, **r})
    print(table([[f"{ns.size_mb} MiB", r["wall_s"], r["mb_per_s"], r["rss_before_mb"], r["peak_rss_mb"]]],
                ["artifact", "wall s", "MiB/s", "RSS before MB", "peak RSS MB"]))
    print("target: peak RSS <= 150 MB")
    print(f"-> {path}")
    print(json.dumps(r))


if __name__ == "__main__":
    main()
