"""One small httpcore pool per origin instead of one big pool for every host.

Why: httpcore 1.0's `AsyncConnectionPool._assign_requests_to_connections` runs on every
request start and every response close, walks every connection in the pool, asks each idle
one whether its socket became readable (an anyio `extra()` lookup that builds a dict per
call), and for each idle connection counts the idle ones again: O(n²) in the pool size. With
8 workers fanning out over five or six API hosts and a publisher, the shared pool holds
~50 connections and this scan was 14 % of oafetch's CPU (bench/cost.py; see
docs/performance.md). Split per origin, n is the host's own concurrency (a handful), so the
scan is cheap again; keep-alive reuse is unchanged (a connection only ever serves its origin).

A run can meet thousands of publisher hosts, so at most `max_pools` pools are kept: the least
recently used idle one is closed when a new origin arrives (its sockets are released, not
leaked until exit).
"""

from __future__ import annotations

import ssl
from collections import OrderedDict
from collections.abc import AsyncIterator, Callable

import httpx

__all__ = ["PerOriginTransport"]


class PerOriginTransport(httpx.AsyncBaseTransport):
    """Routes each request to an `httpx.AsyncHTTPTransport` of its own (scheme, host, port)."""

    def __init__(
        self,
        *,
        limits: httpx.Limits,
        max_pools: int = 64,
        ssl_context: ssl.SSLContext | None = None,
    ) -> None:
        self._limits = limits
        self._max_pools = max(1, max_pools)
        # One SSL context for every pool: building one loads the CA bundle (milliseconds).
        self._ssl = ssl_context or httpx.create_ssl_context(trust_env=True)
        self._pools: OrderedDict[tuple[bytes, bytes, int | None], httpx.AsyncHTTPTransport] = (
            OrderedDict()
        )
        self._active: dict[tuple[bytes, bytes, int | None], int] = {}

    @property
    def pool_count(self) -> int:
        return len(self._pools)

    async def _pool_for(self, key: tuple[bytes, bytes, int | None]) -> httpx.AsyncHTTPTransport:
        pool = self._pools.get(key)
        if pool is not None:
            self._pools.move_to_end(key)
            return pool
        while len(self._pools) >= self._max_pools:
            victim = next((k for k in self._pools if not self._active.get(k)), None)
            if victim is None:
                break  # every pool is busy: exceed the bound rather than cut a live request
            await self._pools.pop(victim).aclose()
        pool = httpx.AsyncHTTPTransport(verify=self._ssl, limits=self._limits, trust_env=False)
        self._pools[key] = pool
        return pool

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        url = request.url
        key = (url.raw_scheme, url.raw_host, url.port)
        pool = await self._pool_for(key)
        self._active[key] = self._active.get(key, 0) + 1
        try:
            response = await pool.handle_async_request(request)
        except BaseException:
            self._release(key)
            raise
        return httpx.Response(
            status_code=response.status_code,
            headers=response.headers,
            stream=_CountedStream(response.stream, lambda: self._release(key)),
            extensions=response.extensions,
        )

    def _release(self, key: tuple[bytes, bytes, int | None]) -> None:
        left = self._active.get(key, 1) - 1
        if left <= 0:
            self._active.pop(key, None)
        else:
            self._active[key] = left

    async def aclose(self) -> None:
        pools, self._pools = list(self._pools.values()), OrderedDict()
        for pool in pools:
            await pool.aclose()


class _CountedStream(httpx.AsyncByteStream):
    """The pool's response stream, telling the router when the response is closed."""

    def __init__(
        self, inner: httpx.AsyncByteStream | httpx.SyncByteStream, on_close: Callable[[], None]
    ) -> None:
        assert isinstance(inner, httpx.AsyncByteStream)
        self._inner = inner
        self._on_close: Callable[[], None] | None = on_close

    def __aiter__(self) -> AsyncIterator[bytes]:
        # The inner iterator itself: no extra generator frame per chunk.
        return self._inner.__aiter__()

    async def aclose(self) -> None:
        try:
            await self._inner.aclose()
        finally:
            callback, self._on_close = self._on_close, None
            if callback is not None:
                callback()
