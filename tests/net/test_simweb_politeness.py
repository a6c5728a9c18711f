"""The polite client against the shared simulated web (a real separate server process)."""

from __future__ import annotations

import itertools
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from oafetch.errors import PolicySkip, RedirectPathology
from oafetch.net.client import HttpClient, Role
from oafetch.simweb import SimWeb
from oafetch.telemetry.events import Event

from .conftest import of_type

Factory = Callable[..., HttpClient]


@pytest.fixture(scope="module")
def sim(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SimWeb]:
    with SimWeb(tmp_path_factory.mktemp("simweb"), works=1, profile="slice") as web:
        yield web


def logged(sim: SimWeb, host: str, prefix: str = "") -> list[dict[str, object]]:
    return [r for r in sim.requests() if r["host"] == host and str(r["path"]).startswith(prefix)]


async def test_429_retry_after_twice_no_early_request(sim: SimWeb, make_client: Factory) -> None:
    client = make_client(allow_private_networks=True)
    response = await client.get(
        sim.url("faults", "/sequence/net-k1?codes=429,429,200&retry_after=2"), role=Role.METADATA
    )
    assert response.status_code == 200
    assert response.content.startswith(b"%PDF")
    seq = logged(sim, "faults", "/sequence/net-k1")
    assert [r["status"] for r in seq] == [429, 429, 200]
    for earlier, later in itertools.pairwise(seq):
        assert float(later["ts"]) - float(earlier["ts"]) >= 1.95  # type: ignore[arg-type]


async def test_retry_after_http_date(sim: SimWeb, make_client: Factory) -> None:
    client = make_client()
    response = await client.get(sim.url("faults", "/retry-after-date/net-d1?secs=2"),
                                role=Role.METADATA)
    assert response.status_code == 200
    first, second = logged(sim, "faults", "/retry-after-date/net-d1")
    assert float(second["ts"]) - float(first["ts"]) >= 0.95  # type: ignore[arg-type]


async def test_robots_disallowed_path_never_requested(sim: SimWeb, make_client: Factory) -> None:
    client = make_client()
    with pytest.raises(PolicySkip, match="robots"):
        await client.get(sim.url("publisher1", "/private/secret.html"), role=Role.LANDING)
    assert logged(sim, "publisher1", "/robots.txt")
    assert not logged(sim, "publisher1", "/private/")


async def test_robots_5xx_disallows(tmp_path: Path, make_client: Factory) -> None:
    with SimWeb(tmp_path / "sim5xx", works=1, profile="slice", robots_5xx=True) as web:
        client = make_client(allow_private_networks=True)
        with pytest.raises(PolicySkip, match="robots"):
            async with client.stream(web.url("faults", "/pdf?size=2000")):
                pass
        assert [r["path"] for r in web.requests()] == ["/robots.txt"]


async def test_redirects(sim: SimWeb, make_client: Factory) -> None:
    client = make_client(allow_private_networks=True)
    with pytest.raises(RedirectPathology, match="loop"):
        await client.get(sim.url("faults", "/redirect-loop"), role=Role.LANDING)
    async with client.stream(sim.url("faults", "/redirect/3")) as response:
        body = await response.aread()
    assert body.startswith(b"%PDF") and str(response.url).endswith("/redirect/0")


async def test_gzip_is_decoded_and_ua_identifies_us(
    sim: SimWeb, make_client: Factory, events: list[Event]
) -> None:
    email = "librarian@example.edu"
    client = make_client(mailto=email)
    response = await client.get(sim.url("faults", "/gzip?size=5000"), role=Role.METADATA)
    assert len(response.content) == 5000
    (entry,) = logged(sim, "faults", "/gzip")
    assert f"mailto:{email}" in str(entry["ua"])
    event = of_type(events, "http_request")[-1]
    assert 0 < event["bytes"] < 5000  # wire bytes: the compressed size
    assert email not in repr([e.as_dict() for e in events])
