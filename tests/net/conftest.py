"""Fixtures for the net tests: a real loopback server and a client factory with an event log."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable, Iterator
from typing import Any

import pytest

from oafetch.net.client import HttpClient
from oafetch.net.settings import ClientSettings
from oafetch.telemetry.events import Emitter, Event

from .loopback import Loopback

FAST = {"*": "1000/s"}


@pytest.fixture
def web() -> Iterator[Loopback]:
    with Loopback() as server:
        yield server


@pytest.fixture
def events() -> list[Event]:
    return []


@pytest.fixture
async def make_client(events: list[Event]) -> AsyncIterator[Callable[..., HttpClient]]:
    clients: list[HttpClient] = []
    emitter = Emitter("test-run")
    emitter.add_sink(events.append)

    def factory(**overrides: Any) -> HttpClient:
        values: dict[str, Any] = {"rates": FAST, "backoff_base_s": 0.05, "backoff_max_s": 0.2}
        values.update(overrides)
        client = HttpClient(ClientSettings(**values), emit=emitter.emit)
        clients.append(client)
        return client

    yield factory
    for client in clients:
        await client.aclose()


def of_type(events: list[Event], type_: str) -> list[dict[str, Any]]:
    return [e.fields for e in events if e.type == type_]
