"""Fixtures for the distributed-ledger proofs: a private PostgreSQL schema per test.

Why a schema per test (not a database): creating a schema is cheap, the ledger follows
`search_path` for every table, and dropping it with CASCADE leaves nothing behind even when
a test dies halfway. The URL carries `options=-csearch_path=…`, which psycopg passes to the
server, so `open_ledger` and every `oafetch` child process land in the same schema.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator

import pytest

PG_ADMIN = "postgresql://postgres@127.0.0.1:5432/test"


def pg_schema_url(schema: str) -> str:
    return f"{PG_ADMIN}?options=-csearch_path%3D{schema}"


@pytest.fixture
def pg_url() -> Iterator[str]:
    """A ledger URL pointing at a fresh, empty schema (dropped afterwards)."""
    psycopg = pytest.importorskip("psycopg")
    schema = f"oafetch_t_{uuid.uuid4().hex[:12]}"
    try:
        with psycopg.connect(PG_ADMIN, autocommit=True, connect_timeout=5) as conn:
            conn.execute(f'CREATE SCHEMA "{schema}"')
    except psycopg.OperationalError as exc:
        pytest.fail(f"PostgreSQL at 127.0.0.1:5432 is required for this test: {exc}")
    try:
        yield pg_schema_url(schema)
    finally:
        with psycopg.connect(PG_ADMIN, autocommit=True) as conn:
            conn.execute(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')
