"""A separate process that fetches N URLs through a shared rate-limit backend.

Run by test_shared_limits.py as `python rate_worker.py BACKEND PREFIX BASE_URL N TAG`.
"""

from __future__ import annotations

import asyncio
import sys

from oafetch.net.client import HttpClient, Role
from oafetch.net.settings import ClientSettings


async def main(backend: str, prefix: str, base: str, n: int, tag: str) -> None:
    settings = ClientSettings(
        rates={"*": "10/s"}, rate_backend=backend, rate_key_prefix=prefix, host_concurrency=8
    )
    client = HttpClient(settings)
    queue = list(range(n))

    async def worker() -> None:
        while queue:
            i = queue.pop()
            response = await client.get(f"{base}/{tag}/{i}", role=Role.METADATA)
            assert response.status_code == 200

    try:
        await asyncio.gather(*(worker() for _ in range(5)))
    finally:
        await client.aclose()


if __name__ == "__main__":
    backend, prefix, base, n, tag = sys.argv[1:6]
    asyncio.run(main(backend, prefix, base, int(n), tag))
