"""The job/op ledger (DESIGN §7): `open_ledger` picks the backend from the URL or path.

    from oafetch.ledger import open_ledger
    ledger = open_ledger("oafetch-out/ledger.db")          # SQLite file (default)
    ledger = open_ledger("postgresql://user@db:5432/oa")   # shared PostgreSQL

The returned ledger is migrated to the newest schema this code knows (pass
`migrate=False` to only open it); a database written by a newer oafetch raises
`SchemaTooNew`, an unreachable one `LedgerUnavailable`.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from .base import Job, Lease, Ledger, Op, OpStatus, OpType, PlanResult, State
from .keys import canonical_json, idempotency_key, op_key

__all__ = [
    "Job",
    "Lease",
    "Ledger",
    "Op",
    "OpStatus",
    "OpType",
    "PlanResult",
    "State",
    "canonical_json",
    "idempotency_key",
    "is_postgres_url",
    "op_key",
    "open_ledger",
]

_PG_SCHEMES = ("postgresql://", "postgres://")


def is_postgres_url(target: str | Path) -> bool:
    return isinstance(target, str) and target.lower().startswith(_PG_SCHEMES)


def open_ledger(
    url_or_path: str | Path,
    *,
    clock: Callable[[], float] | None = None,
    migrate: bool = True,
) -> Ledger:
    """A `postgresql://`/`postgres://` URL opens PostgreSQL; anything else is a SQLite path."""
    ledger: Ledger
    if is_postgres_url(url_or_path):
        from .postgres import PostgresLedger  # psycopg is imported only when needed

        ledger = PostgresLedger(str(url_or_path), clock=clock)
    else:
        from .sqlite import SqliteLedger

        ledger = SqliteLedger(Path(url_or_path), clock=clock)
    if migrate:
        try:
            ledger.migrate()
        except BaseException:
            ledger.close()
            raise
    return ledger
