"""robots.txt cache rules (TTL, error TTL, Crawl-delay) and URL safety helpers."""

from __future__ import annotations

import socket
from collections.abc import Callable

import pytest

from oafetch.errors import PolicySkip
from oafetch.net.client import HttpClient, Role
from oafetch.net.robots import RobotsCache
from oafetch.net.urls import is_private_url_async, redact

from .loopback import Loopback

Factory = Callable[..., HttpClient]


class Script:
    """A robots.txt fetcher answering from a script, counting calls (pure unit)."""

    def __init__(self, *answers: tuple[int, str]) -> None:
        self.answers = list(answers)
        self.calls: list[str] = []

    async def __call__(self, url: str) -> tuple[int, str]:
        self.calls.append(url)
        return self.answers.pop(0) if len(self.answers) > 1 else self.answers[0]


async def test_robots_ttl_and_error_ttl() -> None:
    now = [0.0]
    fetch = Script((503, ""), (200, "User-agent: *\nDisallow: /x/\n"))
    robots = RobotsCache(fetch, ttl_s=100, error_ttl_s=10, clock=lambda: now[0])
    assert not await robots.allowed("https://h.example/a")  # 5xx: everything disallowed
    now[0] = 9
    assert not await robots.allowed("https://h.example/a")  # still the cached error
    assert len(fetch.calls) == 1
    now[0] = 11  # the error TTL passed: ask again
    assert await robots.allowed("https://h.example/a")
    assert not await robots.allowed("https://h.example/x/1")
    assert fetch.calls == ["https://h.example/robots.txt"] * 2
    now[0] = 105
    assert await robots.allowed("https://h.example/a")
    assert len(fetch.calls) == 2  # within the 100 s TTL of the second fetch
    now[0] = 112
    await robots.allowed("https://h.example/a")
    assert len(fetch.calls) == 3


async def test_robots_4xx_allows_and_origins_are_separate() -> None:
    fetch = Script((404, ""))
    robots = RobotsCache(fetch, ttl_s=100, error_ttl_s=10, clock=lambda: 0.0)
    assert await robots.allowed("https://a.example/private/x")
    assert await robots.allowed("http://a.example/private/x")
    assert fetch.calls == ["https://a.example/robots.txt", "http://a.example/robots.txt"]


async def test_our_token_is_matched() -> None:
    text = "User-agent: oafetch\nDisallow: /\n\nUser-agent: *\nAllow: /\n"
    robots = RobotsCache(Script((200, text)), ttl_s=1, error_ttl_s=1, clock=lambda: 0.0)
    assert not await robots.allowed("https://a.example/page")


async def test_crawl_delay_feeds_the_limiter(make_client: Factory) -> None:
    with Loopback(robots_body=b"User-agent: *\nCrawl-delay: 1\n") as web:
        client = make_client()
        for i in range(3):
            await client.get(web.url(f"/page/{i}"), role=Role.LANDING)
        await client.get(web.url("/api/1"), role=Role.METADATA)  # APIs: no Crawl-delay
        log = web.requests()
    pages = [r["ts"] for r in log if r["path"].startswith("/page/")]
    assert pages[1] - pages[0] >= 0.95 and pages[2] - pages[1] >= 0.95
    api = next(r["ts"] for r in log if r["path"] == "/api/1")
    assert api - pages[2] < 0.5


async def test_private_detection() -> None:
    assert await is_private_url_async("http://127.0.0.1:8080/x")
    assert await is_private_url_async("http://[::1]/x")
    assert await is_private_url_async("http://10.1.2.3/x")
    assert await is_private_url_async("http://169.254.169.254/latest/meta-data")
    assert await is_private_url_async("http://localhost/x")
    assert await is_private_url_async("http://api.localhost/x")
    assert not await is_private_url_async("http://8.8.8.8/x")
    assert not await is_private_url_async("http://no-such-host.invalid/x")


async def test_private_detection_resolves_names() -> None:
    name = socket.gethostname()
    try:
        addrs = {info[4][0] for info in socket.getaddrinfo(name, None)}
    except OSError:
        pytest.skip("this machine's name does not resolve")
    import ipaddress

    expected = any(ipaddress.ip_address(a).is_private for a in addrs)
    assert await is_private_url_async(f"http://{name}/x") is expected


async def test_redirect_to_private_address_refused_on_the_hop(make_client: Factory) -> None:
    with Loopback() as web:
        client = make_client()
        # Stand-in for a public host (only loopback is reachable here): pin the verdict
        # for the first host as "public", so only the hop's target is judged private.
        client._private[web.host] = (False, float("inf"))
        target = web.url("/ok").replace("127.0.0.1", "localhost")
        with pytest.raises(PolicySkip, match="private"):
            await client.get(web.url(f"/to?url={target}"), role=Role.LANDING, discovered=True)
        assert [r["path"] for r in web.requests()] == ["/robots.txt", f"/to?url={target}"]


def test_redact() -> None:
    assert redact("a me@x.org b KEY123", ["me@x.org", "KEY123", ""]) == "a *** b ***"
