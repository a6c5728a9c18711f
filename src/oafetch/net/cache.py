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

Why writes are batched (write-behind): each `put` used to be one thread hop plus one hishel
transaction, ~1 ms of CPU per work in bench/cost.py. Answers now wait in memory (where `get`
finds them) and are written `_FLUSH_EVERY` at a time in one hop, and on `aclose`. A crash
loses at most that many unflushed answers: they are asked again, nothing else. And when this
process created the cache file, only what it wrote itself can be in it, so a `get` for a
key it never wrote is a miss without touching the disk.
"""

from __future__ import annotations

import asyncio
import hashlib
from pathlib import Path

import hishel
import httpx

__all__ = ["CACHEABLE_STATUS", "MetadataCache"]

CACHEABLE_STATUS = frozenset({200, 404})
_FLUSH_EVERY = 64

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
        # Created here (not there before): nothing but our own writes can be in it.
        self._fresh = not path.exists()
        self._storage = hishel.SqliteStorage(database_path=path, default_ttl=ttl_s)
        if self._fresh:
            # hishel opens its file lazily: make it exist now, so a process that opens the
            # cache after us reads it instead of believing it is the creator too.
            self._storage.get_entries(cache_key(""))
        self._pending: dict[str, tuple[int, httpx.Headers, bytes]] = {}
        self._written: set[str] = set()

    async def get(self, stripped_url: str) -> httpx.Response | None:
        pending = self._pending.get(stripped_url)
        if pending is not None:
            status, headers, body = pending
            kept = [(k, v) for k, v in headers.multi_items() if k.lower() not in _WIRE_HEADERS]
            return _response(stripped_url, status, [*kept, ("content-length", str(len(body)))],
                             body)
        if self._fresh and stripped_url not in self._written:
            return None
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
            return _response(stripped_url, entry.response.status_code, headers, body)
        return None

    async def put(self, stripped_url: str, response: httpx.Response) -> None:
        """Store a fully read response (its body already decoded by httpx)."""
        if response.status_code not in CACHEABLE_STATUS:
            return
        self._pending[stripped_url] = (response.status_code, response.headers, response.content)
        if len(self._pending) >= _FLUSH_EVERY:
            await self.flush()

    async def flush(self) -> None:
        """Write every pending answer in one worker-thread hop."""
        batch, self._pending = self._pending, {}
        if batch:
            await asyncio.to_thread(self._put_many, batch)

    def _put_many(self, batch: dict[str, tuple[int, httpx.Headers, bytes]]) -> None:
        for url, (status, headers, body) in batch.items():
            self._put(url, status, headers, body)
            self._written.add(url)

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
        await self.flush()
        await asyncio.to_thread(self._storage.close)


def _response(url: str, status: int, headers: list[tuple[str, str]], body: bytes) -> httpx.Response:
    return httpx.Response(
        status,
        headers=headers,
        content=body,
        request=httpx.Request("GET", url),
        extensions={"from_cache": True},
    )
