"""Ledger fixtures: every test here runs against a SQLite file AND the local PostgreSQL.

PostgreSQL isolation: each test gets a fresh schema `oafetch_test_<uuid>` in database
`test`, selected through the connection's `options=-csearch_path=…`, dropped afterwards.
Time is a `FakeClock` injected into both backends, so lease expiry is tested without
sleeping and identically on both.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

import psycopg
import pytest

from oafetch.ledger import Ledger, open_ledger

PG_BASE = "postgresql://postgres@127.0.0.1:5432/test"


class FakeClock:
    """A settable wall clock (UNIX seconds) shared by every ledger of one test."""

    def __init__(self, start: float = 1_800_000_000.0) -> None:
        self.t = start

    def __call__(self) -> float:
        return self.t

    def advance(self, seconds: float) -> None:
        self.t += seconds


@pytest.fixture(scope="session")
def pg_available() -> None:
    try:
        with psycopg.connect(PG_BASE, connect_timeout=3):
            pass
    except psycopg.Error as exc:
        pytest.skip(f"PostgreSQL at 127.0.0.1:5432 (db test) unreachable: {exc}")


@pytest.fixture
def pg_url(pg_available: None) -> Iterator[str]:
    """A URL whose search_path is a fresh, empty schema."""
    schema = f"oafetch_test_{uuid.uuid4().hex[:16]}"
    with psycopg.connect(PG_BASE, autocommit=True) as conn:
        conn.execute(f"CREATE SCHEMA {schema}")
    try:
        yield f"{PG_BASE}?options=-csearch_path%3D{schema}"
    finally:
        with psycopg.connect(PG_BASE, autocommit=True) as conn:
            conn.execute(f"DROP SCHEMA {schema} CASCADE")


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def target(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """Where the ledger lives: a SQLite file path or a PostgreSQL URL (fresh schema)."""
    if request.param == "sqlite":
        return str(tmp_path / "ledger.db")
    url: str = request.getfixturevalue("pg_url")
    return url


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def make_ledger(target: str, clock: FakeClock) -> Iterator[Callable[..., Ledger]]:
    """Open (and migrate) another ledger on the same database — a second worker."""
    opened: list[Ledger] = []

    def make(*, fake_clock: bool = True, migrate: bool = True) -> Ledger:
        ledger = open_ledger(target, clock=clock if fake_clock else None, migrate=migrate)
        opened.append(ledger)
        return ledger

    yield make
    for ledger in opened:
        ledger.close()


@pytest.fixture
def ledger(make_ledger: Callable[..., Ledger]) -> Ledger:
    return make_ledger()
