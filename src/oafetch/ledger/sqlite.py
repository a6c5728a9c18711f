"""The SQLite ledger: the default for one machine (DESIGN §7).

Why these settings: WAL lets readers run while one writer writes; `synchronous=NORMAL`
in WAL mode loses at most the last commits on power loss, never consistency; every write
starts with `BEGIN IMMEDIATE` so it takes the write lock up front and waits politely on
`busy_timeout` instead of failing with SQLITE_BUSY_SNAPSHOT when another process wrote
between our read and our write. A claim is ONE `UPDATE … WHERE job_id IN (SELECT … LIMIT n)
RETURNING …`, so two processes can never lease the same job.

The database clock: SQLite has no server, so the clock is the injected `clock` (default
`time.time`) of whichever process writes. All processes sharing the file run on the one
host that holds it (SQLite over a network filesystem is unsupported), so that host's clock
is the database clock. Times are stored as REAL UNIX seconds.

One connection per ledger object, guarded by a lock so a heartbeat thread may share it;
statements are cached by sqlite3's statement cache, so a call costs one lock, one
`execute` and no connection setup.
"""

from __future__ import annotations

import json
import os
import sqlite3
import threading
import time
from collections.abc import Callable, Iterable, Iterator, Mapping
from contextlib import contextmanager, suppress
from itertools import islice
from pathlib import Path
from typing import Any

from ..errors import LedgerError, LedgerUnavailable
from . import _common as C
from .base import Job, Lease, Op, OpStatus, OpType, PlanResult, State
from .keys import canonical_json
from .migrate import SCHEMA_VERSION_DDL, Migration, load_migrations, pending_migrations, split_sql
from .states import RESUMABLE, Via, allowed_from

__all__ = ["SqliteLedger"]

_CACHE_KIB = -8192  # negative = KiB: 8 MiB page cache for normal work
_PLAN_CACHE_KIB = -32768  # 32 MiB while planning (64 MiB put 1M jobs at 154 MB RSS)
_ROWS_PER_INSERT = 999  # 1 + 2 * 999 bound parameters, far below SQLite's 32766 limit
_RESUMABLE_SQL = ", ".join(f"'{s}'" for s in sorted(RESUMABLE))
_FENCE = (
    "job_id = :job_id AND lease_owner = :owner AND lease_epoch = :epoch AND lease_until >= :now"
)

_CLAIM = f"""
UPDATE artifact_jobs SET
    state = CASE WHEN state IN ('PLANNED', 'RETRY_WAIT') THEN 'LEASED' ELSE state END,
    lease_owner = :owner, lease_until = :now + :ttl, lease_epoch = lease_epoch + 1,
    attempts = attempts + 1, not_before = NULL, updated_at = :now
WHERE job_id IN (
    SELECT job_id FROM artifact_jobs
    WHERE state = 'PLANNED'
       OR (state = 'RETRY_WAIT' AND not_before <= :now)
       OR (state IN ({_RESUMABLE_SQL}) AND (lease_until IS NULL OR lease_until < :now))
    LIMIT :limit)
RETURNING {C.JOB_SELECT}
"""


class SqliteLedger:
    """The `Ledger` on one SQLite file. See the module docstring for the clock contract."""

    dialect = "sqlite"

    def __init__(self, path: Path | str, *, clock: Callable[[], float] | None = None) -> None:
        self.path = Path(path)
        self._clock = clock or time.time
        self._lock = threading.RLock()
        self._conn = self._connect()

    # -- connection -------------------------------------------------------------------------

    def _connect(self) -> sqlite3.Connection:
        where = self.path.expanduser()
        if str(where) != ":memory:":
            parent = where.absolute().parent
            if not parent.is_dir():
                raise LedgerUnavailable(
                    f"cannot open SQLite ledger {where}: directory {parent} does not exist "
                    "(create it or choose another --ledger path)"
                )
            if not os.access(parent, os.W_OK | os.X_OK):
                raise LedgerUnavailable(
                    f"cannot open SQLite ledger {where}: directory {parent} is not writable "
                    "(fix its permissions or choose another --ledger path)"
                )
        try:
            conn = sqlite3.connect(
                where, isolation_level=None, check_same_thread=False, cached_statements=256
            )
            conn.execute("PRAGMA busy_timeout = 30000")
            conn.execute("PRAGMA journal_mode = WAL").fetchone()
            conn.execute("PRAGMA synchronous = NORMAL")
            conn.execute("PRAGMA foreign_keys = ON")
            conn.execute(f"PRAGMA cache_size = {_CACHE_KIB}")
        except sqlite3.DatabaseError as exc:
            raise LedgerUnavailable(
                f"cannot open SQLite ledger {where}: {exc} (is it an oafetch ledger file?)"
            ) from None
        return conn

    @contextmanager
    def _write(self) -> Iterator[sqlite3.Connection]:
        """One write transaction holding the write lock from its first statement."""
        with self._lock:
            conn = self._conn
            try:
                conn.execute("BEGIN IMMEDIATE")
            except sqlite3.OperationalError as exc:
                raise LedgerError(f"SQLite ledger {self.path}: {exc}") from None
            try:
                yield conn
                conn.execute("COMMIT")
            except sqlite3.OperationalError as exc:  # disk full, locked past busy_timeout, …
                if conn.in_transaction:
                    conn.execute("ROLLBACK")
                raise LedgerError(f"SQLite ledger {self.path}: {exc}") from exc
            except BaseException:
                if conn.in_transaction:
                    conn.execute("ROLLBACK")
                raise

    def _write1(self, sql: str, params: Mapping[str, Any] | tuple[Any, ...]) -> int:
        """One write statement in autocommit; returns its rowcount.

        Why not `_write()`: a single writing statement opens its write transaction with its
        first instruction (SQLite's OP_Transaction with the write flag), so it takes the
        write lock up front and waits on `busy_timeout` exactly like `BEGIN IMMEDIATE`, and
        commits when it ends. Skipping the explicit BEGIN/COMMIT pair saves two round trips
        through sqlite3 per write; a job makes ~20 writes (bench/ledger_bench.py cost).
        """
        with self._lock:
            try:
                return self._conn.execute(sql, params).rowcount
            except sqlite3.OperationalError as exc:  # disk full, locked past busy_timeout, …
                raise LedgerError(f"SQLite ledger {self.path}: {exc}") from exc

    def close(self) -> None:
        with self._lock:
            self._conn.close()

    def __enter__(self) -> SqliteLedger:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def now(self) -> float:
        return self._clock()

    # -- schema -----------------------------------------------------------------------------

    def migrate(
        self, *, up_to: int | None = None, migrations: list[Migration] | None = None
    ) -> int:
        """Apply pending migrations (up to `up_to`; `migrations` overrides the packaged
        ones, for tests); return the schema version. Raises SchemaTooNew."""
        migs = load_migrations("sqlite") if migrations is None else migrations
        with self._write() as conn:
            conn.execute(SCHEMA_VERSION_DDL)
            current = self._version(conn)
            for mig in pending_migrations(current, migs, up_to):
                for statement in split_sql(mig.sql):
                    conn.execute(statement)
                conn.execute(
                    "INSERT INTO schema_version (version, name, applied_at) VALUES (?, ?, ?)",
                    (mig.version, mig.name, self._clock()),
                )
                current = mig.version
        return current

    def schema_version(self) -> int:
        """The applied schema version (0 for an empty database)."""
        with self._lock:
            exists = self._conn.execute(
                "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'schema_version'"
            ).fetchone()
            return self._version(self._conn) if exists else 0

    @staticmethod
    def _version(conn: sqlite3.Connection) -> int:
        row = conn.execute("SELECT COALESCE(MAX(version), 0) FROM schema_version").fetchone()
        return int(row[0])

    def schema_listing(self) -> dict[str, Any]:
        """{table: [columns…]} and {index: (table, [columns…])} — for schema comparison tests."""
        with self._lock:
            tables = [
                r[0]
                for r in self._conn.execute(
                    "SELECT name FROM sqlite_master WHERE type = 'table' "
                    "AND name NOT LIKE 'sqlite_%' ORDER BY name"
                )
            ]
            cols = {
                t: [r[1] for r in self._conn.execute(f"PRAGMA table_info({t})")] for t in tables
            }
            indexes: dict[str, tuple[str, list[str]]] = {}
            for name, table in self._conn.execute(
                "SELECT name, tbl_name FROM sqlite_master WHERE type = 'index' "
                "AND name NOT LIKE 'sqlite_autoindex%'"
            ):
                info = self._conn.execute(f"PRAGMA index_info({name})").fetchall()
                indexes[name] = (table, [r[2] for r in info])
        return {"tables": cols, "indexes": indexes}

    # -- planning ---------------------------------------------------------------------------

    def plan(self, works: Iterable[tuple[str, Mapping[str, Any]]]) -> list[PlanResult]:
        return list(self.plan_iter(works))

    def plan_iter(
        self, works: Iterable[tuple[str, Mapping[str, Any]]], chunk: int = C.CHUNK
    ) -> Iterator[PlanResult]:
        """Plan lazily, committing every `chunk` jobs; yields results in input order."""
        it = iter(works)
        with self._lock:
            # A bigger page cache while planning: the unique index on random keys is the cost.
            self._conn.execute(f"PRAGMA cache_size = {_PLAN_CACHE_KIB}")
        try:
            while batch := list(islice(it, chunk)):
                yield from self._plan_chunk(batch)
        finally:
            with self._lock, suppress(sqlite3.ProgrammingError):  # closed meanwhile: fine
                self._conn.execute(f"PRAGMA cache_size = {_CACHE_KIB}")

    def _plan_chunk(self, batch: list[tuple[str, Mapping[str, Any]]]) -> list[PlanResult]:
        keys = [C.check_key(key) for key, _ in batch]
        # Inserted in key order: consecutive inserts then touch the same index pages, which
        # roughly halves the pages each chunk dirties in the unique index (random sha256 keys).
        # Stable sort on the key alone: a key repeated in one batch keeps its first spelling.
        ordered = sorted(
            zip(keys, (canonical_json(dict(w)) for _, w in batch), strict=True),
            key=lambda pair: pair[0],
        )
        returned: dict[str, int] = {}
        with self._write() as conn:
            now = self._clock()
            for lo in range(0, len(ordered), _ROWS_PER_INSERT):
                part = ordered[lo : lo + _ROWS_PER_INSERT]
                params: list[Any] = [now]
                for pair in part:
                    params += pair
                rows = ", ".join(
                    f"(?{2 * i + 2}, ?{2 * i + 3}, 'PLANNED', ?1, ?1)" for i in range(len(part))
                )
                cur = conn.execute(
                    "INSERT INTO artifact_jobs (idempotency_key, work, state, created_at, "
                    f"updated_at) VALUES {rows} ON CONFLICT (idempotency_key) DO NOTHING "
                    "RETURNING job_id, idempotency_key",
                    params,
                )
                returned.update((k, int(j)) for j, k in cur.fetchall())
            missing = sorted(set(keys) - returned.keys())
            existing: dict[str, int] = {}
            for lo in range(0, len(missing), _ROWS_PER_INSERT):
                some = missing[lo : lo + _ROWS_PER_INSERT]
                marks = ", ".join("?" * len(some))
                cur = conn.execute(
                    "SELECT job_id, idempotency_key FROM artifact_jobs "
                    f"WHERE idempotency_key IN ({marks})",
                    some,
                )
                existing.update((k, int(j)) for j, k in cur.fetchall())
        return C.plan_results(keys, returned, existing)

    # -- leases -----------------------------------------------------------------------------

    def claim(self, owner: str, ttl_s: float, limit: int = 1) -> list[Job]:
        C.check_claim(ttl_s, limit)
        with self._write() as conn:
            now = self._clock()
            rows = conn.execute(
                _CLAIM, {"owner": owner, "now": now, "ttl": float(ttl_s), "limit": limit}
            ).fetchall()
        return sorted((C.job_from_row(r) for r in rows), key=lambda j: j.job_id)

    def transition(self, lease: Lease, to_state: State, **fields: Any) -> bool:
        to_state = State(to_state)
        sources = allowed_from(to_state, Via.WORKER)
        if not sources:
            return False
        values = C.check_fields(fields)
        if to_state is State.RETRY_WAIT and values.get("not_before") is None:
            values["not_before"] = None  # filled with `now` below: due immediately
            retry_now = True
        else:
            retry_now = False
        sets = [f"{name} = :f_{name}" for name in sorted(values)]
        sets += ["state = :to", "updated_at = :now"]
        if to_state.terminal or to_state is State.RETRY_WAIT:
            sets += ["lease_owner = NULL", "lease_until = NULL"]
        in_list = ", ".join(f"'{s}'" for s in sorted(sources))
        sql = (
            f"UPDATE artifact_jobs SET {', '.join(sets)} "
            f"WHERE {_FENCE} AND state IN ({in_list})"
        )
        now = self._clock()
        params = {f"f_{k}": v for k, v in values.items()}
        if retry_now:
            params["f_not_before"] = now
        params.update(self._fence(lease, now), to=to_state.value)
        return self._write1(sql, params) == 1

    def renew(self, lease: Lease, ttl_s: float) -> bool:
        now = self._clock()
        return self._write1(
            f"UPDATE artifact_jobs SET lease_until = :now + :ttl WHERE {_FENCE}",
            {**self._fence(lease, now), "ttl": float(ttl_s)},
        ) == 1

    def release(self, lease: Lease) -> bool:
        """Clear the lease now; an untouched LEASED job goes back to PLANNED, a job with
        progress keeps its state (claimable at once, resumed from there). Attempts are kept."""
        now = self._clock()
        return self._write1(
            "UPDATE artifact_jobs SET "
            "state = CASE WHEN state = 'LEASED' THEN 'PLANNED' ELSE state END, "
            f"lease_owner = NULL, lease_until = NULL, updated_at = :now WHERE {_FENCE}",
            self._fence(lease, now),
        ) == 1

    @staticmethod
    def _fence(lease: Lease, now: float) -> dict[str, Any]:
        return {"job_id": lease.job_id, "owner": lease.owner, "epoch": lease.epoch, "now": now}

    # -- ops --------------------------------------------------------------------------------

    def get_op(self, op_key: str) -> Op | None:
        with self._lock:
            row = self._conn.execute(
                f"SELECT {C.OP_SELECT} FROM artifact_ops WHERE op_key = ?", (op_key,)
            ).fetchone()
        return None if row is None else C.op_from_row(row)

    def start_op(self, lease: Lease, op_key: str, op_type: OpType) -> bool:
        """Upsert the op as started; a `done` op is left untouched (True: lease still held)."""
        op_type = OpType(op_type)
        now = self._clock()
        fence = self._fence(lease, now)
        # One statement: the fence is the INSERT's WHERE, so check and write are atomic.
        changed = self._write1(
            "INSERT INTO artifact_ops (op_key, job_id, op_type, status, started_at) "
            "SELECT :key, :job_id, :op_type, 'started', :now "
            f"WHERE EXISTS (SELECT 1 FROM artifact_jobs WHERE {_FENCE}) "
            "ON CONFLICT (op_key) DO UPDATE SET "
            "status = 'started', started_at = excluded.started_at, finished_at = NULL, "
            "result_code = NULL, result_json = NULL "
            "WHERE artifact_ops.status <> 'done' AND artifact_ops.job_id = excluded.job_id",
            {**fence, "key": op_key, "op_type": op_type.value},
        )
        if changed:
            return True
        # Nothing written: the lease is gone, or the op is already done (left untouched).
        with self._lock:
            held = self._conn.execute(
                f"SELECT 1 FROM artifact_jobs WHERE {_FENCE}", fence
            ).fetchone()
        return held is not None

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
        now = self._clock()
        changed = self._write1(
            "UPDATE artifact_ops SET status = :status, finished_at = :now, "
            "result_code = :code, result_json = :result "
            "WHERE op_key = :key AND job_id = :job_id AND status = 'started' "
            f"AND EXISTS (SELECT 1 FROM artifact_jobs WHERE {_FENCE})",
            {
                **self._fence(lease, now),
                "status": status.value,
                "code": result_code,
                "result": payload,
                "key": op_key,
            },
        )
        if changed == 1:
            return True
        if status is not OpStatus.DONE:
            return False
        with self._lock:
            return self._already_done(self._conn, lease, op_key, now)

    def _already_done(
        self, conn: sqlite3.Connection, lease: Lease, op_key: str, now: float
    ) -> bool:
        """A replayed op finished `done` again by the lease holder: done is final (the first
        result stays), and the call succeeds — reporting it as a lost lease would make the
        holder abandon a job it still owns, and the next holder would do the same forever."""
        row = conn.execute(
            "SELECT 1 FROM artifact_ops WHERE op_key = :key AND job_id = :job_id "
            f"AND status = 'done' AND EXISTS (SELECT 1 FROM artifact_jobs WHERE {_FENCE})",
            {**self._fence(lease, now), "key": op_key},
        ).fetchone()
        return row is not None

    def ops(self, job_id: int) -> list[Op]:
        with self._lock:
            rows = self._conn.execute(
                f"SELECT {C.OP_SELECT} FROM artifact_ops WHERE job_id = ? ORDER BY started_at, "
                "op_key",
                (job_id,),
            ).fetchall()
        return [C.op_from_row(r) for r in rows]

    # -- reads ------------------------------------------------------------------------------

    def job(self, job_id: int) -> Job | None:
        with self._lock:
            row = self._conn.execute(
                f"SELECT {C.JOB_SELECT} FROM artifact_jobs WHERE job_id = ?", (job_id,)
            ).fetchone()
        return None if row is None else C.job_from_row(row)

    def job_by_key(self, idempotency_key: str) -> Job | None:
        with self._lock:
            row = self._conn.execute(
                f"SELECT {C.JOB_SELECT} FROM artifact_jobs WHERE idempotency_key = ?",
                (idempotency_key,),
            ).fetchone()
        return None if row is None else C.job_from_row(row)

    def jobs(self, states: Iterable[State] | None = None) -> Iterator[Job]:
        """All jobs (of these states) by job_id, paged so no read cursor stays open."""
        wanted = None if states is None else sorted({State(s).value for s in states})
        if wanted == []:
            return
        filt = "" if wanted is None else f"AND state IN ({', '.join('?' * len(wanted))})"
        last = 0
        while True:
            with self._lock:
                rows = self._conn.execute(
                    f"SELECT {C.JOB_SELECT} FROM artifact_jobs WHERE job_id > ? {filt} "
                    "ORDER BY job_id LIMIT 1000",
                    [last, *(wanted or [])],
                ).fetchall()
            if not rows:
                return
            for row in rows:
                yield C.job_from_row(row)
            last = int(rows[-1][0])

    def counts(self) -> dict[State, int]:
        with self._lock:
            rows = self._conn.execute(
                "SELECT state, COUNT(*) FROM artifact_jobs GROUP BY state"
            ).fetchall()
        out = dict.fromkeys(State, 0)
        out.update({State(s): int(n) for s, n in rows})
        return out

    def next_wakeup(self) -> float | None:
        """The earliest time a job not claimable now may become so (a RETRY_WAIT timer or
        a live lease running out); None when nothing is waiting. Two index-only MINs."""
        with self._lock:
            row = self._conn.execute(
                "SELECT (SELECT MIN(not_before) FROM artifact_jobs WHERE state = 'RETRY_WAIT'), "
                f"(SELECT MIN(lease_until) FROM artifact_jobs WHERE state IN ({_RESUMABLE_SQL}))"
            ).fetchone()
        return C.earliest(row)

    # -- reconciler -------------------------------------------------------------------------

    def expire_leases(self) -> int:
        with self._lock:
            row = self._conn.execute(
                f"SELECT COUNT(*) FROM artifact_jobs WHERE state IN ({_RESUMABLE_SQL}) "
                "AND lease_until < ?",
                (self._clock(),),
            ).fetchone()
        return int(row[0])

    def stale_ops(self, older_than_s: float) -> list[Op]:
        with self._lock:
            rows = self._conn.execute(
                f"SELECT {C.OP_SELECT} FROM artifact_ops WHERE status = 'started' "
                "AND started_at < ? ORDER BY started_at",
                (self._clock() - older_than_s,),
            ).fetchall()
        return [C.op_from_row(r) for r in rows]

    def fail_stale_ops(self, older_than_s: float) -> int:
        """Mark `started` ops older than `older_than_s` whose job holds no live lease as
        failed (result_code "stale"), so the next holder re-runs them; returns the count."""
        with self._write() as conn:
            now = self._clock()
            cur = conn.execute(
                "UPDATE artifact_ops SET status = 'failed', finished_at = :now, "
                "result_code = 'stale' WHERE status = 'started' AND started_at < :cutoff "
                "AND NOT EXISTS (SELECT 1 FROM artifact_jobs j WHERE j.job_id = "
                "artifact_ops.job_id AND j.lease_until >= :now)",
                {"now": now, "cutoff": now - older_than_s},
            )
            return cur.rowcount

    def retry_failed(
        self, classes: Iterable[str] | None = None, sources: Iterable[str] | None = None
    ) -> int:
        wanted = C.retry_classes(classes)
        srcs = None if sources is None else sorted(set(sources))
        if not wanted or srcs == []:
            return 0
        params: list[Any] = [self._clock(), *wanted]
        sql = (
            "UPDATE artifact_jobs SET state = 'PLANNED', outcome_class = NULL, "
            "outcome_reason = NULL, not_before = NULL, lease_owner = NULL, lease_until = NULL, "
            f"updated_at = ? WHERE state = 'FAILED' AND outcome_class IN "
            f"({', '.join('?' * len(wanted))})"
        )
        if srcs is not None:
            sql += f" AND source IN ({', '.join('?' * len(srcs))})"
            params += srcs
        with self._write() as conn:
            params[0] = self._clock()
            return conn.execute(sql, params).rowcount

    # -- telemetry --------------------------------------------------------------------------

    def record_events(self, events: Iterable[Mapping[str, Any]]) -> None:
        now = self._clock()
        rows = [C.event_row(e, now) for e in events]
        if not rows:
            return
        with self._write() as conn:
            conn.executemany(
                "INSERT INTO events (run_id, job_id, ts, type, fields) VALUES (?, ?, ?, ?, ?)",
                rows,
            )

    def events(
        self, *, run_id: str | None = None, types: Iterable[str] | None = None
    ) -> Iterator[dict[str, Any]]:
        """Stored events in insertion order, as `Event.as_dict()`-shaped dicts."""
        where, params = C.event_filter(run_id, types, "?")
        last = 0
        while True:
            with self._lock:
                rows = self._conn.execute(
                    f"SELECT id, run_id, job_id, ts, type, fields FROM events WHERE id > ? "
                    f"{where} ORDER BY id LIMIT 1000",
                    [last, *params],
                ).fetchall()
            if not rows:
                return
            for row in rows:
                yield C.event_from_row(row)
            last = int(rows[-1][0])

