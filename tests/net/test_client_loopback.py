"""The polite client against a real HTTP server on loopback (sockets, timing, headers)."""

from __future__ import annotations

import asyncio
import itertools
import time
from collections.abc import Callable
from pathlib import Path

import pytest

from oafetch.errors import (
    CircuitOpen,
    PolicySkip,
    RateLimited,
    RedirectPathology,
    TransientNetError,
)
from oafetch.net.client import HttpClient, Role
from oafetch.telemetry.events import Event

from .conftest import of_type
from .loopback import Loopback, max_in_window

Factory = Callable[..., HttpClient]


def paths(web: Loopback) -> list[str]:
    return [r["path"] for r in web.requests()]


# --- Retry-After and the per-host gate -----------------------------------------------------


async def test_retry_after_twice_is_honoured_host_wide(
    web: Loopback, make_client: Factory, events: list[Event]
) -> None:
    client = make_client()
    url = web.url("/sequence/k1?codes=429,429,200&retry_after=2")
    main = asyncio.create_task(client.get(url, role=Role.METADATA))
    # As soon as the first 429 is served, another request to the same host (another path,
    # another role) must also wait for the gate.
    while not web.requests():  # noqa: ASYNC110 - polling another thread's log
        await asyncio.sleep(0.01)
    other = await client.get(web.url("/other"), role=Role.ARTIFACT)
    response = await main
    assert response.status_code == 200 and other.status_code == 200

    log = web.requests()
    seq = [r for r in log if r["path"].startswith("/sequence/")]
    assert [r["status"] for r in seq] == [429, 429, 200]
    first_429 = seq[0]["ts"]
    for earlier, later in itertools.pairwise(seq):
        assert later["ts"] - earlier["ts"] >= 1.95
    for r in log:
        if r["path"] in ("/other", "/robots.txt"):
            assert r["ts"] - first_429 >= 1.95, r["path"]
    reqs = [e for e in of_type(events, "http_request") if "/sequence/" in e["url"]]
    assert [e["retry"] for e in reqs] == [0, 1, 2]
    assert reqs[2]["rate_wait_ms"] >= 1900  # the wait at the gate is reported
    assert len(of_type(events, "rate_limited")) == 2


async def test_retry_after_http_date(web: Loopback, make_client: Factory) -> None:
    client = make_client()
    response = await client.get(web.url("/retry-after-date/d1?secs=2"), role=Role.METADATA)
    assert response.status_code == 200
    first, second = web.requests()
    # HTTP-dates have 1-second resolution, so the honoured wait is between 1 and 2 s.
    assert second["ts"] - first["ts"] >= 0.95


async def test_retry_after_beyond_cap_raises_and_keeps_host_closed(
    web: Loopback, make_client: Factory
) -> None:
    client = make_client(retry_after_cap_s=5)
    before = time.time()
    with pytest.raises(RateLimited) as info:
        await client.get(web.url("/sequence/k2?codes=429&retry_after=120"), role=Role.METADATA)
    assert 115 <= info.value.retry_at - before <= 125
    # The host's gate stays closed: the next request is refused without reaching the host.
    with pytest.raises(RateLimited):
        await client.get(web.url("/ok"), role=Role.METADATA)
    assert paths(web) == ["/sequence/k2?codes=429&retry_after=120"]


async def test_5xx_retried_then_transient(web: Loopback, make_client: Factory) -> None:
    client = make_client(max_retries=2, breaker_threshold=10)
    with pytest.raises(TransientNetError) as info:
        await client.get(web.url("/status/503"), role=Role.METADATA)
    assert info.value.status == 503
    assert paths(web) == ["/status/503"] * 3
    ok = await client.get(web.url("/sequence/s1?codes=500,502,200"), role=Role.METADATA)
    assert ok.status_code == 200


async def test_connection_refused_is_transient(make_client: Factory) -> None:
    client = make_client(max_retries=1)
    with Loopback() as gone:
        url = gone.url("/ok")
    with pytest.raises(TransientNetError, match="ConnectError"):
        await client.get(url, role=Role.METADATA)


# --- rate limits ---------------------------------------------------------------------------


async def test_five_per_second_over_100_requests_from_20_tasks(
    web: Loopback, make_client: Factory, events: list[Event]
) -> None:
    client = make_client(rates={"*": "5/s"})
    queue: asyncio.Queue[int] = asyncio.Queue()
    for i in range(100):
        queue.put_nowait(i)

    async def worker() -> None:
        while not queue.empty():
            i = queue.get_nowait()
            response = await client.get(web.url(f"/n/{i}"), role=Role.METADATA)
            assert response.status_code == 200

    await asyncio.gather(*(worker() for _ in range(20)))
    stamps = [r["ts"] for r in web.requests()]
    assert len(stamps) == 100
    assert max_in_window(stamps) <= 6
    assert max(e["rate_wait_ms"] for e in of_type(events, "http_request")) > 1000


async def test_host_concurrency_cap(web: Loopback, make_client: Factory) -> None:
    """At most `host_concurrency` requests to one host are in flight at once."""
    client = make_client(host_concurrency=2)
    inflight = peak = 0
    original = client._client.send

    async def counting_send(*args: object, **kwargs: object) -> object:
        nonlocal inflight, peak
        inflight += 1
        peak = max(peak, inflight)
        try:
            await asyncio.sleep(0.05)
            return await original(*args, **kwargs)  # type: ignore[arg-type]
        finally:
            inflight -= 1

    client._client.send = counting_send  # type: ignore[method-assign]
    await asyncio.gather(*(client.get(web.url(f"/c/{i}"), role=Role.METADATA) for i in range(10)))
    assert peak == 2


# --- robots.txt ----------------------------------------------------------------------------


async def test_robots_disallowed_path_is_never_requested(
    web: Loopback, make_client: Factory
) -> None:
    client = make_client()
    with pytest.raises(PolicySkip, match="robots"):
        await client.get(web.url("/private/paper.pdf"), role=Role.LANDING)
    with pytest.raises(PolicySkip, match="robots"):
        async with client.stream(web.url("/private/x.pdf"), discovered=False):
            pass
    # a redirect into a disallowed path is checked on the hop
    with pytest.raises(PolicySkip, match="robots"):
        await client.get(web.url("/to?url=/private/y"), role=Role.LANDING)
    ok = await client.get(web.url("/public/page"), role=Role.LANDING)
    assert ok.status_code == 200
    seen = paths(web)
    assert not [p for p in seen if p.startswith("/private/")]
    assert seen.count("/robots.txt") == 1  # cached per origin
    # metadata APIs do not consult robots.txt
    api = await client.get(web.url("/private/api"), role=Role.METADATA)
    assert api.status_code == 200


async def test_robots_5xx_means_disallow(make_client: Factory) -> None:
    with Loopback(robots_status=503) as web:
        client = make_client()
        with pytest.raises(PolicySkip, match="robots"):
            await client.get(web.url("/public/page"), role=Role.LANDING)
        assert paths(web) == ["/robots.txt"]


async def test_robots_404_means_allow(make_client: Factory) -> None:
    with Loopback(robots_status=404) as web:
        client = make_client()
        response = await client.get(web.url("/private/anything"), role=Role.LANDING)
        assert response.status_code == 200


async def test_ignore_robots_warns_once(
    web: Loopback, make_client: Factory, capsys: pytest.CaptureFixture[str]
) -> None:
    import oafetch.net.client as client_module

    client_module._warned_ignore_robots = False
    client = make_client(ignore_robots=True)
    make_client(ignore_robots=True)
    response = await client.get(web.url("/private/p"), role=Role.LANDING)
    assert response.status_code == 200
    assert "/robots.txt" not in paths(web)
    assert capsys.readouterr().err.count("robots.txt is being IGNORED") == 1


# --- redirects and private addresses -------------------------------------------------------


async def test_redirects_followed_and_loops_caught(web: Loopback, make_client: Factory) -> None:
    client = make_client(max_redirects=5)
    response = await client.get(web.url("/redirect/3"), role=Role.METADATA)
    assert response.status_code == 200 and response.text == "arrived"
    assert str(response.url).endswith("/redirect/0")
    with pytest.raises(RedirectPathology, match="loop"):
        await client.get(web.url("/redirect-loop"), role=Role.METADATA)
    with pytest.raises(RedirectPathology, match="more than 5"):
        await client.get(web.url("/redirect/9"), role=Role.METADATA)


async def test_private_address_refused_for_discovered_urls(
    web: Loopback, make_client: Factory
) -> None:
    strict = make_client()
    with pytest.raises(PolicySkip, match="private"):
        await strict.get(web.url("/ok"), role=Role.LANDING, discovered=True)
    with pytest.raises(PolicySkip, match="private"):
        async with strict.stream(web.url("/ok").replace("127.0.0.1", "localhost")):
            pass
    assert paths(web) == []
    # configured (not discovered) URLs may be local: e.g. a self-hosted API mirror
    assert (await strict.get(web.url("/ok"), role=Role.METADATA)).status_code == 200
    relaxed = make_client(allow_private_networks=True)
    async with relaxed.stream(web.url("/ok")) as response:
        body = await response.aread()
    assert b"/ok" in body


# --- breaker -------------------------------------------------------------------------------


async def test_breaker_opens_then_probes(
    web: Loopback, make_client: Factory, events: list[Event]
) -> None:
    now = [100.0]
    client = make_client(max_retries=0, breaker_threshold=2, breaker_cooldown_s=30,
                         clock=lambda: now[0])
    for _ in range(2):
        with pytest.raises(TransientNetError):
            await client.get(web.url("/status/500"), role=Role.METADATA)
    with pytest.raises(CircuitOpen):
        await client.get(web.url("/ok"), role=Role.METADATA)
    assert paths(web) == ["/status/500", "/status/500"]
    now[0] += 31
    assert (await client.get(web.url("/ok"), role=Role.METADATA)).status_code == 200
    transitions = [(e["from_state"], e["to_state"]) for e in of_type(events, "breaker_transition")]
    assert transitions == [("closed", "open"), ("open", "half_open"), ("half_open", "closed")]


# --- events, cache, secrets ----------------------------------------------------------------


async def test_every_request_emits_an_event(
    web: Loopback, make_client: Factory, events: list[Event]
) -> None:
    client = make_client()
    await client.get(web.url("/redirect/1"), role=Role.LANDING)
    async with client.stream(web.url("/file.pdf"), discovered=False) as response:
        await response.aread()
    reqs = of_type(events, "http_request")
    assert [(e["url"].split("/", 3)[3], e["status"]) for e in reqs] == [
        ("robots.txt", 200), ("redirect/1", 302), ("redirect/0", 200), ("file.pdf", 200)
    ]
    assert reqs[-1]["role"] == "artifact" and reqs[-1]["bytes"] > 0
    assert {e["host"] for e in reqs} == {web.host}


async def test_metadata_cache_answers_a_rerun(
    web: Loopback, make_client: Factory, events: list[Event], tmp_path: Path
) -> None:
    url = web.url("/works/W1?api_key=SEKRET-KEY-123")
    first = make_client(state_dir=tmp_path)
    a = await first.get(url, role=Role.METADATA)
    await first.aclose()
    second = make_client(state_dir=tmp_path)  # a re-run: a new client on the same folder
    b = await second.get(url, role=Role.METADATA)
    assert a.json() == b.json() == {"path": "/works/W1"}
    assert len(web.requests()) == 1
    assert [e["from_cache"] for e in of_type(events, "http_request")] == [False, True]
    # landing pages and artifacts are never cached
    await second.get(web.url("/public/p"), role=Role.LANDING)
    await second.get(web.url("/public/p"), role=Role.LANDING)
    assert paths(web).count("/public/p") == 2
    stored = b"".join(p.read_bytes() for p in tmp_path.rglob("*") if p.is_file())  # noqa: ASYNC240
    assert b"/works/W1" in stored and b"SEKRET-KEY-123" not in stored


async def test_secrets_never_leak(
    web: Loopback, make_client: Factory, events: list[Event]
) -> None:
    email, key = "secret.person@example.org", "SEKRET-KEY-123"
    client = make_client(mailto=email, max_retries=1, secrets=(key,))
    ok = await client.get(web.url("/ok"), role=Role.METADATA, params={"api_key": key,
                                                                      "mailto": email})
    assert ok.status_code == 200
    assert email in web.requests()[0]["headers"]["User-Agent"]  # the UA does carry it
    errors: list[BaseException] = []
    for target in (f"/status/503?api_key={key}&mailto={email}",
                   f"/sequence/q?codes=429&retry_after=999&api_key={key}&email={email}"):
        with pytest.raises((TransientNetError, RateLimited)) as info:
            await client.get(web.url(target), role=Role.METADATA)
        errors.append(info.value)
    with Loopback() as gone:
        dead = gone.url(f"/x?api_key={key}")
    with pytest.raises(TransientNetError) as info2:
        await client.get(dead, role=Role.METADATA)
    errors.append(info2.value)
    text = " ".join(f"{e} {e.url} {e!r}" for e in errors)
    text += " ".join(repr(e.as_dict()) for e in events)
    assert "/status/503" in text and "http_request" in text and "rate_limited" in text
    assert email not in text and key not in text
