"""The PostgreSQL ledger: many machines, one queue (DESIGN §7).

A claim is one `UPDATE … FROM (SELECT … FOR UPDATE SKIP LOCKED LIMIT n)`: concurrent
workers skip each other's locked candidate rows instead of queueing behind them, so claim
latency stays flat under contention. Every fenced write is a single statement (autocommit),
so there is no transaction to leave open when a worker dies.

The database clock: lease times come from the server (`clock_timestamp()` as UNIX
seconds), never from the worker, so machines with skewed clocks still agree on expiry.
When a test injects `clock`, its value is passed as a parameter instead — every statement
reads `COALESCE(<param>, <server clock>)` — so one test suite drives both backends with
the same fake time. Times are stored as double precision UNIX seconds, like SQLite.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterable, Iterator, Mapping
from contextlib import contextmanager
from itertools import islice
from typing import Any

import psycopg
from psycopg.conninfo import conninfo_to_dict
from psycopg_pool import ConnectionPool, PoolTimeout

from ..errors import LedgerUnavailable
from . import _common as C
from .base import Job, Lease, Op, OpStatus, OpType, PlanResult, State
from .keys import canonical_json
from .migrate import SCHEMA_VERSION_DDL, Migration, load_migrations, pending_migrations
from .states import RESUMABLE, Via, allowed_from

__all__ = ["PostgresLedger"]

_NOW = "COALESCE(%(now)s::float8, extract(epoch from clock_timestamp())::float8)"
_RESUMABLE_SQL = ", ".join(f"'{s}'" for s in sorted(RESUMABLE))
_FENCE = (
    "job_id = %(job_id)s AND lease_owner = %(owner)s AND lease_epoch = %(epoch)s "
    "AND lease_until >= n.now"
)
_MIGRATION_LOCK = 0x6F61_6665  # "oafe": advisory lock id serialising concurrent migrate()
_RETURN_JOB = ", ".join(f"a.{c}" for c in C.JOB_COLUMNS)

_CLAIM = f"""
WITH n AS (SELECT {_NOW} AS now),
c AS (
    SELECT j.job_id FROM artifact_jobs j, n
    WHERE j.state = 'PLANNED'
       OR (j.state = 'RETRY_WAIT' AND j.not_before <= n.now)
       OR (j.state IN ({_RESUMABLE_SQL}) AND (j.lease_until IS NULL OR j.lease_until < n.now))
    LIMIT %(limit)s
    FOR UPDATE OF j SKIP LOCKED)
UPDATE artifact_jobs a SET
    state = CASE WHEN a.state IN ('PLANNED', 'RETRY_WAIT') THEN 'LEASED' ELSE a.state END,
    lease_owner = %(owner)s, lease_until = n.now + %(ttl)s, lease_epoch = a.lease_epoch + 1,
    attempts = a.attempts + 1, not_before = NULL, updated_at = n.now
FROM n, c WHERE a.job_id = c.job_id
RETURNING {_RETURN_JOB}
"""

_START_OP = f"""
WITH n AS (SELECT {_NOW} AS now),
held AS (SELECT job_id FROM artifact_jobs, n WHERE {_FENCE} FOR SHARE OF artifact_jobs),
ins AS (
    INSERT INTO artifact_ops (op_key, job_id, op_type, status, started_at)
    SELECT %(key)s, held.job_id, %(type)s, 'started', n.now FROM held, n
    ON CONFLICT (op_key) DO UPDATE SET
        status = 'started', started_at = excluded.started_at, finished_at = NULL,
        result_code = NULL, result_json = NULL
    WHERE artifact_ops.status <> 'done' AND artifact_ops.job_id = excluded.job_id)
SELECT count(*) FROM held
"""

_PLAN = f"""
INSERT INTO artifact_jobs (idempotency_key, work, state, created_at, updated_at)
SELECT t.k, t.w::jsonb, 'PLANNED', n.now, n.now
FROM unnest(%(keys)s::text[], %(works)s::text[]) AS t(k, w), (SELECT {_NOW} AS now) n
ON CONFLICT (idempotency_key) DO NOTHING
RETURNING job_id, idempotency_key
"""


def _describe(url: str) -> tuple[str, str]:
    """(host:port, database/user text) of a conninfo, for error messages — no password."""
    try:
        info = conninfo_to_dict(url)
    except psycopg.ProgrammingError as exc:
        raise LedgerUnavailable(f"invalid PostgreSQL ledger URL: {exc}") from None
    host = str(info.get("host") or info.get("hostaddr") or "localhost")
    port = str(info.get("port") or "5432")
    who = f"database {info.get('dbname') or '(default)'}, user {info.get('user') or '(default)'}"
    return f"{host}:{port}", who


def _one_line(exc: BaseException, secret: str | None) -> str:
    text = re.sub(r"\s+", " ", str(exc)).strip()
    if secret:
        text = text.replace(secret, "***")
    return text


class PostgresLedger:
    """The `Ledger` on a PostgreSQL database (psycopg 3 + psycopg_pool)."""

    dialect = "postgres"

    def __init__(
        self,
        url: str,
        *,
        clock: Callable[[], float] | None = None,
        pool_size: int = 4,
        connect_timeout: float = 5.0,
    ) -> None:
        self.url = url
        self._clock = clock
        self.where, who = _describe(url)
        secret = conninfo_to_dict(url).get("password")
        self._secret = None if secret is None else str(secret)
        try:
            # A direct first connection gives the real reason (refused, auth) in one line;
            # a pool would only report a timeout.
            with psycopg.connect(url, connect_timeout=max(1, int(connect_timeout))):
                pass
        except psycopg.Error as exc:
            raise LedgerUnavailable(
                f"cannot connect to the PostgreSQL ledger at {self.where} ({who}): "
                f"{_one_line(exc, self._secret)} — start the server "
                "or fix the --ledger URL / OAFETCH_LEDGER_URL (host, port, user, password)"
            ) from None
        self._pool: ConnectionPool[psycopg.Connection[Any]] = ConnectionPool(
            url,
            min_size=1,
            max_size=max(1, pool_size),
            kwargs={"autocommit": True},
            open=False,
            timeout=30.0,
            name="oafetch-ledger",
        )
        self._pool.open(wait=True, timeout=max(connect_timeout, 1.0) * 2)

    @contextmanager
    def _conn(self) -> Iterator[psycopg.Connection[Any]]:
        try:
            with self._pool.connection() as conn:
                yield conn
        except PoolTimeout:
            raise LedgerUnavailable(
                f"the PostgreSQL ledger at {self.where} stopped answering (no connection "
                "within 30 s) — check the server"
            ) from None
        except psycopg.OperationalError as exc:
            # The pool drops the broken connection; the caller may retry the call later.
            raise LedgerUnavailable(
                f"lost the PostgreSQL ledger at {self.where}: {_one_line(exc, self._secret)} "
                "— check the server"
            ) from exc

    def _p(self, **params: Any) -> dict[str, Any]:
        params["now"] = None if self._clock is None else self._clock()
        return params

    def close(self) -> None:
        self._pool.close()

    def __enter__(self) -> PostgresLedger:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def now(self) -> float:
        if self._clock is not None:
            return self._clock()
        with self._conn() as conn:
            row = conn.execute("SELECT extract(epoch from clock_timestamp())::float8").fetchone()
        assert row is not None
        return float(row[0])

    # -- schema -----------------------------------------------------------------------------

    def migrate(
        self, *, up_to: int | None = None, migrations: list[Migration] | None = None
    ) -> int:
        """Apply pending migrations (up to `up_to`; `migrations` overrides the packaged
        ones, for tests); return the schema version. Raises SchemaTooNew."""
        migs = load_migrations("postgres") if migrations is None else migrations
        with self._conn() as conn, conn.transaction():
            conn.execute("SELECT pg_advisory_xact_lock(%s)", (_MIGRATION_LOCK,))
            conn.execute(SCHEMA_VERSION_DDL)
            current = self._version(conn)
            for mig in pending_migrations(current, migs, up_to):
                conn.execute(mig.sql.encode())  # no parameters: several statements allowed
                conn.execute(
                    "INSERT INTO schema_version (version, name, applied_at) "
                    f"VALUES (%(v)s, %(name)s, {_NOW})",
                    self._p(v=mig.version, name=mig.name),
                )
                current = mig.version
        return current

    def schema_version(self) -> int:
        """The applied schema version (0 for an empty schema)."""
        with self._conn() as conn:
            row = conn.execute("SELECT to_regclass('schema_version') IS NOT NULL").fetchone()
            return self._version(conn) if row and row[0] else 0

    @staticmethod
    def _version(conn: psycopg.Connection[Any]) -> int:
        row = conn.execute("SELECT COALESCE(MAX(version), 0) FROM schema_version").fetchone()
        assert row is not None
        return int(row[0])

    def schema_listing(self) -> dict[str, Any]:
        """{table: [columns…]} and {index: (table, [columns…])} — for schema comparison tests."""
        with self._conn() as conn:
            cols: dict[str, list[str]] = {}
            for table, column in conn.execute(
                "SELECT table_name, column_name FROM information_schema.columns "
                "WHERE table_schema = current_schema() ORDER BY table_name, ordinal_position"
            ):
                cols.setdefault(table, []).append(column)
            indexes = {
                name: (table, list(columns))
                for name, table, columns in conn.execute(
                    "SELECT i.relname, t.relname, array_agg(a.attname ORDER BY k.ord) "
                    "FROM pg_index x JOIN pg_class i ON i.oid = x.indexrelid "
                    "JOIN pg_class t ON t.oid = x.indrelid "
                    "JOIN pg_namespace s ON s.oid = t.relnamespace "
                    "CROSS JOIN LATERAL unnest(x.indkey) WITH ORDINALITY AS k(attnum, ord) "
                    "JOIN pg_attribute a ON a.attrelid = t.oid AND a.attnum = k.attnum "
                    "WHERE s.nspname = current_schema() AND NOT x.indisprimary "
                    "GROUP BY i.relname, t.relname"
                )
            }
        return {"tables": cols, "indexes": indexes}

    # -- planning ---------------------------------------------------------------------------

    def plan(self, works: Iterable[tuple[str, Mapping[str, Any]]]) -> list[PlanResult]:
        return list(self.plan_iter(works))

    def plan_iter(
        self, works: Iterable[tuple[str, Mapping[str, Any]]], chunk: int = C.CHUNK
    ) -> Iterator[PlanResult]:
        """Plan lazily, one statement and one commit per `chunk`; results in input order."""
        it = iter(works)
        while batch := list(islice(it, chunk)):
            keys = [C.check_key(key) for key, _ in batch]
            works_json = [canonical_json(dict(work)) for _, work in batch]
            with self._conn() as conn:
                rows = conn.execute(_PLAN, self._p(keys=keys, works=works_json)).fetchall()
                inserted = {k: int(j) for j, k in rows}
                missing = sorted(set(keys) - inserted.keys())
                existing: dict[str, int] = {}
                if missing:
                    existing = {
                        k: int(j)
                        for j, k in conn.execute(
                            "SELECT job_id, idempotency_key FROM artifact_jobs "
                            "WHERE idempotency_key = ANY(%s::text[])",
                            (missing,),
                        )
                    }
            yield from C.plan_results(keys, inserted, existing)

    # -- leases -----------------------------------------------------------------------------

    def claim(self, owner: str, ttl_s: float, limit: int = 1) -> list[Job]:
        C.check_claim(ttl_s, limit)
        with self._conn() as conn:
            rows = conn.execute(
                _CLAIM, self._p(owner=owner, ttl=float(ttl_s), limit=limit)
            ).fetchall()
        return sorted((C.job_from_row(r) for r in rows), key=lambda j: j.job_id)

    def transition(self, lease: Lease, to_state: State, **fields: Any) -> bool:
        to_state = State(to_state)
        sources = allowed_from(to_state, Via.WORKER)
        if not sources:
            return False
        values = C.check_fields(fields)
        sets = []
        for name in sorted(values):
            cast = "::jsonb" if name == "work" else ""
            sets.append(f"{name} = %(f_{name})s{cast}")
        if to_state is State.RETRY_WAIT and values.get("not_before") is None:
            values.pop("not_before", None)
            sets = [s for s in sets if not s.startswith("not_before")]
            sets.append("not_before = n.now")  # no schedule given: due immediately
        sets += ["state = %(to)s", "updated_at = n.now"]
        if to_state.terminal or to_state is State.RETRY_WAIT:
            sets += ["lease_owner = NULL", "lease_until = NULL"]
        in_list = ", ".join(f"'{s}'" for s in sorted(sources))
        sql = (
            f"UPDATE artifact_jobs SET {', '.join(sets)} FROM (SELECT {_NOW} AS now) n "
            f"WHERE {_FENCE} AND state IN ({in_list})"
        )
        params = self._fence(lease, to=to_state.value, **{f"f_{k}": v for k, v in values.items()})
        with self._conn() as conn:
            return conn.execute(sql, params).rowcount == 1

    def renew(self, lease: Lease, ttl_s: float) -> bool:
        with self._conn() as conn:
            cur = conn.execute(
                f"UPDATE artifact_jobs SET lease_until = n.now + %(ttl)s "
                f"FROM (SELECT {_NOW} AS now) n WHERE {_FENCE}",
                self._fence(lease, ttl=float(ttl_s)),
            )
            return cur.rowcount == 1

    def release(self, lease: Lease) -> bool:
        """Clear the lease now; an untouched LEASED job goes back to PLANNED, a job with
        progress keeps its state (claimable at once, resumed from there). Attempts are kept."""
        with self._conn() as conn:
            cur = conn.execute(
                "UPDATE artifact_jobs SET "
                "state = CASE WHEN state = 'LEASED' THEN 'PLANNED' ELSE state END, "
                "lease_owner = NULL, lease_until = NULL, updated_at = n.now "
                f"FROM (SELECT {_NOW} AS now) n WHERE {_FENCE}",
                self._fence(lease),
            )
            return cur.rowcount == 1

    def _fence(self, lease: Lease, **extra: Any) -> dict[str, Any]:
        return self._p(job_id=lease.job_id, owner=lease.owner, epoch=lease.epoch, **extra)

    # -- ops --------------------------------------------------------------------------------

    def get_op(self, op_key: str) -> Op | None:
        with self._conn() as conn:
            row = conn.execute(
                f"SELECT {C.OP_SELECT} FROM artifact_ops WHERE op_key = %s", (op_key,)
            ).fetchone()
        return None if row is None else C.op_from_row(row)

    def start_op(self, lease: Lease, op_key: str, op_type: OpType) -> bool:
        """Upsert the op as started; a `done` op is left untouched (True: lease still held)."""
        params = self._fence(lease, key=op_key, type=OpType(op_type).value)
        with self._conn() as conn:
            row = conn.execute(_START_OP, params).fetchone()
        return bool(row and row[0])

    def finish_op(
        self,
        lease: Lease,
        op_key: str,
        status: OpStatus,
        result_code: str | None = None,
        result: Mapping[str, Any] | None = None,
    ) -> bool:
        status = C.check_finish_status(status)
        payload = None if result is None else json.dumps(dict(result), ensure_ascii=False)
        params = self._fence(
            lease, status=status.value, code=result_code, result=payload, key=op_key
        )
        with self._conn() as conn:
            cur = conn.execute(
                "UPDATE artifact_ops o SET status = %(status)s, finished_at = n.now, "
                "result_code = %(code)s, result_json = %(result)s::jsonb "
                f"FROM (SELECT {_NOW} AS now) n "
                "WHERE o.op_key = %(key)s AND o.job_id = %(job_id)s AND o.status = 'started' "
                f"AND EXISTS (SELECT 1 FROM artifact_jobs WHERE {_FENCE})",
                params,
            )
            if cur.rowcount == 1:
                return True
            if status is not OpStatus.DONE:
                return False
            # Done is final: a replayed op finished `done` again by the lease holder keeps
            # its first result and succeeds (False would read as a lost lease, and every
            # later holder of the job would abandon it the same way: a livelock).
            row = conn.execute(
                f"SELECT 1 FROM artifact_ops o, (SELECT {_NOW} AS now) n "
                "WHERE o.op_key = %(key)s AND o.job_id = %(job_id)s AND o.status = 'done' "
                f"AND EXISTS (SELECT 1 FROM artifact_jobs WHERE {_FENCE})",
                params,
            ).fetchone()
            return row is not None

    def ops(self, job_id: int) -> list[Op]:
        with self._conn() as conn:
            rows = conn.execute(
                f"SELECT {C.OP_SELECT} FROM artifact_ops WHERE job_id = %s "
                "ORDER BY started_at, op_key",
                (job_id,),
            ).fetchall()
        return [C.op_from_row(r) for r in rows]

    # -- reads ------------------------------------------------------------------------------

    def job(self, job_id: int) -> Job | None:
        with self._conn() as conn:
            row = conn.execute(
                f"SELECT {C.JOB_SELECT} FROM artifact_jobs WHERE job_id = %s", (job_id,)
            ).fetchone()
        return None if row is None else C.job_from_row(row)

    def job_by_key(self, idempotency_key: str) -> Job | None:
        with self._conn() as conn:
            row = conn.execute(
                f"SELECT {C.JOB_SELECT} FROM artifact_jobs WHERE idempotency_key = %s",
                (idempotency_key,),
            ).fetchone()
        return None if row is None else C.job_from_row(row)

    def jobs(self, states: Iterable[State] | None = None) -> Iterator[Job]:
        """All jobs (of these states) by job_id, paged so no server cursor stays open."""
        wanted = None if states is None else sorted({State(s).value for s in states})
        if wanted == []:
            return
        filt = "" if wanted is None else "AND state = ANY(%(states)s::text[])"
        last = 0
        while True:
            with self._conn() as conn:
                rows = conn.execute(
                    f"SELECT {C.JOB_SELECT} FROM artifact_jobs WHERE job_id > %(last)s {filt} "
                    "ORDER BY job_id LIMIT 1000",
                    {"last": last, "states": wanted},
                ).fetchall()
            if not rows:
                return
            for row in rows:
                yield C.job_from_row(row)
            last = int(rows[-1][0])

    def counts(self) -> dict[State, int]:
        with self._conn() as conn:
            rows = conn.execute("SELECT state, COUNT(*) FROM artifact_jobs GROUP BY state")
            out = dict.fromkeys(State, 0)
            out.update({State(s): int(n) for s, n in rows})
        return out

    def next_wakeup(self) -> float | None:
        """The earliest time a job not claimable now may become so (a RETRY_WAIT timer or
        a live lease running out); None when nothing is waiting."""
        with self._conn() as conn:
            row = conn.execute(
                "SELECT (SELECT MIN(not_before) FROM artifact_jobs WHERE state = 'RETRY_WAIT'), "
                f"(SELECT MIN(lease_until) FROM artifact_jobs WHERE state IN ({_RESUMABLE_SQL}))"
            ).fetchone()
        return C.earliest(row)

    # -- reconciler -------------------------------------------------------------------------

    def expire_leases(self) -> int:
        with self._conn() as conn:
            row = conn.execute(
                f"SELECT COUNT(*) FROM artifact_jobs, (SELECT {_NOW} AS now) n "
                f"WHERE state IN ({_RESUMABLE_SQL}) AND lease_until < n.now",
                self._p(),
            ).fetchone()
        assert row is not None
        return int(row[0])

    def stale_ops(self, older_than_s: float) -> list[Op]:
        with self._conn() as conn:
            rows = conn.execute(
                f"SELECT {C.OP_SELECT} FROM artifact_ops, (SELECT {_NOW} AS now) n "
                "WHERE status = 'started' AND started_at < n.now - %(age)s ORDER BY started_at",
                self._p(age=float(older_than_s)),
            ).fetchall()
        return [C.op_from_row(r) for r in rows]

    def fail_stale_ops(self, older_than_s: float) -> int:
        """Mark `started` ops older than `older_than_s` whose job holds no live lease as
        failed (result_code "stale"), so the next holder re-runs them; returns the count."""
        with self._conn() as conn:
            cur = conn.execute(
                "UPDATE artifact_ops o SET status = 'failed', finished_at = n.now, "
                f"result_code = 'stale' FROM (SELECT {_NOW} AS now) n "
                "WHERE o.status = 'started' AND o.started_at < n.now - %(age)s "
                "AND NOT EXISTS (SELECT 1 FROM artifact_jobs j WHERE j.job_id = o.job_id "
                "AND j.lease_until >= n.now)",
                self._p(age=float(older_than_s)),
            )
            return cur.rowcount

    def retry_failed(
        self, classes: Iterable[str] | None = None, sources: Iterable[str] | None = None
    ) -> int:
        wanted = C.retry_classes(classes)
        srcs = None if sources is None else sorted(set(sources))
        if not wanted or srcs == []:
            return 0
        sql = (
            "UPDATE artifact_jobs SET state = 'PLANNED', outcome_class = NULL, "
            "outcome_reason = NULL, not_before = NULL, lease_owner = NULL, lease_until = NULL, "
            f"updated_at = n.now FROM (SELECT {_NOW} AS now) n "
            "WHERE state = 'FAILED' AND outcome_class = ANY(%(classes)s::text[])"
        )
        if srcs is not None:
            sql += " AND source = ANY(%(sources)s::text[])"
        with self._conn() as conn:
            return conn.execute(sql, self._p(classes=wanted, sources=srcs)).rowcount

    # -- telemetry --------------------------------------------------------------------------

    def record_events(self, events: Iterable[Mapping[str, Any]]) -> None:
        batch = list(events)
        if not batch:
            return
        # Events normally carry their own ts; only a missing one costs a clock read.
        now = self.now() if any(e.get("ts") is None for e in batch) else 0.0
        rows = [C.event_row(e, now) for e in batch]
        with self._conn() as conn, conn.cursor() as cur:
            cur.executemany(
                "INSERT INTO events (run_id, job_id, ts, type, fields) "
                "VALUES (%s, %s, %s, %s, %s::jsonb)",
                rows,
            )

    def events(
        self, *, run_id: str | None = None, types: Iterable[str] | None = None
    ) -> Iterator[dict[str, Any]]:
        """Stored events in insertion order, as `Event.as_dict()`-shaped dicts."""
        where, params = C.event_filter(run_id, types, "%s")
        last = 0
        while True:
            with self._conn() as conn:
                rows = conn.execute(
                    f"SELECT id, run_id, job_id, ts, type, fields FROM events WHERE id > %s "
                    f"{where} ORDER BY id LIMIT 1000",
                    [last, *params],
                ).fetchall()
            if not rows:
                return
            for row in rows:
                yield C.event_from_row(row)
            last = int(rows[-1][0])
