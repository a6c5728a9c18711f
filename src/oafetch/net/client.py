"""The one polite HTTP client every source and download goes through (DESIGN §6).

One shared ``httpx.AsyncClient`` (keep-alive pool, trust_env for SSL_CERT_FILE and
HTTP(S)_PROXY) behind two methods, ``get`` (small bodies: APIs, landing pages) and
``stream`` (downloads). Every request, on every hop and every retry, passes the same
sequence, cheapest check first:

    scheme → private-address policy (discovered URLs) → robots.txt (landing/artifact)
    → circuit breaker → host "not before" gate (Retry-After) → host concurrency slot
    → rate-limit token → send

Redirects are followed here, not by httpx, so that each hop is checked again (a public
landing page must not bounce us to 127.0.0.1 or into a robots-disallowed path) and loops are
caught. Metadata answers are served from the cache before any of that, so a re-run spends
no API quota. Secrets (the contact email, API keys) never leave in events or messages: URLs
are credential-stripped and messages redacted; the User-Agent is a header, never logged.
"""

from __future__ import annotations

import copy
import logging
import sys
import urllib.request
from collections.abc import AsyncIterator, Callable, Mapping
from contextlib import asynccontextmanager
from enum import StrEnum
from typing import Any

import httpx

from .. import __version__
from ..errors import (
    CircuitOpen,
    PolicySkip,
    RateLimited,
    RedirectPathology,
    TransientNetError,
)
from ..telemetry.events import EventType
from .breaker import Breaker, BreakerState
from .cache import MetadataCache
from .politeness import HostGates, RateLimiter, RateTable
from .pool import PerOriginTransport
from .retry import Action, RetryPolicy, is_retryable_status, retry_after_from_headers
from .robots import RobotsCache
from .settings import ClientSettings
from .urls import is_private_url_async, redact, strip_credentials

__all__ = ["ACCEPT", "ClientSettings", "HttpClient", "Role", "user_agent"]

PROJECT_URL = "https://github.com/oafetch/oafetch"
log = logging.getLogger("oafetch.net")


class Role(StrEnum):
    METADATA = "metadata"
    LANDING = "landing"
    ARTIFACT = "artifact"


ACCEPT = {
    Role.METADATA: "application/json, application/xml;q=0.9, */*;q=0.5",
    Role.LANDING: "text/html, application/xhtml+xml;q=0.9, */*;q=0.5",
    Role.ARTIFACT: "application/pdf, application/xml;q=0.9, text/html;q=0.5, */*;q=0.3",
}

_REDIRECTS = frozenset({301, 302, 303, 307, 308})
_ROBOTS_MAX_REDIRECTS = 5  # RFC 9309 §2.3.1.2
_PRIVATE_TTL_S = 60.0
_ROBOTS_RETRY = RetryPolicy(total=0)
_warned_ignore_robots = False


def user_agent(mailto: str | None) -> str:
    """An identifying UA; polite pools (OpenAlex, Crossref) key on the mailto."""
    base = f"oafetch/{__version__} (+{PROJECT_URL}"
    return f"{base}; mailto:{mailto})" if mailto else f"{base})"


def _noop(*args: Any, **kwargs: Any) -> None:
    return None


def _warn_ignore_robots() -> None:
    global _warned_ignore_robots
    if _warned_ignore_robots:
        return
    _warned_ignore_robots = True
    message = (
        "WARNING: robots.txt is being IGNORED (--ignore-robots). Only do this for sites "
        "you operate or have permission to crawl."
    )
    # stderr, not the log: it must be seen even when logging is not configured.
    print(f"oafetch: {message}", file=sys.stderr)
    log.debug("ignore_robots is on")


def _env_proxies() -> bool:
    """Whether the environment names a proxy httpx would use (HTTP(S)_PROXY, ALL_PROXY)."""
    found = urllib.request.getproxies()
    return any(found.get(k) for k in ("http", "https", "all"))


def _host(url: httpx.URL) -> str:
    port = url.port
    return f"{url.host}:{port}" if port is not None else url.host


class HttpClient:
    """Wraps one `httpx.AsyncClient`; `transport` is swappable for unit tests."""

    def __init__(
        self,
        settings: ClientSettings,
        *,
        transport: httpx.AsyncBaseTransport | None = None,
        emit: Callable[..., None] | None = None,
    ) -> None:
        s = self.settings = settings
        self._emit = emit or _noop
        self._clock = s.clock
        self._wall = s.wall_clock
        self._sleep = s.sleep
        timeout = httpx.Timeout(
            connect=s.connect_timeout_s, read=s.read_timeout_s, write=s.read_timeout_s, pool=None
        )
        limits = httpx.Limits(
            max_connections=s.max_connections, max_keepalive_connections=s.max_connections
        )
        if transport is None and not _env_proxies():
            # One small pool per origin: httpcore's pool scan is O(n²) in its size (pool.py).
            # With a *_PROXY variable set, every request goes through the proxy anyway, so
            # httpx keeps its own transports (and its proxy handling).
            transport = PerOriginTransport(limits=limits)
        # trust_env stays True (the default) so SSL_CERT_FILE and *_PROXY keep working.
        self._client = httpx.AsyncClient(
            transport=transport,
            timeout=timeout,
            limits=limits,
            follow_redirects=False,
            headers={"User-Agent": user_agent(s.mailto)},
        )
        self._limiter = RateLimiter(
            RateTable(s.rates),
            s.rate_backend,
            state_dir=s.state_dir,
            key_prefix=s.rate_key_prefix,
            clock=s.clock,
            wall_clock=s.wall_clock,
            sleep=s.sleep,
        )
        self._gates = HostGates(
            s.host_concurrency,
            s.retry_after_cap_s,
            clock=s.clock,
            wall_clock=s.wall_clock,
            sleep=s.sleep,
        )
        self._robots = RobotsCache(
            self._fetch_robots,
            ttl_s=s.robots_ttl_s,
            error_ttl_s=s.robots_error_ttl_s,
            clock=s.clock,
            on_crawl_delay=self._limiter.set_crawl_delay,
        )
        self._cache: MetadataCache | None = None
        if s.metadata_cache and s.state_dir is not None:
            self._cache = MetadataCache(
                s.state_dir / "http-cache.sqlite", ttl_s=s.metadata_cache_ttl_s
            )
        self._retry = RetryPolicy(
            total=s.max_retries,
            backoff_base_s=s.backoff_base_s,
            backoff_max_s=s.backoff_max_s,
            retry_after_cap_s=s.retry_after_cap_s,
        )
        self._breakers: dict[str, Breaker] = {}
        self._private: dict[str, tuple[bool, float]] = {}
        self._secrets = tuple(x for x in (s.mailto, *s.secrets) if x)
        self._accept = {role: {"Accept": accept} for role, accept in ACCEPT.items()}
        if s.ignore_robots:
            _warn_ignore_robots()

    # ------------------------------------------------------------------ public surface

    _job_id: int | None = None

    def for_job(self, job_id: int | None) -> HttpClient:
        """A view of this client whose requests are tagged with `job_id` in their events.

        It shares everything (connections, limits, gates, breakers, cache) with this client:
        only the default `job_id` differs, so sources and downloads need not pass it along.
        """
        if job_id is None or job_id == self._job_id:
            return self
        view = copy.copy(self)
        view._job_id = job_id
        return view

    async def get(
        self,
        url: str,
        *,
        role: Role,
        params: Mapping[str, Any] | None = None,
        headers: dict[str, str] | None = None,
        discovered: bool = False,
        job_id: int | None = None,
    ) -> httpx.Response:
        """GET and read the whole (small) body: metadata APIs and landing pages.

        Returns any final response (2xx, 4xx, 501…); raises NetError subclasses for what
        politeness refused or what retries could not fix.
        """
        role = Role(role)
        job_id = self._job_id if job_id is None else job_id
        target = self._url(url, params)
        stripped = strip_credentials(str(target))
        partial = headers is not None and any(k.lower() == "range" for k in headers)
        cache = self._cache if role is Role.METADATA and not partial else None
        if cache is not None:
            started = self._clock()
            hit = await cache.get(stripped)
            if hit is not None:
                self._emit(
                    EventType.HTTP_REQUEST,
                    job_id,
                    url=stripped,
                    host=_host(target),
                    role=role.value,
                    status=hit.status_code,
                    bytes=len(hit.content),
                    ms=round((self._clock() - started) * 1000, 2),
                    from_cache=True,
                    retry=0,
                    rate_wait_ms=0.0,
                )
                return hit
        response, _ = await self._fetch(target, role, headers, discovered, job_id, streaming=False)
        if cache is not None:
            await cache.put(stripped, response)
        return response

    @asynccontextmanager
    async def stream(
        self,
        url: str,
        *,
        role: Role = Role.ARTIFACT,
        headers: dict[str, str] | None = None,
        discovered: bool = True,
        job_id: int | None = None,
    ) -> AsyncIterator[httpx.Response]:
        """Open a streamed GET; the caller reads `aiter_raw`/`aiter_bytes` under its deadline.

        The host's concurrency slot is held until the block exits.
        """
        role = Role(role)
        job_id = self._job_id if job_id is None else job_id
        target = self._url(url, None)
        response, done = await self._fetch(
            target, role, headers, discovered, job_id, streaming=True
        )
        try:
            yield response
        except httpx.TransportError as exc:
            raise TransientNetError(self._describe(exc, target), url=str(response.url)) from None
        finally:
            await response.aclose()
            done()

    async def aclose(self) -> None:
        await self._client.aclose()
        await self._limiter.aclose()
        if self._cache is not None:
            await self._cache.aclose()

    def cool_down(self, url: str, seconds: float) -> None:
        """Hold every request to the URL's host back for `seconds` (e.g. after a bot wall)."""
        if seconds > 0:
            self._gates.close_until(_host(httpx.URL(url)), seconds)

    def breaker_state(self, host: str) -> BreakerState:
        breaker = self._breakers.get(host)
        return breaker.state if breaker is not None else BreakerState.CLOSED

    # ------------------------------------------------------------------ the request loop

    def _url(self, url: str, params: Mapping[str, Any] | None) -> httpx.URL:
        try:
            target = httpx.URL(url)
            if params:
                target = target.copy_merge_params(dict(params))
        except (httpx.InvalidURL, TypeError, ValueError):
            raise PolicySkip("not a valid URL", url=strip_credentials(str(url))) from None
        return target

    def _describe(self, exc: BaseException, url: httpx.URL) -> str:
        return redact(f"{type(exc).__name__} from {_host(url)}: {exc}", self._secrets)

    async def _fetch(
        self,
        target: httpx.URL,
        role: Role,
        headers: dict[str, str] | None,
        discovered: bool,
        job_id: int | None,
        *,
        streaming: bool,
        check_robots: bool = True,
        policy: RetryPolicy | None = None,
        max_redirects: int | None = None,
    ) -> tuple[httpx.Response, Callable[[], None]]:
        """Retries and redirects around `_attempt`; returns the final response.

        With `streaming`, the body is unread and the returned callable must be called when
        the caller is done (it frees the host slot and emits the request event).
        """
        policy = policy or self._retry
        limit = self.settings.max_redirects if max_redirects is None else max_redirects
        hdrs = self._accept[role] if not headers else {**self._accept[role], **headers}
        current = target
        seen = {str(current)}
        hops = 0
        while True:
            host = _host(current)
            url_text = str(current)
            await self._admit(current, host, url_text, role, discovered, check_robots)
            try:
                response, done = await self._attempt(
                    current, host, role, hdrs, policy.retries, job_id, streaming
                )
            except (
                httpx.TimeoutException,
                httpx.NetworkError,
                httpx.RemoteProtocolError,
                httpx.ProxyError,
            ) as exc:
                plan = policy.plan(error=type(exc).__name__)
                if plan.action is not Action.RETRY:
                    raise TransientNetError(
                        self._describe(exc, current) + f" (after {policy.retries} retries)",
                        url=strip_credentials(url_text),
                    ) from None
                policy = plan.policy
                await self._sleep(plan.delay_s)
                continue
            except httpx.TransportError as exc:  # UnsupportedProtocol and the like
                raise PolicySkip(
                    self._describe(exc, current), url=strip_credentials(url_text)
                ) from None

            status = response.status_code
            if status in _REDIRECTS and "location" in response.headers:
                location = response.headers["location"]
                await response.aclose()
                done()
                hops += 1
                if hops > limit:
                    raise RedirectPathology(
                        f"more than {limit} redirects", url=strip_credentials(str(target))
                    )
                try:
                    current = current.join(location)
                except httpx.InvalidURL:
                    raise RedirectPathology(
                        "redirect to an invalid URL", url=strip_credentials(url_text)
                    ) from None
                if str(current) in seen:
                    raise RedirectPathology(
                        "redirect loop", url=strip_credentials(str(target)), status=status
                    )
                seen.add(str(current))
                # A configured endpoint that sends us to another host (doi.org -> publisher)
                # has handed us a discovered URL: the private-address policy applies from here.
                if _host(current) != _host(target):
                    discovered = True
                continue

            if not is_retryable_status(status):
                return response, done

            wait = retry_after_from_headers(response.headers, now=self._wall())
            await response.aclose()
            done()
            plan = policy.plan(status=status, retry_after_s=wait)
            if status == 429 or plan.server_asked:
                self._emit(
                    EventType.RATE_LIMITED,
                    job_id,
                    url=strip_credentials(url_text),
                    host=host,
                    role=role.value,
                    status=status,
                    retry_after_s=wait,
                    action=plan.action.value,
                )
            if plan.action is Action.RATE_LIMITED:
                self._gates.close_until(host, plan.delay_s)
                raise RateLimited(
                    f"HTTP {status} from {host}: asked to wait {plan.delay_s:.0f}s",
                    url=strip_credentials(url_text),
                    status=status,
                    retry_at=self._wall() + plan.delay_s,
                )
            if plan.action is Action.GIVE_UP:
                raise TransientNetError(
                    f"HTTP {status} from {host} after {policy.retries} retries",
                    url=strip_credentials(url_text),
                    status=status,
                )
            policy = plan.policy
            if status == 429 or plan.server_asked:
                # A host-wide cool-down: the gate holds back every request to this host,
                # including this one (the next `_attempt` waits at the gate).
                self._gates.close_until(host, plan.delay_s)
            else:
                await self._sleep(plan.delay_s)

    async def _admit(
        self,
        url: httpx.URL,
        host: str,
        url_text: str,
        role: Role,
        discovered: bool,
        check_robots: bool,
    ) -> None:
        """Policy checks that need no token: scheme, private addresses, robots.txt."""
        if url.scheme not in ("http", "https"):
            raise PolicySkip(
                f"unsupported URL scheme {url.scheme!r}", url=strip_credentials(url_text)
            )
        if discovered and not self.settings.allow_private_networks:
            cached = self._private.get(host)
            now = self._clock()
            if cached is None or cached[1] <= now:
                cached = (await is_private_url_async(url_text), now + _PRIVATE_TTL_S)
                self._private[host] = cached
            if cached[0]:
                raise PolicySkip(
                    "refusing a private or loopback address found in discovered content "
                    "(use --allow-private-networks to permit it)",
                    url=strip_credentials(url_text),
                )
        if (
            check_robots
            and role is not Role.METADATA
            and not self.settings.ignore_robots
            and not await self._robots.allowed(url_text)
        ):
            raise PolicySkip("robots.txt disallows this URL", url=strip_credentials(url_text))

    def _breaker(self, host: str) -> Breaker:
        breaker = self._breakers.get(host)
        if breaker is None:

            def report(old: BreakerState, new: BreakerState, failures: int) -> None:
                self._emit(
                    EventType.BREAKER_TRANSITION,
                    None,
                    host=host,
                    from_state=old.value,
                    to_state=new.value,
                    failures=failures,
                )

            breaker = self._breakers[host] = Breaker(
                self.settings.breaker_threshold,
                self.settings.breaker_cooldown_s,
                clock=self._clock,
                on_transition=report,
            )
        return breaker

    async def _attempt(
        self,
        url: httpx.URL,
        host: str,
        role: Role,
        headers: dict[str, str],
        retry: int,
        job_id: int | None,
        streaming: bool,
    ) -> tuple[httpx.Response, Callable[[], None]]:
        """One request: breaker, gate, slot, token, send. Emits `http_request`."""
        breaker = self._breaker(host)
        if not breaker.allow():
            raise CircuitOpen(
                f"{host} failed {breaker.failures} times in a row; resting for its cool-down",
                url=strip_credentials(str(url)),
                until=breaker.until,
            )
        verdict = False
        try:
            waited = await self._gates.wait(host, strip_credentials(str(url)))
            slot = self._gates.semaphore(host)
            await slot.acquire()
            try:
                waited += await self._limiter.acquire(host, role.value)
                while self._gates.remaining(host) > 0:
                    # The gate closed (429, bot wall) while we waited for the token: wait it
                    # out, then take a fresh token, so requests held at the gate do not all
                    # leave in one burst when it opens.
                    waited += await self._gates.wait(host, strip_credentials(str(url)))
                    waited += await self._limiter.acquire(host, role.value)
                started = self._clock()
                try:
                    response = await self._client.send(
                        self._client.build_request("GET", url, headers=headers), stream=True
                    )
                    if not streaming and response.status_code not in _REDIRECTS:
                        await response.aread()
                except httpx.TransportError as exc:
                    if not isinstance(exc, httpx.UnsupportedProtocol):
                        verdict = True
                        breaker.failure()
                    self._emit_request(
                        url,
                        host,
                        role,
                        None,
                        0,
                        started,
                        retry,
                        waited,
                        job_id,
                        error=type(exc).__name__,
                    )
                    raise
            except BaseException:
                slot.release()
                raise
        except BaseException:
            if not verdict:  # cancelled, or stopped at the gate: no verdict on the host
                breaker.abandon()
            raise
        status = response.status_code
        if status >= 500 and is_retryable_status(status):
            breaker.failure()
        else:
            breaker.success()
        final = not (status in _REDIRECTS or is_retryable_status(status))
        if streaming and final:

            def done() -> None:
                slot.release()
                self._emit_request(
                    url,
                    host,
                    role,
                    status,
                    response.num_bytes_downloaded,
                    started,
                    retry,
                    waited,
                    job_id,
                )

            return response, done
        slot.release()
        self._emit_request(
            url, host, role, status, response.num_bytes_downloaded, started, retry, waited, job_id
        )
        return response, _noop

    def _emit_request(
        self,
        url: httpx.URL,
        host: str,
        role: Role,
        status: int | None,
        size: int,
        started: float,
        retry: int,
        waited: float,
        job_id: int | None,
        **extra: Any,
    ) -> None:
        self._emit(
            EventType.HTTP_REQUEST,
            job_id,
            url=strip_credentials(str(url)),
            host=host,
            role=role.value,
            status=status,
            bytes=size,
            ms=round((self._clock() - started) * 1000, 2),
            from_cache=False,
            retry=retry,
            rate_wait_ms=round(waited * 1000, 2),
            **extra,
        )

    async def _fetch_robots(self, robots_url: str) -> tuple[int, str]:
        """robots.txt through the same politeness (limits, gate, breaker), no retries."""
        try:
            response, _ = await self._fetch(
                httpx.URL(robots_url),
                Role.LANDING,
                {"Accept": "text/plain, */*;q=0.5"},
                False,
                None,
                streaming=False,
                check_robots=False,
                policy=_ROBOTS_RETRY,
                max_redirects=_ROBOTS_MAX_REDIRECTS,
            )
        except RedirectPathology:
            return 404, ""  # RFC 9309: too many redirects = unavailable = allow
        except (TransientNetError, CircuitOpen):
            return 0, ""
        if response.status_code >= 300:
            return response.status_code, ""
        return response.status_code, response.text
