"""robots.txt per origin (protego), cached with a TTL; Crawl-delay is handed to the limiter.

Policy, following RFC 9309 where it speaks:
- 2xx: parse and obey the rules for the ``oafetch`` product token (else ``*``).
- 4xx (incl. 404): no rules, everything is allowed.
- 5xx, timeouts, connection errors: treat the whole origin as disallowed for a while
  (``error_ttl_s``), then ask again — the site may be overloaded, so we stay away.
Only ``landing`` and ``artifact`` requests consult robots.txt; metadata APIs are
documented machine interfaces and are governed by their own rate limits instead.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from urllib.parse import urlsplit

from protego import Protego

__all__ = ["ROBOTS_TOKEN", "RobotsCache", "RobotsFetch", "origin_of"]

ROBOTS_TOKEN = "oafetch"

# fetch(robots_url) -> (status, text); status 0 means "no answer" (timeout, reset, refused).
RobotsFetch = Callable[[str], Awaitable[tuple[int, str]]]

# The largest robots.txt we parse (RFC 9309 asks crawlers to parse at least 500 KiB).
MAX_ROBOTS_CHARS = 512 * 1024


def origin_of(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme.lower()}://{parts.netloc.rsplit('@', 1)[-1].lower()}"


@dataclass(slots=True)
class _Entry:
    rules: Protego | None  # None with allow_all False = disallow everything
    allow_all: bool
    expires: float

    def allowed(self, url: str) -> bool:
        if self.rules is None:
            return self.allow_all
        return bool(self.rules.can_fetch(url, ROBOTS_TOKEN))

    def crawl_delay(self) -> float | None:
        if self.rules is None:
            return None
        delay = self.rules.crawl_delay(ROBOTS_TOKEN)
        return float(delay) if delay is not None else None


class RobotsCache:
    """Answers "may we fetch this URL?"; one robots.txt fetch per origin per TTL."""

    def __init__(
        self,
        fetch: RobotsFetch,
        *,
        ttl_s: float,
        error_ttl_s: float,
        clock: Callable[[], float],
        on_crawl_delay: Callable[[str, float | None], None] | None = None,
    ) -> None:
        self._fetch = fetch
        self.ttl_s = ttl_s
        self.error_ttl_s = error_ttl_s
        self._clock = clock
        self._on_crawl_delay = on_crawl_delay
        self._entries: dict[str, _Entry] = {}
        self._inflight: dict[str, asyncio.Future[_Entry]] = {}

    async def allowed(self, url: str) -> bool:
        origin = origin_of(url)
        entry = self._entries.get(origin)
        if entry is None or entry.expires <= self._clock():
            entry = await self._load(origin)
        return entry.allowed(url)

    async def _load(self, origin: str) -> _Entry:
        pending = self._inflight.get(origin)
        if pending is not None:  # someone is fetching it already: share the answer
            return await asyncio.shield(pending)
        future: asyncio.Future[_Entry] = asyncio.get_running_loop().create_future()
        self._inflight[origin] = future
        try:
            entry = await self._fetch_entry(origin)
            self._entries[origin] = entry
            future.set_result(entry)
            return entry
        except BaseException as exc:
            future.set_exception(exc)
            future.exception()  # mark retrieved: waiters (if any) re-raise it themselves
            raise
        finally:
            del self._inflight[origin]

    async def _fetch_entry(self, origin: str) -> _Entry:
        status, text = await self._fetch(origin + "/robots.txt")
        now = self._clock()
        host = origin.split("://", 1)[1]
        if 200 <= status < 300:
            entry = _Entry(Protego.parse(text[:MAX_ROBOTS_CHARS]), True, now + self.ttl_s)
            if self._on_crawl_delay is not None:
                self._on_crawl_delay(host, entry.crawl_delay())
            return entry
        if 400 <= status < 500:
            return _Entry(None, True, now + self.ttl_s)
        return _Entry(None, False, now + self.error_ttl_s)
