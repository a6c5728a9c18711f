"""The migration runner shared by both backends.

Migrations are numbered SQL files, `migrations/<dialect>/NNNN_name.sql`, applied in order,
each recorded in the one `schema_version` table inside the same transaction as its DDL
(both SQLite and PostgreSQL have transactional DDL), so a crash mid-migration leaves the
previous version intact. The backend supplies the lock (SQLite: BEGIN IMMEDIATE;
PostgreSQL: an advisory transaction lock) and the statement executor; the decisions —
which files exist, which are pending, whether the database is newer than this code —
are made here, once.
"""

from __future__ import annotations

import re
import sqlite3
from collections.abc import Sequence
from dataclasses import dataclass
from importlib import resources

from ..errors import SchemaTooNew

__all__ = [
    "SCHEMA_VERSION_DDL",
    "Migration",
    "latest_version",
    "load_migrations",
    "pending_migrations",
    "split_sql",
]

_NAME = re.compile(r"^(\d{4})_([A-Za-z0-9_]+)\.sql$")

# Same text is valid in both dialects; created before the first migration runs.
SCHEMA_VERSION_DDL = (
    "CREATE TABLE IF NOT EXISTS schema_version ("
    " version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at DOUBLE PRECISION NOT NULL)"
)


@dataclass(frozen=True, slots=True)
class Migration:
    version: int
    name: str
    sql: str


def load_migrations(dialect: str) -> list[Migration]:
    """The packaged migrations of one dialect (`sqlite` or `postgres`), in version order.

    Versions must run 1, 2, 3, … without gaps: a gap means a file was lost in packaging,
    and applying around it would build a schema nobody tested.
    """
    folder = resources.files("oafetch.ledger").joinpath("migrations", dialect)
    found: list[Migration] = []
    for entry in folder.iterdir():
        match = _NAME.match(entry.name)
        if match:
            found.append(Migration(int(match[1]), match[2], entry.read_text(encoding="utf-8")))
    found.sort(key=lambda m: m.version)
    if [m.version for m in found] != list(range(1, len(found) + 1)):
        raise RuntimeError(f"ledger migrations for {dialect} are not numbered 1..n: {found}")
    return found


def latest_version(migrations: Sequence[Migration]) -> int:
    return migrations[-1].version if migrations else 0


def pending_migrations(
    current: int, migrations: Sequence[Migration], up_to: int | None = None
) -> list[Migration]:
    """Migrations after `current` (up to `up_to`); refuse a database newer than this code."""
    newest = latest_version(migrations)
    if current > newest:
        raise SchemaTooNew(
            f"the ledger schema is version {current} but this oafetch knows only up to "
            f"{newest}: upgrade oafetch (pip install -U oafetch) or use another ledger"
        )
    limit = newest if up_to is None else up_to
    return [m for m in migrations if current < m.version <= limit]


def split_sql(script: str) -> list[str]:
    """Split a script into complete statements (sqlite3.execute runs one at a time)."""
    statements: list[str] = []
    buffer = ""
    for line in script.splitlines(keepends=True):
        if line.lstrip().startswith("--") and not buffer.strip():
            continue
        buffer += line
        if sqlite3.complete_statement(buffer):
            statements.append(buffer.strip())
            buffer = ""
    if buffer.strip():
        raise ValueError(f"incomplete SQL statement at end of migration: {buffer.strip()[:60]!r}")
    return statements
