"""Migrations: idempotent, ordered, and a fresh schema equals the dataclasses it stores."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from oafetch.errors import SchemaTooNew
from oafetch.ledger import Ledger, open_ledger
from oafetch.ledger.base import Job, Op
from oafetch.ledger.migrate import Migration, latest_version, load_migrations, split_sql

EXPECTED_TABLES = {
    "artifact_jobs": [f.name for f in dataclasses.fields(Job)],
    # `result` is stored as result_json (DESIGN §7 column name)
    "artifact_ops": [
        "result_json" if f.name == "result" else f.name for f in dataclasses.fields(Op)
    ],
    "events": ["id", "run_id", "job_id", "ts", "type", "fields"],
    "schema_version": ["version", "name", "applied_at"],
}
EXPECTED_INDEXES = {
    "artifact_jobs_idempotency_key": ("artifact_jobs", ["idempotency_key"]),
    "artifact_jobs_claim": ("artifact_jobs", ["state", "not_before", "lease_until"]),
    "artifact_jobs_sha256": ("artifact_jobs", ["sha256"]),
    "artifact_ops_job": ("artifact_ops", ["job_id"]),
    "artifact_ops_status": ("artifact_ops", ["status", "started_at"]),
    "events_type": ("events", ["type"]),
    "events_job": ("events", ["job_id"]),
}


def _listing(ledger: Ledger) -> dict[str, Any]:
    return ledger.schema_listing()


def test_migrate_is_idempotent(make_ledger: Callable[..., Ledger]) -> None:
    ledger = make_ledger(migrate=False)
    assert ledger.schema_version() == 0
    newest = latest_version(load_migrations("sqlite"))
    assert ledger.migrate() == newest
    before = _listing(ledger)
    assert ledger.migrate() == newest
    assert make_ledger().migrate() == newest  # a second process opening it changes nothing
    assert _listing(ledger) == before


def test_fresh_schema_matches_the_stored_dataclasses(ledger: Ledger) -> None:
    listing = _listing(ledger)
    assert listing["tables"] == EXPECTED_TABLES
    assert listing["indexes"] == EXPECTED_INDEXES


def test_stepwise_equals_all_at_once(make_ledger: Callable[..., Ledger], tmp_path: Path) -> None:
    stepwise = make_ledger(migrate=False)
    for version in range(1, latest_version(load_migrations("sqlite")) + 1):
        assert stepwise.migrate(up_to=version) == version
    fresh = open_ledger(tmp_path / "fresh.db")
    try:
        assert _listing(stepwise) == _listing(fresh)
    finally:
        fresh.close()


def test_both_dialects_ship_the_same_versions() -> None:
    sqlite = [(m.version, m.name) for m in load_migrations("sqlite")]
    postgres = [(m.version, m.name) for m in load_migrations("postgres")]
    assert sqlite == postgres
    assert sqlite[0] == (1, "initial")


def test_pending_migrations_apply_in_order(make_ledger: Callable[..., Ledger]) -> None:
    ledger = make_ledger()
    base = load_migrations(ledger.dialect)
    n = latest_version(base)
    extra = [
        *base,
        Migration(n + 1, "add_note", "ALTER TABLE events ADD COLUMN note TEXT;"),
        Migration(n + 2, "index_note", "CREATE INDEX events_note ON events (note);"),
    ]
    assert ledger.migrate(migrations=extra) == n + 2
    listing = _listing(ledger)
    assert listing["tables"]["events"][-1] == "note"
    assert listing["indexes"]["events_note"] == ("events", ["note"])
    assert ledger.migrate(migrations=extra) == n + 2


def test_schema_newer_than_the_code_is_refused(
    make_ledger: Callable[..., Ledger], target: str
) -> None:
    ledger = make_ledger()
    newest = ledger.schema_version()
    future = [
        *load_migrations(ledger.dialect),
        Migration(newest + 1, "future", "CREATE TABLE future_table (x INTEGER);"),
    ]
    assert ledger.migrate(migrations=future) == newest + 1
    with pytest.raises(SchemaTooNew, match=rf"version {newest + 1} .* only up to {newest}"):
        ledger.migrate()
    with pytest.raises(SchemaTooNew, match="upgrade oafetch"):
        open_ledger(target)


def test_split_sql_keeps_semicolons_inside_strings() -> None:
    script = "-- c\nCREATE TABLE t (x TEXT DEFAULT ';');\nINSERT INTO t VALUES ('a;b');\n"
    assert split_sql(script) == [
        "CREATE TABLE t (x TEXT DEFAULT ';');",
        "INSERT INTO t VALUES ('a;b');",
    ]
    with pytest.raises(ValueError, match="incomplete"):
        split_sql("CREATE TABLE t (x INTEGER)")


@pytest.mark.postgres
def test_sqlite_and_postgres_schemas_have_the_same_shape(pg_url: str, tmp_path: Path) -> None:
    lite = open_ledger(tmp_path / "l.db")
    pg = open_ledger(pg_url)
    try:
        assert _listing(lite) == _listing(pg)
    finally:
        lite.close()
        pg.close()
