"""The worker loop: claim -> cascade -> finalize -> record (DESIGN §2, §7).

One `Runner` owns one event loop's worth of work: it plans inputs into the ledger, claims
jobs (at most `workers` in flight), keeps each lease alive with a heartbeat, runs the
cascade, commits the winner to the store, and writes one line per work to `results.jsonl`.

Why every ledger write goes through `JobJournal`: each one is fenced by the lease
(owner + epoch). The moment a write changes zero rows the job belongs to someone else, and
`LeaseLost` unwinds this job's task without touching anything more.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import socket
import time
import uuid
from collections import Counter
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from . import __version__
from .cascade import Cascade, CascadeResult, Journal, NullJournal
from .config import Config
from .errors import LeaseLost, StoreError
from .ids import WorkIds
from .inputs import InputItem
from .ledger.base import Job, Lease, Ledger, OpStatus, OpType, State
from .ledger.keys import idempotency_key, op_key
from .ledger.reconcile import reconcile
from .ledger.states import Via, can_transition
from .outcomes import FailureClass, Format, Outcome, Status
from .store import Store
from .telemetry.events import Emitter, EventType

__all__ = ["JobJournal", "ResultsWriter", "RunSummary", "Runner", "make_owner"]

_SUCCESS_STATES = (State.INDEXED, State.DEDUPED)
# Steps the runner records when it can, but which a resumed job may already be past.
_PROGRESS_MARKERS = frozenset({State.HEAD_DONE, State.RESUME_OK})


def make_owner() -> str:
    """A lease owner id that says where it lives, so a restart can free a dead pid's leases."""
    return f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"


def _owner_is_dead_local(owner: str) -> bool:
    host, _, rest = owner.partition(":")
    pid_text = rest.split(":", 1)[0]
    if host != socket.gethostname() or not pid_text.isdigit():
        return False
    pid = int(pid_text)
    if pid == os.getpid():
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    except PermissionError:
        return False
    return False


class ResultsWriter:
    """`results.jsonl`: one JSON line per work, one `os.write` each (safe across processes)."""

    def __init__(self, path: Path | None, *, truncate: bool = False) -> None:
        self.path = path
        self._fd: int | None = None
        if path is not None:
            path.parent.mkdir(parents=True, exist_ok=True)
            flags = os.O_WRONLY | os.O_APPEND | os.O_CREAT | (os.O_TRUNC if truncate else 0)
            self._fd = os.open(path, flags, 0o644)

    def write(self, record: dict[str, Any]) -> None:
        if self._fd is not None:
            line = json.dumps(record, separators=(",", ":"), ensure_ascii=False) + "\n"
            os.write(self._fd, line.encode("utf-8"))

    def close(self) -> None:
        if self._fd is not None:
            os.close(self._fd)
            self._fd = None


@dataclass(slots=True)
class RunSummary:
    """What one run did; the CLI prints it and picks the exit code from it."""

    statuses: Counter[str] = field(default_factory=Counter)
    classes: Counter[str] = field(default_factory=Counter)
    formats: Counter[str] = field(default_factory=Counter)
    sources: Counter[str] = field(default_factory=Counter)
    bytes: int = 0
    suspended: int = 0
    lease_lost: int = 0
    interrupted: bool = False
    started: float = field(default_factory=time.monotonic)
    finished: float | None = None

    @property
    def total(self) -> int:
        return sum(self.statuses.values())

    @property
    def failed(self) -> int:
        return self.statuses[Status.FAILED.value]

    @property
    def elapsed(self) -> float:
        return (self.finished or time.monotonic()) - self.started

    def add(self, outcome: Outcome) -> None:
        self.statuses[outcome.status.value] += 1
        if outcome.failure_class is not None:
            self.classes[outcome.failure_class.value] += 1
        if outcome.format is not None and outcome.status is not Status.ALREADY_DONE:
            self.formats[outcome.format.value] += 1
        if outcome.source and outcome.status in (Status.DOWNLOADED, Status.DEDUPED):
            self.sources[outcome.source] += 1


class JobJournal:
    """The cascade's journal for one leased job: fenced ops and transitions, with events."""

    def __init__(self, ledger: Ledger, job: Job, emit: Emitter, ttl_s: float) -> None:
        self.ledger = ledger
        self.job = job
        self.lease: Lease = job.lease
        self.emit = emit
        self.ttl_s = ttl_s
        self.state_now: State = job.state

    def _key(self, op_type: OpType, ctx: str) -> str:
        return op_key(self.job.idempotency_key, op_type.value, ctx)

    def replay(self, op_type: OpType, ctx: str) -> dict[str, Any] | None:
        op = self.ledger.get_op(self._key(op_type, ctx))
        if op is None or op.status is not OpStatus.DONE:
            return None
        self.emit(EventType.IDEMPOTENCY_REPLAY, self.job.job_id, op=op_type.value, ctx=ctx)
        return op.result or {}

    def seen(self, op_type: OpType, ctx: str) -> bool:
        return self.ledger.get_op(self._key(op_type, ctx)) is not None

    def started(self, op_type: OpType, ctx: str) -> None:
        if not self.ledger.start_op(self.lease, self._key(op_type, ctx), op_type):
            raise LeaseLost(f"lease on job {self.job.job_id} lost before {op_type.value}")
        self.emit(EventType.OPERATION_STARTED, self.job.job_id, op=op_type.value, ctx=ctx)

    def done(self, op_type: OpType, ctx: str, result: dict[str, Any], code: str = "ok") -> None:
        self._finish(op_type, ctx, OpStatus.DONE, code, result)

    def failed(
        self, op_type: OpType, ctx: str, code: str, result: dict[str, Any] | None = None
    ) -> None:
        self._finish(op_type, ctx, OpStatus.FAILED, code, result)

    def _finish(
        self, op_type: OpType, ctx: str, status: OpStatus, code: str, result: dict[str, Any] | None
    ) -> None:
        if not self.ledger.finish_op(self.lease, self._key(op_type, ctx), status, code, result):
            raise LeaseLost(f"lease on job {self.job.job_id} lost finishing {op_type.value}")
        self.emit(
            EventType.OPERATION_COMPLETED,
            self.job.job_id,
            op=op_type.value,
            ctx=ctx,
            status=status.value,
            code=code,
        )

    def state(self, to_state: State, **fields: Any) -> None:
        if to_state is self.state_now and to_state is not State.STREAMING:
            return
        if to_state in _PROGRESS_MARKERS and not can_transition(
            self.state_now, to_state, Via.WORKER
        ):
            # A job taken over after a crash may already be past this step (RESUME_OK ->
            # HEAD_DONE is no edge): the marker is informative, the job goes on from where it is.
            return
        if not self.ledger.transition(self.lease, to_state, **fields):
            raise LeaseLost(f"lease on job {self.job.job_id} lost moving to {to_state.value}")
        self.emit(
            EventType.JOB_STATE_CHANGED,
            self.job.job_id,
            from_state=self.state_now.value,
            to_state=to_state.value,
        )
        self.state_now = to_state
        if to_state.terminal or to_state is State.RETRY_WAIT:
            self.emit(EventType.LEASE_RELEASED, self.job.job_id, reason=to_state.value)

    def check(self) -> None:
        """Raise LeaseLost unless we still hold the job (before touching shared files)."""
        if not self.renew():
            raise LeaseLost(f"lease on job {self.job.job_id} lost")

    def renew(self) -> bool:
        ok = self.ledger.renew(self.lease, self.ttl_s)
        if ok:
            self.emit(EventType.LEASE_RENEWED, self.job.job_id, epoch=self.lease.epoch)
        return ok


def outcome_from_job(job: Job, status: Status | None = None) -> Outcome:
    """Rebuild the outcome the ledger remembers for a job (used for `already_done`)."""
    if job.state in _SUCCESS_STATES:
        st = status or (Status.DEDUPED if job.state is State.DEDUPED else Status.DOWNLOADED)
        return Outcome(
            status=st,
            format=Format(job.format) if job.format else None,
            sha256=job.sha256,
            size=job.size,
            path=job.path,
            source=job.source,
            url=job.url,
        )
    cls = FailureClass(job.outcome_class) if job.outcome_class else FailureClass.TRANSIENT
    return Outcome(
        status=Status.FAILED,
        failure_class=cls,
        reason=job.outcome_reason,
        source=job.source,
        url=job.url,
    )


def result_record(
    raw: str | None, ids: WorkIds | None, outcome: Outcome, job_id: int | None
) -> dict[str, Any]:
    return {
        "input": raw,
        "ids": ids.as_dict() if ids else {},
        "status": outcome.status.value,
        "class": outcome.failure_class.value if outcome.failure_class else None,
        "reason": outcome.reason,
        "format": outcome.format.value if outcome.format else None,
        "sha256": outcome.sha256,
        "size": outcome.size,
        "path": outcome.path,
        "source": outcome.source,
        "url": outcome.url,
        "version": outcome.version,
        "technique": outcome.technique,
        "identity_verified": outcome.identity_verified,
        "retry_at": outcome.retry_at,
        "job_id": job_id,
    }


class Runner:
    """Plans and runs jobs for one output folder."""

    def __init__(
        self,
        config: Config,
        *,
        cascade: Cascade,
        store: Store,
        ledger: Ledger | None,
        emitter: Emitter,
        results: ResultsWriter,
        on_outcome: Callable[[Outcome], None] | None = None,
        owner: str | None = None,
    ) -> None:
        self.config = config
        self.cascade = cascade
        self.store = store
        self.ledger = ledger
        self.emit = emitter
        self.results = results
        self.summary = RunSummary()
        self.owner = owner or make_owner()
        self._on_outcome = on_outcome or (lambda _o: None)
        self._stopping = False
        self.in_flight = 0

    # -- bookkeeping -------------------------------------------------------------------

    def _record(
        self, raw: str | None, ids: WorkIds | None, outcome: Outcome, job_id: int | None
    ) -> None:
        self.results.write(result_record(raw, ids, outcome, job_id))
        self.summary.add(outcome)
        self._on_outcome(outcome)
        self.emit(
            EventType.JOB_FINISHED,
            job_id,
            status=outcome.status.value,
            failure_class=outcome.failure_class.value if outcome.failure_class else None,
            source=outcome.source,
            format=outcome.format.value if outcome.format else None,
            bytes=outcome.size or 0,
        )

    def record_invalid(self, item: InputItem) -> None:
        outcome = Outcome(Status.FAILED, FailureClass.INVALID_INPUT, reason=item.error)
        self._record(item.raw, None, outcome, None)

    def stop(self) -> None:
        """Ask the claim loop to stop claiming; jobs in flight are cancelled by the caller."""
        self._stopping = True

    # -- planning ----------------------------------------------------------------------

    def plan(
        self, items: Iterable[InputItem], *, report_done: bool = True, batch: int = 5000
    ) -> int:
        """Insert jobs for valid items; report invalid ones and (optionally) ones already done."""
        assert self.ledger is not None
        planned = 0
        chunk: list[InputItem] = []

        def flush() -> None:
            nonlocal planned
            assert self.ledger is not None
            pairs = []
            for it in chunk:
                assert it.ids is not None
                work = {**it.ids.as_dict(), "input": it.raw}
                pairs.append((idempotency_key(it.ids.key()), work))
            results = self.ledger.plan(pairs)
            for it, (key, _), res in zip(chunk, pairs, results, strict=True):
                if res.inserted:
                    planned += 1
                    self.emit(
                        EventType.JOB_PLANNED, res.job_id, work_key=it.ids.key() if it.ids else None
                    )
                elif report_done:
                    job = self.ledger.job_by_key(key)
                    if (
                        job is not None
                        and job.state is State.RETRY_WAIT
                        and job.not_before
                        and (job.not_before - self.ledger.now() > self.config.retry_wait_max_s)
                    ):
                        cls = FailureClass(job.outcome_class or FailureClass.TRANSIENT.value)
                        parked = _parked(cls, job.outcome_reason, job.not_before)
                        self._record(it.raw, it.ids, parked, job.job_id)
                    elif job is not None and job.state.terminal:
                        outcome = outcome_from_job(job)
                        if outcome.ok:
                            outcome = replace(outcome, status=Status.ALREADY_DONE)
                        self._record(it.raw, it.ids, outcome, job.job_id)
            chunk.clear()

        for item in items:
            if item.ids is None:
                self.record_invalid(item)
                continue
            chunk.append(item)
            if len(chunk) >= batch:
                flush()
        if chunk:
            flush()
        return planned

    # -- the ledger-backed loop --------------------------------------------------------

    def recover(self) -> dict[str, int]:
        """Reconciler at start: free leases of dead local workers, drop stale parts."""
        assert self.ledger is not None
        counts = {
            "released_dead_owner_leases": 0,
            "expired_leases": 0,
            "stale_ops_failed": 0,
            "stale_parts_removed": 0,
        }
        live = [s for s in State if not s.terminal and s not in (State.PLANNED, State.RETRY_WAIT)]
        for job in self.ledger.jobs(live):
            if (
                job.lease_owner
                and _owner_is_dead_local(job.lease_owner)
                and self.ledger.release(job.lease)
            ):
                counts["released_dead_owner_leases"] += 1
        counts["expired_leases"] = self.ledger.expire_leases()
        counts["stale_ops_failed"] = reconcile(
            self.ledger, stale_after_s=self.config.lease_ttl_s
        ).stale_ops_failed
        with contextlib.suppress(AttributeError, OSError):
            for part in self.store.stale_parts(older_than_s=7 * 86400):
                part.unlink()
                counts["stale_parts_removed"] += 1
        if any(counts.values()):
            self.emit(EventType.CRASH_RECOVERY, None, **counts)
        return counts

    async def run_ledger(self, *, follow: bool = False, poll_s: float = 0.5) -> RunSummary:
        """Claim and run jobs until none is left (or forever with `follow`)."""
        assert self.ledger is not None
        ledger = self.ledger
        workers = self.config.workers
        tasks: set[asyncio.Task[None]] = set()
        try:
            while not self._stopping:
                free = workers - len(tasks)
                jobs: list[Job] = []
                if free > 0:
                    t0 = time.monotonic()
                    jobs = ledger.claim(self.owner, self.config.lease_ttl_s, limit=free)
                    claim_ms = round((time.monotonic() - t0) * 1000, 3)
                    for job in jobs:
                        self.emit(
                            EventType.JOB_LEASED,
                            job.job_id,
                            epoch=job.lease_epoch,
                            attempts=job.attempts,
                            state=job.state.value,
                            claim_ms=claim_ms,
                        )
                        tasks.add(asyncio.create_task(self._run_job(job)))
                self.in_flight = len(tasks)
                if tasks:
                    timeout = None if len(tasks) >= workers else poll_s
                    done, _ = await asyncio.wait(
                        tasks, timeout=timeout, return_when=asyncio.FIRST_COMPLETED
                    )
                    for t in done:
                        tasks.discard(t)
                        t.result()
                    continue
                if jobs:
                    continue
                wake = self._next_wakeup()
                if wake is None:
                    if not follow:
                        break
                    await asyncio.sleep(poll_s)
                    continue
                delay = max(0.0, wake - ledger.now())
                if not follow and delay > self.config.retry_wait_max_s:
                    self.summary.suspended = self._count_waiting()
                    break
                # Wake at the earliest timer, but look again every few seconds: another
                # process may plan new work or release a lease meanwhile.
                await asyncio.sleep(max(0.05, min(delay, poll_s if follow else 5.0)))
        finally:
            for t in tasks:
                t.cancel()
            if tasks:
                await asyncio.gather(*tasks, return_exceptions=True)
            self.in_flight = 0
            self.summary.finished = time.monotonic()
        return self.summary

    def _next_wakeup(self) -> float | None:
        """When could a job become claimable (RETRY_WAIT timer, another worker's lease)?"""
        assert self.ledger is not None
        return self.ledger.next_wakeup()

    def _count_waiting(self) -> int:
        assert self.ledger is not None
        return self.ledger.counts().get(State.RETRY_WAIT, 0)

    async def _run_job(self, job: Job) -> None:
        assert self.ledger is not None
        journal = JobJournal(self.ledger, job, self.emit, self.config.lease_ttl_s)
        me = asyncio.current_task()
        assert me is not None
        lost = False

        async def heartbeat() -> None:
            nonlocal lost
            interval = self.config.lease_ttl_s / 3
            while True:
                await asyncio.sleep(interval)
                if not journal.renew():
                    lost = True
                    me.cancel()
                    return

        hb = asyncio.create_task(heartbeat())
        try:
            await self._process(job, journal)
        except LeaseLost:
            self.summary.lease_lost += 1
        except StoreError as exc:
            # A full or unwritable disk fails every job alike: park this one for later
            # (nothing was committed, its .part may resume) and stop the run with the error.
            with contextlib.suppress(LeaseLost):
                journal.state(
                    State.RETRY_WAIT,
                    not_before=self.ledger.now() + self.config.retry_backoff_s,
                    outcome_class=FailureClass.TRANSIENT.value,
                    outcome_reason=str(exc),
                )
            self.stop()
            raise
        except asyncio.CancelledError:
            if not lost:
                with contextlib.suppress(Exception):
                    if self.ledger.release(journal.lease):
                        self.emit(EventType.LEASE_RELEASED, job.job_id, reason="interrupted")
                raise
            self.summary.lease_lost += 1
            self.emit(EventType.LEASE_RELEASED, job.job_id, reason="lease_lost")
        finally:
            hb.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await hb

    def _committed_blob(self, job: Job) -> tuple[Path, str, int, Format, dict[str, Any]] | None:
        """A job killed between committing its blob and recording FINALIZED: the done STREAM
        op names the bytes, the FINALIZE op proves the commit began, the blob that it ended."""
        assert self.ledger is not None
        for op in self.ledger.ops(job.job_id):
            r = op.result or {}
            sha, fmt, size = r.get("sha256"), r.get("format"), r.get("size")
            if op.op_type is not OpType.STREAM or op.status is not OpStatus.DONE:
                continue
            if not (sha and fmt):
                continue
            fin = self.ledger.get_op(op_key(job.idempotency_key, OpType.FINALIZE.value, sha))
            blob = self.store.blob_path(sha, fmt)
            if fin is not None and blob.exists() and blob.stat().st_size == size:
                return blob, sha, int(size), Format(fmt), r
        return None

    async def _process(self, job: Job, journal: JobJournal) -> None:
        ids = WorkIds.from_dict(job.work)
        raw = job.work.get("input")
        if job.state is State.STREAMING and (found := self._committed_blob(job)) is not None:
            blob, sha, size, fmt, r = found
            journal.state(
                State.FINALIZED,
                sha256=sha,
                size=size,
                format=fmt.value,
                source=r.get("source"),
                url=r.get("url") or r.get("final_url"),
            )
            outcome = self._index(
                ids,
                journal,
                blob,
                sha,
                size,
                fmt,
                existed=False,
                provenance={"source": r.get("source"), "url": r.get("url") or r.get("final_url")},
            )
            self._record(raw, ids, outcome, job.job_id)
            return
        # A job claimed after a crash may already hold its artifact: finish, don't refetch.
        if job.state is State.FINALIZED and job.sha256 and job.format:
            blob = self.store.blob_path(job.sha256, job.format)
            if blob.exists():
                outcome = self._index(
                    ids,
                    journal,
                    blob,
                    job.sha256,
                    job.size or blob.stat().st_size,
                    Format(job.format),
                    existed=False,
                    provenance={"source": job.source, "url": job.url},
                )
                self._record(raw, ids, outcome, job.job_id)
                return
            # The blob of a finalized job is gone (deleted by hand): nothing to resume from.
            reason = (
                f"finalized blob {blob.name} is missing from the store; "
                "run 'oafetch retry --class corrupt_or_partial'"
            )
            cls = FailureClass.CORRUPT_OR_PARTIAL
            journal.state(State.FAILED, outcome_class=cls.value, outcome_reason=reason)
            self._record(raw, ids, Outcome(Status.FAILED, cls, reason=reason), job.job_id)
            return
        result = await self.cascade.run(
            ids,
            job_key=job.idempotency_key,
            journal=journal,
            job_id=job.job_id,
            title=job.work.get("title"),
        )
        final = self._conclude(result, journal, job)
        if final is not None:
            self._record(raw, result.ids, final, job.job_id)

    def _conclude(self, result: CascadeResult, journal: Journal, job: Job | None) -> Outcome | None:
        """Turn a cascade result into ledger state and an outcome (None: will be retried)."""
        if result.winner is not None:
            return self._finalize(result, journal, job.job_id if job else None)
        cls = result.failure or FailureClass.NO_OA_LOCATION
        attempts = job.attempts if job else self.config.max_job_attempts
        if cls.retryable and attempts < self.config.max_job_attempts:
            now = self.ledger.now() if self.ledger else time.time()
            backoff = self.config.retry_backoff_s * (4 ** max(0, attempts - 1))
            not_before = max(result.retry_at or 0.0, now + backoff)
            journal.state(
                State.RETRY_WAIT,
                not_before=not_before,
                outcome_class=cls.value,
                outcome_reason=result.reason,
            )
            if not_before - now <= self.config.retry_wait_max_s:
                return None  # this run will try it again
            return _parked(cls, result.reason, not_before)
        journal.state(
            State.FAILED,
            outcome_class=cls.value,
            outcome_reason=result.reason,
            work={**result.ids.as_dict(), **({"input": job.work.get("input")} if job else {})},
        )
        return Outcome(Status.FAILED, cls, reason=result.reason)

    def _finalize(self, result: CascadeResult, journal: Journal, job_id: int | None) -> Outcome:
        w = result.winner
        assert w is not None and w.verdict.format is not None
        fmt = w.verdict.format
        sha = w.download.sha256
        seen_before = isinstance(journal, JobJournal) and journal.seen(OpType.FINALIZE, sha)
        journal.started(OpType.FINALIZE, sha)
        blob, existed = self.store.commit(w.download.part_path, sha, fmt.value)
        # Our own earlier, interrupted FINALIZE may have put the blob there: not a dedupe.
        existed = existed and not seen_before
        journal.done(OpType.FINALIZE, sha, {"blob": str(blob), "existed": existed})
        journal.state(
            State.FINALIZED,
            sha256=sha,
            size=w.download.size,
            format=fmt.value,
            source=w.candidate.source,
            url=w.candidate.url,
        )
        self.emit(
            EventType.ARTIFACT_STORED,
            job_id,
            sha256=sha,
            size=w.download.size,
            format=fmt.value,
            deduped=existed,
            source=w.candidate.source,
            url=w.candidate.url,
        )
        self.summary.bytes += 0 if existed else w.download.size
        provenance = {
            "source": w.candidate.source,
            "also_from": list(w.candidate.also_from),
            "url": w.candidate.url,
            "final_url": w.download.final_url,
            "version": w.candidate.version.value,
            "host_type": w.candidate.host_type.value,
            "license": w.candidate.license,
            "technique": w.candidate.technique,
            "tier": w.tier,
            "identity_verified": w.verdict.identity_verified,
            "title": result.title,
            # Validators for `oafetch revalidate` (conditional GET: 304 = unchanged).
            "etag": w.download.etag,
            "last_modified": w.download.last_modified,
            **({"wayback": dict(w.candidate.extra)} if w.candidate.extra else {}),
        }
        out = self._index(
            result.ids,
            journal,
            blob,
            sha,
            w.download.size,
            fmt,
            existed=existed,
            provenance=provenance,
        )
        return Outcome(
            status=out.status,
            format=fmt,
            sha256=sha,
            size=w.download.size,
            path=out.path,
            source=w.candidate.source,
            url=w.candidate.url,
            version=w.candidate.version.value,
            technique=w.candidate.technique,
            identity_verified=w.verdict.identity_verified,
        )

    def _index(
        self,
        ids: WorkIds,
        journal: Journal,
        blob: Path,
        sha: str,
        size: int,
        fmt: Format,
        *,
        existed: bool,
        provenance: dict[str, Any],
    ) -> Outcome:
        journal.started(OpType.INDEX, sha)
        friendly = self.store.link_friendly(ids, blob, fmt.value)
        self.store.write_sidecar(
            ids,
            {
                **provenance,
                "ids": ids.as_dict(),
                "sha256": sha,
                "size": size,
                "format": fmt.value,
                "blob": self._rel(blob),
                "fetched_at": datetime.now(UTC).isoformat(timespec="seconds"),
                "oafetch_version": __version__,
            },
        )
        rel = self._rel(friendly)
        journal.done(OpType.INDEX, sha, {"path": rel})
        final = State.DEDUPED if existed else State.INDEXED
        journal.state(final, path=rel)
        return Outcome(
            status=Status.DEDUPED if existed else Status.DOWNLOADED,
            format=fmt,
            sha256=sha,
            size=size,
            path=rel,
            source=provenance.get("source"),
            url=provenance.get("url"),
        )

    def _rel(self, path: Path) -> str:
        try:
            return str(path.relative_to(self.config.out))
        except ValueError:
            return str(path)

    # -- the ledger-less loop (--disable-idempotency) ----------------------------------

    async def run_memory(self, items: Iterator[InputItem]) -> RunSummary:
        """Run without any database: bounded concurrency over the input stream."""
        sem = asyncio.Semaphore(self.config.workers)
        tasks: set[asyncio.Task[None]] = set()

        async def one(item: InputItem) -> None:
            assert item.ids is not None
            try:
                key = idempotency_key(item.ids.key())
                for attempt in range(1, self.config.max_job_attempts + 1):
                    result = await self.cascade.run(item.ids, job_key=key, journal=NullJournal())
                    if (
                        result.winner is not None
                        or not (result.failure and result.failure.retryable)
                        or attempt == self.config.max_job_attempts
                    ):
                        break
                    delay = max(
                        (result.retry_at or 0) - time.time(),
                        self.config.retry_backoff_s * 4 ** (attempt - 1),
                    )
                    await asyncio.sleep(min(delay, self.config.retry_wait_max_s))
                self._record(item.raw, result.ids, self._conclude_memory(result), None)
            finally:
                sem.release()

        try:
            for item in items:
                if self._stopping:
                    break
                if item.ids is None:
                    self.record_invalid(item)
                    continue
                await sem.acquire()
                task = asyncio.create_task(one(item))
                tasks.add(task)
                task.add_done_callback(tasks.discard)
                self.in_flight = len(tasks)
            if tasks:
                await asyncio.gather(*tasks)
        finally:
            for t in tasks:
                t.cancel()
            self.summary.finished = time.monotonic()
        return self.summary

    def _conclude_memory(self, result: CascadeResult) -> Outcome:
        if result.winner is not None:
            return self._finalize(result, NullJournal(), None)
        cls = result.failure or FailureClass.NO_OA_LOCATION
        return Outcome(Status.FAILED, cls, reason=result.reason)


def _parked(cls: FailureClass, reason: str | None, not_before: float) -> Outcome:
    """A job left in RETRY_WAIT past this run: reported failed now, retried by a later run."""
    when = datetime.fromtimestamp(not_before, UTC).isoformat(timespec="seconds")
    return Outcome(
        Status.FAILED, cls, reason=f"{reason}; waiting until {when}", retry_at=not_before
    )
