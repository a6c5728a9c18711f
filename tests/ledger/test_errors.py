"""Unusable ledgers fail fast with one line that says what is wrong and what to do."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from oafetch.errors import LedgerUnavailable
from oafetch.ledger import is_postgres_url, open_ledger
from oafetch.ledger.postgres import PostgresLedger
from oafetch.ledger.sqlite import SqliteLedger


@pytest.mark.postgres
def test_postgres_refused_names_host_port_and_hides_password() -> None:
    with pytest.raises(LedgerUnavailable) as info:
        open_ledger("postgresql://postgres:s3cr3t-pw@127.0.0.1:1/test")
    msg = str(info.value)
    assert "127.0.0.1:1" in msg
    assert "start the server" in msg
    assert "s3cr3t-pw" not in msg
    assert "\n" not in msg


@pytest.mark.postgres
def test_postgres_wrong_user(pg_available: None) -> None:
    with pytest.raises(LedgerUnavailable) as info:
        PostgresLedger("postgres://no_such_role_oafetch:pw@127.0.0.1:5432/test")
    msg = str(info.value)
    assert "127.0.0.1:5432" in msg and "no_such_role_oafetch" in msg
    assert "\n" not in msg and ":pw@" not in msg


def test_invalid_postgres_url() -> None:
    with pytest.raises(LedgerUnavailable, match="invalid PostgreSQL ledger URL"):
        PostgresLedger("postgresql://[::1")


def test_sqlite_missing_directory(tmp_path: Path) -> None:
    where = tmp_path / "nope" / "ledger.db"
    with pytest.raises(LedgerUnavailable, match="does not exist") as info:
        open_ledger(where)
    assert str(where.parent) in str(info.value)
    assert not where.parent.exists()  # nothing was created behind the user's back


@pytest.mark.skipif(os.geteuid() == 0, reason="root can write to read-only directories")
def test_sqlite_unwritable_directory(tmp_path: Path) -> None:
    locked = tmp_path / "ro"
    locked.mkdir(mode=0o500)
    with pytest.raises(LedgerUnavailable, match="not writable"):
        SqliteLedger(locked / "ledger.db")


def test_sqlite_file_that_is_not_a_database(tmp_path: Path) -> None:
    junk = tmp_path / "ledger.db"
    junk.write_bytes(b"this is not sqlite" * 100)
    with pytest.raises(LedgerUnavailable, match="not a database"):
        open_ledger(junk)


def test_url_dispatch(tmp_path: Path) -> None:
    assert is_postgres_url("postgresql://h/db") and is_postgres_url("POSTGRES://h/db")
    assert not is_postgres_url("ledger.db") and not is_postgres_url(tmp_path / "postgres://x")
    ledger = open_ledger(str(tmp_path / "x.db"))
    try:
        assert isinstance(ledger, SqliteLedger) and ledger.schema_version() >= 1
    finally:
        ledger.close()


@pytest.mark.postgres
def test_postgres_connection_killed_mid_run(pg_url: str) -> None:
    import psycopg

    from .conftest import PG_BASE

    ledger = PostgresLedger(pg_url, pool_size=1)
    try:
        ledger.migrate()
        with psycopg.connect(PG_BASE, autocommit=True) as admin:
            admin.execute(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                "WHERE pid <> pg_backend_pid() AND application_name = '' "
                "AND query ILIKE %s",
                ("%schema_version%",),
            )
        try:
            ledger.counts()
        except LedgerUnavailable as exc:  # the killed connection surfaces as one line
            assert "127.0.0.1:5432" in str(exc) and "\n" not in str(exc)
        assert sum(ledger.counts().values()) == 0  # and the pool recovers on the next call
    finally:
        ledger.close()
