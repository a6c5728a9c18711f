"""The raw ceiling of issue 7 (1a): a minimal async httpx client that knows the answers.

For each work it makes exactly the requests an oracle needs: the OpenAlex metadata record
(read and JSON-decoded) and the PDF (streamed and discarded), with `--concurrency` works in
flight over one keep-alive pool. No ledger, no politeness, no validation, no files: whatever
oafetch spends beyond this is its own overhead.

    python bench/oracle_client.py PAIRS.json --concurrency 8   -> prints one JSON line
"""

from __future__ import annotations

import argparse
import asyncio
import json
import time
from pathlib import Path

import httpx


async def main(pairs: list[tuple[str, str]], concurrency: int) -> dict[str, float | int]:
    limits = httpx.Limits(max_connections=64, max_keepalive_connections=64)
    queue: asyncio.Queue[tuple[str, str]] = asyncio.Queue()
    for pair in pairs:
        queue.put_nowait(pair)
    stats = {"requests": 0, "bytes": 0, "errors": 0}

    async with httpx.AsyncClient(limits=limits, timeout=30.0) as client:

        async def worker() -> None:
            while not queue.empty():
                meta_url, pdf_url = queue.get_nowait()
                meta = await client.get(meta_url)
                stats["requests"] += 1
                if meta.status_code != 200 or not meta.json().get("id"):
                    stats["errors"] += 1
                async with client.stream("GET", pdf_url) as resp:
                    async for chunk in resp.aiter_raw():
                        stats["bytes"] += len(chunk)
                    if resp.status_code != 200:
                        stats["errors"] += 1
                stats["requests"] += 1

        t0 = time.monotonic()
        await asyncio.gather(*(worker() for _ in range(concurrency)))
        elapsed = time.monotonic() - t0
    return {"works": len(pairs), "elapsed_s": round(elapsed, 3), **stats}


if __name__ == "__main__":
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("pairs", type=Path)
    ap.add_argument("--concurrency", type=int, default=8)
    ns = ap.parse_args()
    data = [tuple(p) for p in json.loads(ns.pairs.read_text())]
    print(json.dumps(asyncio.run(main(data, ns.concurrency))))  # type: ignore[arg-type]
