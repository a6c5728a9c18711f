"""A quick throughput probe of the simweb process (printed, not asserted: CI machines vary).

Run with `-s` to see the numbers. A raw keep-alive HTTP/1.1 client (not httpx) so the
client's own cost does not hide the server's.
"""

from __future__ import annotations

import asyncio
import time

from oafetch.simweb import SimWeb


async def _worker(port: int, path: str, n: int) -> int:
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    request = f"GET {path} HTTP/1.1\r\nHost: sim\r\nUser-Agent: probe\r\n\r\n".encode()
    ok = 0
    for _ in range(n):
        writer.write(request)
        await writer.drain()
        head = await reader.readuntil(b"\r\n\r\n")
        length = next(
            int(line.split(b":", 1)[1])
            for line in head.split(b"\r\n")
            if line.lower().startswith(b"content-length:")
        )
        await reader.readexactly(length)
        ok += head.startswith(b"HTTP/1.1 200")
    writer.close()
    return ok


async def _probe(port: int, path: str, conns: int = 16, per_conn: int = 100) -> tuple[int, float]:
    t0 = time.perf_counter()
    oks = await asyncio.gather(*(_worker(port, path, per_conn) for _ in range(conns)))
    return sum(oks), time.perf_counter() - t0


def test_throughput_probe(slice_web: SimWeb) -> None:
    w = next(w for w in slice_web.world if w.scenario == "oa_pdf")
    probes = {
        "faults /status/200": (slice_web.ports["faults"], "/status/200"),
        "openalex work": (slice_web.ports["openalex"], f"/works/{w.ids['openalex']}"),
        "publisher1 pdf": (
            slice_web.ports["publisher1"],
            next(
                u for u in slice_web.world_data()["works"][w.index]["urls"] if u.endswith("/pdf")
            ).split(str(slice_web.ports["publisher1"]))[1],
        ),
    }
    before = len(slice_web.requests())
    for name, (port, path) in probes.items():
        ok, took = asyncio.run(_probe(port, path))
        assert ok == 1600, f"{name}: only {ok} of 1600 requests answered 200"
        print(f"\nsimweb {name}: {ok / took:.0f} req/s ({ok} requests, 16 keep-alive connections)")
    assert len(slice_web.requests()) - before == 3 * 1600, "every request is logged"
