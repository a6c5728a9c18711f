"""The ledger interface (DESIGN §7): one contract, a SQLite and a PostgreSQL backend.

The interface is synchronous on purpose: every call is one short statement on a local
file or a loopback/LAN database, cheaper than a thread hop, and the runner calls it from
the event loop between awaits. Implementations: `sqlite.SqliteLedger`,
`postgres.PostgresLedger`; pick one with `oafetch.ledger.open_ledger(url_or_path)`.

Methods added after the first draft (all implemented by both backends): `plan_iter`
(streaming plan, commits per chunk), `fail_stale_ops` (reconciler), `events` (read back
telemetry), `schema_version`, `schema_listing`, `next_wakeup`, and optional parameters
of `migrate`. Expired-lease claims keep the job's progress state; see
`states.claim_result`.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from enum import StrEnum
from typing import Any, Protocol


class State(StrEnum):
    PLANNED = "PLANNED"
    LEASED = "LEASED"
    HEAD_DONE = "HEAD_DONE"
    RESUME_OK = "RESUME_OK"
    STREAMING = "STREAMING"
    FINALIZED = "FINALIZED"
    INDEXED = "INDEXED"
    DEDUPED = "DEDUPED"
    FAILED = "FAILED"
    RETRY_WAIT = "RETRY_WAIT"

    @property
    def terminal(self) -> bool:
        return self in (State.INDEXED, State.DEDUPED, State.FAILED)


class OpType(StrEnum):
    RESOLVE = "RESOLVE"
    HEAD = "HEAD"
    STREAM = "STREAM"
    FINALIZE = "FINALIZE"
    INDEX = "INDEX"
    DEDUPE = "DEDUPE"


class OpStatus(StrEnum):
    STARTED = "started"
    DONE = "done"
    FAILED = "failed"


@dataclass(frozen=True, slots=True)
class Job:
    job_id: int
    idempotency_key: str
    work: dict[str, Any]  # WorkIds.as_dict() plus optional "input" (the raw input text)
    state: State
    attempts: int = 0
    not_before: float | None = None  # UNIX seconds
    lease_owner: str | None = None
    lease_until: float | None = None
    lease_epoch: int = 0
    outcome_class: str | None = None
    outcome_reason: str | None = None
    source: str | None = None
    url: str | None = None
    sha256: str | None = None
    size: int | None = None
    format: str | None = None
    path: str | None = None
    created_at: float = 0.0
    updated_at: float = 0.0

    @property
    def lease(self) -> Lease:
        assert self.lease_owner is not None
        return Lease(self.job_id, self.lease_owner, self.lease_epoch)


@dataclass(frozen=True, slots=True)
class Lease:
    """The fencing token a worker holds: every write is conditional on all three."""

    job_id: int
    owner: str
    epoch: int


@dataclass(frozen=True, slots=True)
class Op:
    op_key: str
    job_id: int
    op_type: OpType
    status: OpStatus
    started_at: float
    finished_at: float | None = None
    result_code: str | None = None
    result: dict[str, Any] | None = None


@dataclass(frozen=True, slots=True)
class PlanResult:
    job_id: int
    inserted: bool


class Ledger(Protocol):
    """What the runner, the CLI and the reconciler need from a ledger backend."""

    dialect: str  # "sqlite" or "postgres": which migrations folder applies

    def migrate(self, *, up_to: int | None = None, migrations: list[Any] | None = None) -> int:
        """Apply pending numbered migrations idempotently; return the schema version.

        `up_to` stops at a version; `migrations` (a list of `migrate.Migration`) replaces
        the packaged files — both exist for tests. Raises `SchemaTooNew`.
        """
        ...

    def plan(self, works: Iterable[tuple[str, Mapping[str, Any]]]) -> list[PlanResult]:
        """Insert (idempotency_key, work) pairs; existing keys are left untouched."""
        ...

    def plan_iter(
        self, works: Iterable[tuple[str, Mapping[str, Any]]], chunk: int = 10_000
    ) -> Iterator[PlanResult]:
        """Like `plan`, lazily: commits every `chunk` jobs, yields results in input order.

        Use it for large inputs (a million works): memory stays bounded by one chunk.
        """
        ...

    def claim(self, owner: str, ttl_s: float, limit: int = 1) -> list[Job]:
        """Atomically lease up to `limit` claimable jobs.

        Claimable: PLANNED; RETRY_WAIT with not_before <= now; any non-terminal job whose
        lease expired (progress kept). Each claim sets state LEASED (unless resuming a
        later state, which keeps its state), owner, lease_until = db now + ttl, and
        lease_epoch + 1, attempts + 1.
        """
        ...

    def transition(self, lease: Lease, to_state: State, **fields: Any) -> bool:
        """Compare-and-set on (job_id, owner, epoch, state allowed by states.TRANSITIONS).

        `fields` may set outcome_class, outcome_reason, source, url, sha256, size, format,
        path, not_before, work. Returns False (zero rows) when the lease was lost or the
        transition is not allowed from the current state. Terminal and RETRY_WAIT
        transitions clear the lease.
        """
        ...

    def renew(self, lease: Lease, ttl_s: float) -> bool:
        """Extend a live lease; False if it was lost (expired and taken, or job moved on)."""
        ...

    def release(self, lease: Lease) -> bool:
        """Give a job back without counting it as done: the lease is cleared, an untouched
        LEASED job returns to PLANNED, a job with progress keeps its state; both are
        claimable at once. `attempts` is not rolled back."""
        ...

    def get_op(self, op_key: str) -> Op | None: ...

    def start_op(self, lease: Lease, op_key: str, op_type: OpType) -> bool:
        """Record an op as started (upsert); fenced by the lease. False if the lease is lost."""
        ...

    def finish_op(
        self,
        lease: Lease,
        op_key: str,
        status: OpStatus,
        result_code: str | None = None,
        result: Mapping[str, Any] | None = None,
    ) -> bool:
        """Mark an op done/failed with its result; fenced by the lease.

        Done is final: finishing an already-done op `done` again (a replayed op) keeps the
        first result and returns True while the lease is held; `failed` after `done`
        returns False. False otherwise means the lease was lost."""
        ...

    def job(self, job_id: int) -> Job | None: ...

    def job_by_key(self, idempotency_key: str) -> Job | None: ...

    def jobs(self, states: Iterable[State] | None = None) -> Iterator[Job]: ...

    def ops(self, job_id: int) -> list[Op]: ...

    def counts(self) -> dict[State, int]: ...

    def now(self) -> float:
        """The database clock (UNIX seconds): leases are judged by it, never the worker's."""
        ...

    def next_wakeup(self) -> float | None:
        """Earliest RETRY_WAIT not_before or lease_until among waiting jobs (None: none);
        lets an idle worker sleep exactly until something may become claimable."""
        ...

    def expire_leases(self) -> int:
        """Reconciler: return the number of non-terminal jobs whose lease has expired."""
        ...

    def stale_ops(self, older_than_s: float) -> list[Op]:
        """Reconciler: ops still `started` after `older_than_s` seconds."""
        ...

    def fail_stale_ops(self, older_than_s: float) -> int:
        """Reconciler: mark `started` ops older than `older_than_s` whose job holds no live
        lease as failed (result_code "stale") so they are re-run; return how many."""
        ...

    def retry_failed(
        self, classes: Iterable[str] | None = None, sources: Iterable[str] | None = None
    ) -> int:
        """Move FAILED jobs (of these classes/sources; default all retryable) back to PLANNED."""
        ...

    def record_events(self, events: Iterable[Mapping[str, Any]]) -> None:
        """Append telemetry events (run_id, job_id, ts, type, fields) to the events table."""
        ...

    def events(
        self, *, run_id: str | None = None, types: Iterable[str] | None = None
    ) -> Iterator[dict[str, Any]]:
        """Stored telemetry events in insertion order, shaped like `Event.as_dict()`."""
        ...

    def schema_version(self) -> int:
        """The applied schema version (0 for an empty database)."""
        ...

    def schema_listing(self) -> dict[str, Any]:
        """{"tables": {table: [columns]}, "indexes": {name: (table, [columns])}} — lets
        tests prove both dialects and every migration path build the same schema."""
        ...

    def close(self) -> None: ...
