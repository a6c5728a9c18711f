"""Rate limits per (host, role), per-host concurrency caps and Retry-After cool-downs.

Rates are written the way people say them: ``"10/s"``, ``"1/3s"`` (one every three seconds),
``"30/m"``, ``"1000/h"``, ``"50000/d"``, combined with commas (``"5/s,100/h"``).

Keys, most specific first: ``"host.role"``, ``"host"``, ``"*.role"``, ``"*"``. The key that
matched also decides what is *shared*: a key with a role gives every (host, role) its own
bucket; a key without a role gives the host one bucket for all roles (arXiv's "one request
every 3 s" is per host, whatever we ask it for). ``"*"`` means "each host", never "all hosts
together".

Why our own acquire loop instead of ``pyrate_limiter.Limiter``: the Limiter holds a single
lock for all keys while one caller sleeps for a token, so a 3-second arXiv wait would stall
every other host. We use pyrate-limiter's rates, sliding-window algorithm and buckets
(memory, SQLite, Redis) directly and sleep per bucket, asynchronously, with an injected
sleep so tests stay fast and the event loop is never blocked.
"""

from __future__ import annotations

import asyncio
import itertools
import re
import sqlite3
from collections.abc import Awaitable, Callable, Mapping
from inspect import isawaitable
from pathlib import Path
from typing import Any

from pyrate_limiter import (
    InMemoryBucket,
    Rate,
    RateItem,
    RedisBucket,
    SQLiteBucket,
    validate_rate_list,
)
from pyrate_limiter.buckets.sqlite_bucket import Queries
from redis.exceptions import RedisError

from ..errors import ConfigError, RateLimited, TransientNetError
from .urls import strip_credentials

__all__ = [
    "ROLES",
    "HostGates",
    "RateLimiter",
    "RateTable",
    "parse_rate_flag",
    "parse_rates",
]

ROLES = ("metadata", "landing", "artifact")

_UNITS_MS = {"ms": 1, "s": 1000, "m": 60_000, "h": 3_600_000, "d": 86_400_000}
_RATE_RE = re.compile(r"^\s*(\d+)\s*/\s*(\d*(?:\.\d+)?)\s*(ms|s|m|h|d)\s*$")
_LABEL = r"[a-z0-9]([a-z0-9-]*[a-z0-9])?"
_HOST_RE = re.compile(rf"^(\*|{_LABEL}(\.{_LABEL})*(:\d+)?)$")

Sleep = Callable[[float], Awaitable[None]]
Clock = Callable[[], float]


def parse_rates(text: str) -> tuple[Rate, ...]:
    """``"5/s,100/h"`` -> pyrate-limiter Rates (shortest interval first); ConfigError if bad."""
    rates: list[Rate] = []
    for part in text.split(","):
        match = _RATE_RE.match(part)
        if not match:
            raise ConfigError(
                f"bad rate {part.strip()!r}: expected N/s, N/Ns (e.g. 1/3s), N/m, N/h or N/d"
            )
        limit = int(match.group(1))
        every = float(match.group(2)) if match.group(2) else 1.0
        interval_ms = int(every * _UNITS_MS[match.group(3)])
        if limit < 1 or interval_ms < 1:
            raise ConfigError(
                f"bad rate {part.strip()!r}: the count and the period must be positive"
            )
        rates.append(Rate(limit, interval_ms))
    rates.sort(key=lambda r: r.interval)
    for shorter, longer in itertools.pairwise(rates):
        if (
            longer.interval == shorter.interval
            or longer.limit <= shorter.limit
            or longer.limit / longer.interval > shorter.limit / shorter.interval
        ):
            raise ConfigError(
                f"bad rate {text!r}: each longer period needs a larger count and must not "
                "allow more per second than a shorter one (e.g. 5/s,100/h)"
            )
    return tuple(rates)


def _check_key(key: str) -> str:
    key = key.strip().lower()
    host, _, role = key.rpartition(".")
    if role not in ROLES:
        host = key
    if not _HOST_RE.match(host):
        raise ConfigError(
            f"bad rate key {key!r}: expected HOST, HOST.ROLE, * or *.ROLE "
            f"(roles: {', '.join(ROLES)})"
        )
    return key


def parse_rate_flag(flag: str) -> tuple[str, tuple[Rate, ...]]:
    """``--rate 'HOST[.role]=N/s[,M/h]'`` -> (key, rates); ConfigError with a clear message."""
    key, sep, value = flag.partition("=")
    if not sep or not key.strip() or not value.strip():
        raise ConfigError(f"bad --rate {flag!r}: expected HOST[.role]=N/s[,M/h], e.g. '*=1000/s'")
    return _check_key(key), parse_rates(value)


class RateTable:
    """Resolves (host, role) to (bucket id, rates); resolution is memoised per pair."""

    def __init__(self, rates: Mapping[str, str]) -> None:
        self._rates: dict[str, tuple[Rate, ...]] = {
            _check_key(key): parse_rates(value) for key, value in rates.items()
        }
        self._resolved: dict[tuple[str, str], tuple[str, tuple[Rate, ...]] | None] = {}

    def lookup(self, host: str, role: str) -> tuple[str, tuple[Rate, ...]] | None:
        """The bucket id and rates for a request, or None when nothing limits it."""
        pair = (host, role)
        try:
            return self._resolved[pair]
        except KeyError:
            pass
        found: tuple[str, tuple[Rate, ...]] | None = None
        for key, bucket in (
            (f"{host}.{role}", f"{host}.{role}"),
            (host, host),
            (f"*.{role}", f"{host}.{role}"),
            ("*", host),
        ):
            rates = self._rates.get(key)
            if rates is not None:
                found = (bucket, rates)
                break
        self._resolved[pair] = found
        return found


class _SharedSQLiteBucket(SQLiteBucket):
    """SQLiteBucket whose check-and-insert is one IMMEDIATE transaction.

    pyrate-limiter's SQLite bucket counts and inserts in a DEFERRED transaction, so two
    processes can both see room and both insert. BEGIN IMMEDIATE takes the write lock
    before counting, which makes the check-and-insert atomic across processes.
    """

    def put(self, item: RateItem) -> bool:
        with self.lock:
            self.conn.execute("BEGIN IMMEDIATE")
            try:
                admitted = bool(super().put(item))  # commits when it inserts
            except BaseException:
                self.conn.rollback()
                raise
            if not admitted:
                self.conn.rollback()
            return admitted


def _effective_rates(rates: tuple[Rate, ...]) -> tuple[Rate, ...]:
    """The configured rates as the *server* should see them: paced, with a safety margin.

    The limiter is exact on our clock, but requests reach the host with varying latency
    (a cold connection takes longer than a kept-alive one), so a burst admitted at the end
    of one window can land inside the next one on the server's clock. Two defences:
    each window is stretched by 5%, and polite rates (at most 100/s) are paced, i.e.
    "5/s" also means "at most one per 210 ms", so there is no burst to compress.
    """
    stretched = [Rate(r.limit, r.interval + max(1, r.interval // 20)) for r in rates]
    first = stretched[0]
    spacing = -(-first.interval // first.limit)  # ceil
    if first.limit > 1 and spacing >= 10:
        stretched.insert(0, Rate(1, spacing))
    if validate_rate_list(stretched):
        return tuple(stretched)
    return rates


def _table_name(bucket_id: str) -> str:
    return "rl_" + re.sub(r"[^a-z0-9]", "_", bucket_id.lower())


class RateLimiter:
    """Per-bucket sliding-window limits on one backend: memory, SQLite file, or Redis.

    ``backend``: ``"memory"``; ``"sqlite"`` (file under ``state_dir``) or
    ``"sqlite:///abs/path.sqlite"``; ``"redis://host:port/db"``.
    """

    _LEAK_EVERY_S = 5.0

    def __init__(
        self,
        table: RateTable,
        backend: str = "memory",
        *,
        state_dir: Path | None = None,
        key_prefix: str = "oafetch",
        clock: Clock,
        wall_clock: Clock,
        sleep: Sleep,
    ) -> None:
        self.table = table
        self.backend = backend
        self._prefix = key_prefix
        self._sleep = sleep
        self._buckets: dict[str, Any] = {}
        self._last_leak: dict[str, float] = {}
        self._conn: sqlite3.Connection | None = None
        self._redis: Any = None
        self._crawl_delay: dict[str, tuple[Rate, ...]] = {}
        if backend == "memory":
            self._now = clock
        elif backend == "sqlite" or backend.startswith("sqlite:"):
            # Timestamps are shared between processes, so they must be wall-clock time.
            self._now = wall_clock
            self._sqlite_path = self._sqlite_file(backend, state_dir)
        elif backend.startswith(("redis://", "rediss://", "unix://")):
            self._now = wall_clock
        else:
            raise ConfigError(
                f"unknown rate-limit backend {strip_credentials(backend)!r}: "
                "use memory, sqlite, sqlite:///path or redis://host:port"
            )

    @staticmethod
    def _sqlite_file(backend: str, state_dir: Path | None) -> Path:
        if backend.startswith("sqlite:///"):
            return Path(backend.removeprefix("sqlite:///")).expanduser()
        if backend.startswith("sqlite://"):
            raise ConfigError(f"bad rate-limit backend {backend!r}: use sqlite:///path/to/file")
        if state_dir is None:
            raise ConfigError("the sqlite rate-limit backend needs an output folder or a path")
        return state_dir / "ratelimit.sqlite"

    def set_crawl_delay(self, host: str, seconds: float | None) -> None:
        """robots.txt Crawl-delay for a host: one landing/artifact request per `seconds`."""
        if seconds is None or seconds <= 0:
            self._crawl_delay.pop(host, None)
        else:
            self._crawl_delay[host] = (Rate(1, max(1, int(seconds * 1000))),)

    async def acquire(self, host: str, role: str) -> float:
        """Wait (asynchronously) for a token; return the seconds spent waiting."""
        waited = 0.0
        found = self.table.lookup(host, role)
        if found is not None:
            waited += await self._take(found[0], found[1])
        if role != "metadata" and self._crawl_delay:
            delay = self._crawl_delay.get(host)
            if delay is not None:
                waited += await self._take(f"{host}.robots", delay)
        return waited

    async def _take(self, bucket_id: str, rates: tuple[Rate, ...]) -> float:
        bucket = self._buckets.get(bucket_id)
        if bucket is None:
            bucket = await self._make(bucket_id, rates)
        waited = 0.0
        while True:
            now = self._now()
            item = RateItem(bucket_id, int(now * 1000))
            try:
                decision = bucket.put_decision(item)
                if isawaitable(decision):
                    decision = await decision
            except (RedisError, sqlite3.Error, OSError) as exc:
                raise TransientNetError(
                    f"the rate-limit backend failed: {type(exc).__name__}"
                ) from None
            if decision.allowed:
                if now - self._last_leak.get(bucket_id, 0.0) > self._LEAK_EVERY_S:
                    await self._leak(bucket, bucket_id, now)
                return waited
            wait_ms = decision.retry_after_ms
            if wait_ms is None:
                wait_ms = bucket.waiting(item)
                if isawaitable(wait_ms):
                    wait_ms = await wait_ms
            if wait_ms < 0:  # cannot happen with weight 1 and limit >= 1
                raise ConfigError(f"rate limit for {bucket_id} can never admit a request")
            # A few ms of slack: the window edge is inclusive on some backends.
            pause = max(wait_ms, 1) / 1000 + 0.002
            await self._sleep(pause)
            waited += pause

    async def _leak(self, bucket: Any, bucket_id: str, now: float) -> None:
        self._last_leak[bucket_id] = now
        result = bucket.leak(int(now * 1000))
        if isawaitable(result):
            await result

    async def _make(self, bucket_id: str, configured: tuple[Rate, ...]) -> Any:
        rates = _effective_rates(configured)
        if self.backend == "memory":
            bucket: Any = InMemoryBucket(list(rates))
        elif self.backend.startswith("sqlite"):
            conn = self._sqlite_conn()
            table = _table_name(bucket_id)
            conn.execute(Queries.CREATE_BUCKET_TABLE.format(table=table))
            conn.execute(
                Queries.CREATE_INDEX_ON_TIMESTAMP.format(
                    index_name=f"idx_{table}_ts", table_name=table
                )
            )
            conn.commit()
            bucket = _SharedSQLiteBucket(list(rates), conn, table=table)
        else:
            bucket = await self._redis_bucket(bucket_id, rates)
        # Another task may have built the same bucket while we awaited; keep the first.
        return self._buckets.setdefault(bucket_id, bucket)

    def _sqlite_conn(self) -> sqlite3.Connection:
        if self._conn is None:
            self._sqlite_path.parent.mkdir(parents=True, exist_ok=True)
            try:
                conn = sqlite3.connect(
                    self._sqlite_path,
                    timeout=30,
                    isolation_level="DEFERRED",
                    check_same_thread=False,
                )
                conn.execute("PRAGMA journal_mode=WAL")
                conn.execute("PRAGMA synchronous=NORMAL")
            except sqlite3.Error as exc:
                raise ConfigError(
                    f"cannot open the rate-limit database {self._sqlite_path}: {exc}"
                ) from None
            self._conn = conn
        return self._conn

    async def _redis_bucket(self, bucket_id: str, rates: tuple[Rate, ...]) -> Any:
        import redis.asyncio as aioredis

        if self._redis is None:
            self._redis = aioredis.Redis.from_url(self.backend)
        try:
            key = f"{self._prefix}:rl:{bucket_id}"
            return await RedisBucket.init(list(rates), self._redis, key)
        except (RedisError, OSError) as exc:
            raise ConfigError(
                f"cannot reach the Redis rate-limit backend {strip_credentials(self.backend)}: "
                f"{type(exc).__name__}"
            ) from None

    async def aclose(self) -> None:
        if self._conn is not None:
            self._conn.close()
            self._conn = None
        if self._redis is not None:
            await self._redis.aclose()
            self._redis = None
        self._buckets.clear()


class HostGates:
    """Per-host concurrency caps and the per-host "not before" gate of Retry-After.

    The gate is shared by every role: when a host says "come back in 2 s", no request of
    ours reaches it before then. A wait longer than `cap_s` is not slept through but
    raised as RateLimited so the job can park in RETRY_WAIT instead of holding a worker.
    """

    def __init__(self, concurrency: int, cap_s: float, *, clock: Clock, wall_clock: Clock,
                 sleep: Sleep) -> None:
        self.concurrency = concurrency
        self.cap_s = cap_s
        self._clock = clock
        self._wall = wall_clock
        self._sleep = sleep
        self._sems: dict[str, asyncio.Semaphore] = {}
        self._not_before: dict[str, float] = {}

    def semaphore(self, host: str) -> asyncio.Semaphore:
        sem = self._sems.get(host)
        if sem is None:
            sem = self._sems[host] = asyncio.Semaphore(self.concurrency)
        return sem

    def close_until(self, host: str, seconds: float) -> None:
        """Keep every request to `host` back for `seconds` (never shortens a gate)."""
        until = self._clock() + seconds
        if until > self._not_before.get(host, 0.0):
            self._not_before[host] = until

    def remaining(self, host: str) -> float:
        until = self._not_before.get(host)
        if until is None:
            return 0.0
        left = until - self._clock()
        if left <= 0:
            del self._not_before[host]
            return 0.0
        return left

    async def wait(self, host: str, url: str) -> float:
        """Sleep until the host's gate opens; RateLimited if that is beyond the cap."""
        waited = 0.0
        while True:
            left = self.remaining(host)
            if left <= 0:
                return waited
            if left > self.cap_s:
                raise RateLimited(
                    f"{host} asked us to wait {left:.0f}s (more than the {self.cap_s:.0f}s cap)",
                    url=url,
                    retry_at=self._wall() + left,
                )
            await self._sleep(left)
            waited += left
