"""The metadata response cache: a re-run spends no API quota (DESIGN §6).

Built on hishel 2.0's *storage layer* (``hishel.SqliteStorage``), not on its transport or
client, for two reasons:

1. ``hishel.httpx.AsyncCacheTransport`` sits *below* our client, so a cache hit would still
   have waited for a rate-limit token, passed the breaker and robots checks, and been
   counted as a request to the host. The cache must answer *before* politeness.
2. hishel's async storage needs ``anysqlite``, which is not a dependency; its sync storage
   is thread-safe (one lock per storage), so we call it from a worker thread and the event
   loop never blocks on disk.

Only the ``metadata`` role is cached, only 200 and 404 answers (a 404 from an API is an
answer: "this work is not in this index"), keyed by the credential-stripped URL so that
neither the API key nor the contact email is ever written to disk.
"""

from __future__ import annotations

import asyncio
import hashlib
from pathlib import Path

import hishel
import httpx

__all__ = ["CACHEABLE_STATUS", "MetadataCache"]

CACHEABLE_STATUS = frozenset({200, 404})

# Response headers that describe the wire form, not the decoded body we store.
_WIRE_HEADERS = frozenset({"content-encoding", "content-length", "transfer-encoding"})


def cache_key(stripped_url: str) -> str:
    return hashlib.sha256(f"GET {stripped_url}".encode()).hexdigest()


class MetadataCache:
    """GET responses of metadata APIs, stored under the output folder with a TTL."""

    def __init__(self, path: Path, *, ttl_s: float) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self.path = path
        self.ttl_s = ttl_s
        self._storage = hishel.SqliteStorage(database_path=path, default_ttl=ttl_s)

    async def get(self, stripped_url: str) -> httpx.Response | None:
        return await asyncio.to_thread(self._get, stripped_url)

    def _get(self, stripped_url: str) -> httpx.Response | None:
        for entry in self._storage.get_entries(cache_key(stripped_url)):
            if entry.request.method != "GET" or entry.response.stream is None:
                continue
            body = b"".join(entry.response.stream)  # type: ignore[arg-type]
            headers = [
                (k, v) for k in entry.response.headers
                for v in entry.response.headers.get_list(k) or []
            ]
            return httpx.Response(
                entry.response.status_code,
                headers=headers,
                content=body,
                request=httpx.Request("GET", stripped_url),
                extensions={"from_cache": True},
            )
        return None

    async def put(self, stripped_url: str, response: httpx.Response) -> None:
        """Store a fully read response (its body already decoded by httpx)."""
        if response.status_code not in CACHEABLE_STATUS:
            return
        await asyncio.to_thread(self._put, stripped_url, response.status_code,
                                response.headers, response.content)

    def _put(self, stripped_url: str, status: int, headers: httpx.Headers, body: bytes) -> None:
        grouped: dict[str, list[str]] = {}
        for key, value in headers.multi_items():
            if key.lower() not in _WIRE_HEADERS:
                grouped.setdefault(key.lower(), []).append(value)
        grouped["content-length"] = [str(len(body))]
        entry = self._storage.create_entry(
            hishel.Request(method="GET", url=stripped_url, headers=hishel.Headers({})),
            hishel.Response(
                status_code=status, headers=hishel.Headers(grouped), stream=iter([body])
            ),
            cache_key(stripped_url),
        )
        # The entry becomes visible only once its stream has been read to the end.
        for _ in entry.response.stream or ():  # type: ignore[union-attr]
            pass

    async def aclose(self) -> None:
        await asyncio.to_thread(self._storage.close)
