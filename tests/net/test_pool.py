"""PerOriginTransport: one small pool per origin, bounded, over real loopback sockets."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest

from oafetch.net.client import HttpClient
from oafetch.net.pool import PerOriginTransport
from oafetch.net.settings import ClientSettings

from .loopback import Loopback

LIMITS = httpx.Limits(max_connections=10, max_keepalive_connections=10)


@pytest.fixture
def other() -> Iterator[Loopback]:
    with Loopback() as server:
        yield server


def _local_port(response: httpx.Response) -> int:
    stream = response.extensions["network_stream"]
    return int(stream.get_extra_info("client_addr")[1])


async def test_each_origin_gets_its_own_pool_and_keeps_alive(
    web: Loopback, other: Loopback
) -> None:
    transport = PerOriginTransport(limits=LIMITS)
    async with httpx.AsyncClient(transport=transport) as client:
        ports = []
        for _ in range(3):
            r = await client.get(web.url("/works/W1"))
            assert r.json() == {"path": "/works/W1"}
            ports.append(_local_port(r))
        r2 = await client.get(other.url("/works/W2"))
        assert r2.json() == {"path": "/works/W2"}
        assert transport.pool_count == 2
        assert len(set(ports)) == 1  # one connection, reused: keep-alive still works
        assert _local_port(r2) != ports[0]


async def test_least_recently_used_idle_pool_is_closed_at_the_bound(
    web: Loopback, other: Loopback
) -> None:
    transport = PerOriginTransport(limits=LIMITS, max_pools=1)
    async with httpx.AsyncClient(transport=transport) as client:
        first_port = _local_port(await client.get(web.url("/a")))
        await client.get(other.url("/b"))
        assert transport.pool_count == 1
        again = await client.get(web.url("/c"))  # a new pool: a new connection
        assert again.json() == {"path": "/c"}
        assert _local_port(again) != first_port


async def test_a_busy_pool_is_never_closed_under_a_live_response(
    web: Loopback, other: Loopback
) -> None:
    transport = PerOriginTransport(limits=LIMITS, max_pools=1)
    async with httpx.AsyncClient(transport=transport) as client:
        async with client.stream("GET", web.url("/streamed")) as streamed:
            await client.get(other.url("/meanwhile"))
            assert transport.pool_count == 2  # bound exceeded rather than cut the stream
            body = await streamed.aread()
        assert body == b'{"path": "/streamed"}'
        # A third origin (same server, another host name): web's idle pool is closed for it.
        third = other.url("/after").replace("127.0.0.1", "localhost")
        assert (await client.get(third)).json() == {"path": "/after"}
        assert transport.pool_count == 1  # back within the bound once nothing is busy


def test_http_client_uses_it_unless_a_proxy_is_configured(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    for name in ("HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY"):
        monkeypatch.delenv(name.lower(), raising=False)
        monkeypatch.delenv(name, raising=False)
    client = HttpClient(ClientSettings())
    assert isinstance(client._client._transport, PerOriginTransport)
    monkeypatch.setenv("HTTPS_PROXY", "http://127.0.0.1:9")
    proxied = HttpClient(ClientSettings())
    assert not isinstance(proxied._client._transport, PerOriginTransport)
