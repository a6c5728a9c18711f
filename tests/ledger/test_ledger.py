"""The Ledger contract, run identically against SQLite and PostgreSQL."""

from __future__ import annotations

from collections import deque
from collections.abc import Callable

import pytest

from oafetch.ledger import Ledger, idempotency_key, op_key
from oafetch.ledger.base import Job, Lease, OpStatus, OpType, State
from oafetch.ledger.reconcile import reconcile
from oafetch.ledger.states import Via, can_transition

from .conftest import FakeClock

S = State


def plan_n(ledger: Ledger, n: int, prefix: str = "10.1/w") -> list[str]:
    works = [(idempotency_key(f"doi:{prefix}{i}"), {"doi": f"{prefix}{i}"}) for i in range(n)]
    ledger.plan(works)
    return [key for key, _ in works]


def claim_one(ledger: Ledger, owner: str = "A", ttl: float = 60.0) -> Job:
    jobs = ledger.claim(owner, ttl)
    assert len(jobs) == 1
    return jobs[0]


# -- plan -------------------------------------------------------------------------------------


def test_plan_is_idempotent(ledger: Ledger) -> None:
    works = [(idempotency_key(f"doi:10.1/{i}"), {"doi": f"10.1/{i}"}) for i in range(5)]
    first = ledger.plan(works)
    assert [r.inserted for r in first] == [True] * 5
    assert len({r.job_id for r in first}) == 5
    again = ledger.plan([*works[2:], (idempotency_key("doi:10.1/new"), {"doi": "10.1/new"})])
    assert [r.inserted for r in again] == [False, False, False, True]
    assert [r.job_id for r in again[:3]] == [r.job_id for r in first[2:]]
    assert ledger.counts()[S.PLANNED] == 6
    job = ledger.job_by_key(works[1][0])
    assert job is not None and job.work == {"doi": "10.1/1"} and job.state is S.PLANNED


def test_plan_duplicate_within_one_batch(ledger: Ledger) -> None:
    key = idempotency_key("doi:10.1/dup")
    res = ledger.plan([(key, {"doi": "10.1/dup"}), (key, {"doi": "10.1/dup", "input": "x"})])
    assert [r.inserted for r in res] == [True, False]
    assert res[0].job_id == res[1].job_id
    job = ledger.job(res[0].job_id)
    assert job is not None and job.work == {"doi": "10.1/dup"}  # first spelling kept


def test_plan_iter_commits_in_chunks(ledger: Ledger) -> None:
    works = ((idempotency_key(f"doi:10.1/{i}"), {"doi": f"10.1/{i}"}) for i in range(25))
    results = ledger.plan_iter(works, chunk=10)
    first = [next(results) for _ in range(10)]
    assert all(r.inserted for r in first)
    assert ledger.counts()[S.PLANNED] == 10  # the first chunk is committed and visible
    assert sum(r.inserted for r in results) == 15
    assert ledger.counts()[S.PLANNED] == 25


def test_plan_rejects_bad_keys(ledger: Ledger) -> None:
    with pytest.raises(ValueError, match="idempotency keys"):
        ledger.plan([("", {"doi": "10.1/x"})])


# -- claim and leases -------------------------------------------------------------------------


def test_claim_sets_lease_epoch_and_attempts(ledger: Ledger, clock: FakeClock) -> None:
    plan_n(ledger, 3)
    jobs = ledger.claim("A", 60.0, limit=2)
    assert len(jobs) == 2
    for job in jobs:
        assert job.state is S.LEASED
        assert job.lease_owner == "A"
        assert job.lease_until == pytest.approx(clock.t + 60.0)
        assert (job.lease_epoch, job.attempts) == (1, 1)
    assert len(ledger.claim("B", 60.0, limit=5)) == 1
    assert ledger.claim("C", 60.0, limit=5) == []
    assert ledger.counts()[S.LEASED] == 3


def test_expired_lease_is_reclaimed_with_next_epoch(ledger: Ledger, clock: FakeClock) -> None:
    plan_n(ledger, 1)
    a = claim_one(ledger, "A", ttl=30)
    clock.advance(29)
    assert ledger.claim("B", 30) == []  # still live
    assert ledger.expire_leases() == 0
    clock.advance(2)
    assert ledger.expire_leases() == 1
    b = claim_one(ledger, "B", ttl=30)
    assert b.job_id == a.job_id
    assert (b.lease_epoch, b.attempts, b.lease_owner) == (a.lease_epoch + 1, 2, "B")


def test_reclaim_keeps_progress_state(ledger: Ledger, clock: FakeClock) -> None:
    plan_n(ledger, 1)
    a = claim_one(ledger, "A")
    assert ledger.transition(a.lease, S.HEAD_DONE, url="https://h/x.pdf")
    assert ledger.transition(a.lease, S.STREAMING)
    clock.advance(61)
    b = claim_one(ledger, "B")
    assert b.state is S.STREAMING and b.url == "https://h/x.pdf"
    assert ledger.transition(b.lease, S.FINALIZED, sha256="ab" * 32, size=10, format="pdf")


def test_fencing_old_holder_loses_every_write(ledger: Ledger, clock: FakeClock) -> None:
    plan_n(ledger, 1)
    a = claim_one(ledger, "A", ttl=60)
    key = op_key(a.idempotency_key, OpType.HEAD, "https://h/x.pdf")
    assert ledger.start_op(a.lease, key, OpType.HEAD)
    clock.advance(61)
    # A's lease has expired but nobody took it yet: it still may not write.
    assert not ledger.transition(a.lease, S.HEAD_DONE)
    assert not ledger.renew(a.lease, 60)
    b = claim_one(ledger, "B", ttl=60)
    assert not ledger.transition(a.lease, S.HEAD_DONE)
    assert not ledger.finish_op(a.lease, key, OpStatus.DONE, "200", {"by": "A"})
    assert not ledger.renew(a.lease, 60)
    assert not ledger.release(a.lease)
    stream_key = op_key(a.idempotency_key, OpType.STREAM, "u")
    assert not ledger.start_op(a.lease, stream_key, OpType.STREAM)
    # Same owner name, stale epoch: still fenced.
    assert not ledger.transition(Lease(a.job_id, "B", a.lease_epoch), S.HEAD_DONE)
    assert ledger.start_op(b.lease, key, OpType.HEAD)
    assert ledger.finish_op(b.lease, key, OpStatus.DONE, "200", {"by": "B"})
    assert ledger.renew(b.lease, 60)
    assert ledger.transition(b.lease, S.HEAD_DONE)
    op = ledger.get_op(key)
    assert op is not None and op.result == {"by": "B"}
    assert [o.op_key for o in ledger.ops(a.job_id)] == [key]


def test_renew_extends_a_live_lease(ledger: Ledger, clock: FakeClock) -> None:
    plan_n(ledger, 1)
    a = claim_one(ledger, "A", ttl=30)
    clock.advance(20)
    assert ledger.renew(a.lease, 30)
    clock.advance(20)  # 40 s after the claim: alive only thanks to the renewal
    assert ledger.claim("B", 30) == []
    assert ledger.transition(a.lease, S.HEAD_DONE)
    job = ledger.job(a.job_id)
    assert job is not None and job.lease_until == pytest.approx(clock.t - 20 + 30)


def test_release_gives_the_job_back(ledger: Ledger) -> None:
    plan_n(ledger, 2)
    a = claim_one(ledger, "A")
    assert ledger.release(a.lease)
    released = ledger.job(a.job_id)
    assert released is not None and released.state is S.PLANNED
    assert released.lease_owner is None and released.lease_epoch == 1
    assert not ledger.transition(a.lease, S.HEAD_DONE)  # released: no longer ours
    b = ledger.claim("B", 60, limit=5)
    assert a.job_id in {j.job_id for j in b}


def test_release_keeps_progress(ledger: Ledger) -> None:
    plan_n(ledger, 1)
    a = claim_one(ledger, "A")
    assert ledger.transition(a.lease, S.HEAD_DONE)
    assert ledger.release(a.lease)
    b = claim_one(ledger, "B")  # claimable at once, without waiting for the TTL
    assert b.state is S.HEAD_DONE and b.lease_epoch == 2


# -- transitions ------------------------------------------------------------------------------


def _path_to(target: State) -> list[State]:
    """Shortest chain of WORKER edges from LEASED to `target` (breadth-first)."""
    queue: deque[list[State]] = deque([[S.LEASED]])
    while queue:
        path = queue.popleft()
        if path[-1] is target:
            return path[1:]
        for nxt in State:
            if can_transition(path[-1], nxt, Via.WORKER) and nxt not in path:
                queue.append([*path, nxt])
    raise AssertionError(f"{target} unreachable")


LEASED_STATES = [S.LEASED, S.HEAD_DONE, S.RESUME_OK, S.STREAMING, S.FINALIZED]


def test_ledger_enforces_the_transition_table(ledger: Ledger) -> None:
    keys = plan_n(ledger, len(LEASED_STATES) * len(State))
    jobs = ledger.claim("A", 600, limit=len(keys))
    assert len(jobs) == len(keys)
    pairs = [(frm, to) for frm in LEASED_STATES for to in State]
    for job, (frm, to) in zip(jobs, pairs, strict=True):
        for step in _path_to(frm):
            assert ledger.transition(job.lease, step)
        allowed = can_transition(frm, to, Via.WORKER)
        assert ledger.transition(job.lease, to) is allowed, (frm, to)
        after = ledger.job(job.job_id)
        assert after is not None and after.state is (to if allowed else frm)


def test_terminal_and_retry_wait_clear_the_lease(ledger: Ledger, clock: FakeClock) -> None:
    plan_n(ledger, 3)
    done, failed, waiting = ledger.claim("A", 60, limit=3)
    assert ledger.transition(done.lease, S.INDEXED, path="out/x.pdf", sha256="cd" * 32)
    assert ledger.transition(failed.lease, S.FAILED, outcome_class="no_oa_location")
    assert ledger.transition(waiting.lease, S.RETRY_WAIT, not_before=clock.t + 100)
    for job in (done, failed, waiting):
        row = ledger.job(job.job_id)
        assert row is not None and row.lease_owner is None and row.lease_until is None
        # No lease: the old holder can no longer move it anywhere.
        assert not ledger.transition(job.lease, S.FAILED)
    indexed = ledger.job(done.job_id)
    assert indexed is not None and indexed.path == "out/x.pdf"
    assert ledger.claim("B", 60) == []  # RETRY_WAIT not due, others terminal
    clock.advance(100)
    again = claim_one(ledger, "B")
    assert (again.job_id, again.state, again.attempts) == (waiting.job_id, S.LEASED, 2)
    assert again.not_before is None


def test_retry_wait_without_schedule_is_due_now(ledger: Ledger) -> None:
    plan_n(ledger, 1)
    a = claim_one(ledger)
    assert ledger.transition(a.lease, S.RETRY_WAIT, outcome_class="transient")
    assert claim_one(ledger, "B").job_id == a.job_id


def test_transition_rejects_unknown_fields(ledger: Ledger) -> None:
    plan_n(ledger, 1)
    a = claim_one(ledger)
    with pytest.raises(TypeError, match="lease_epoch"):
        ledger.transition(a.lease, S.HEAD_DONE, lease_epoch=99)


def test_transition_can_update_work_ids(ledger: Ledger) -> None:
    plan_n(ledger, 1)
    a = claim_one(ledger)
    assert ledger.transition(a.lease, S.HEAD_DONE, work={"doi": "10.1/w0", "pmid": "42"})
    job = ledger.job(a.job_id)
    assert job is not None and job.work == {"doi": "10.1/w0", "pmid": "42"}


# -- ops --------------------------------------------------------------------------------------


def test_done_op_is_replayed_unchanged(ledger: Ledger, clock: FakeClock) -> None:
    plan_n(ledger, 1)
    a = claim_one(ledger)
    key = op_key(a.idempotency_key, OpType.RESOLVE, "unpaywall")
    assert ledger.get_op(key) is None
    assert ledger.start_op(a.lease, key, OpType.RESOLVE)
    started = ledger.get_op(key)
    assert started is not None and started.status is OpStatus.STARTED
    clock.advance(1)
    result = {"candidates": [{"url": "https://h/x.pdf", "kind": "pdf"}], "note": "é"}
    assert ledger.finish_op(a.lease, key, OpStatus.DONE, "ok", result)
    done = ledger.get_op(key)
    assert done is not None
    assert (done.status, done.result, done.result_code) == (OpStatus.DONE, result, "ok")
    assert done.finished_at == pytest.approx(clock.t)
    clock.advance(1)
    assert ledger.start_op(a.lease, key, OpType.RESOLVE)  # lease held: True, op untouched
    assert ledger.get_op(key) == done
    assert not ledger.finish_op(a.lease, key, OpStatus.FAILED, "boom")  # done is final
    assert ledger.get_op(key) == done


def test_failed_op_is_restarted(ledger: Ledger, clock: FakeClock) -> None:
    plan_n(ledger, 1)
    a = claim_one(ledger)
    key = op_key(a.idempotency_key, OpType.STREAM, "https://h/x.pdf")
    assert ledger.start_op(a.lease, key, OpType.STREAM)
    assert ledger.finish_op(a.lease, key, OpStatus.FAILED, "reset")
    clock.advance(5)
    assert ledger.start_op(a.lease, key, OpType.STREAM)
    op = ledger.get_op(key)
    assert op is not None and op.status is OpStatus.STARTED
    assert op.started_at == pytest.approx(clock.t) and op.result_code is None


def test_finish_op_refuses_started_status(ledger: Ledger) -> None:
    plan_n(ledger, 1)
    a = claim_one(ledger)
    with pytest.raises(ValueError, match="done or failed"):
        ledger.finish_op(a.lease, "k", OpStatus.STARTED)


def test_ops_lists_a_jobs_ops_in_start_order(ledger: Ledger, clock: FakeClock) -> None:
    plan_n(ledger, 2)
    a, b = ledger.claim("A", 60, limit=2)
    keys = []
    for i, t in enumerate((OpType.RESOLVE, OpType.HEAD, OpType.STREAM)):
        keys.append(op_key(a.idempotency_key, t, f"ctx{i}"))
        assert ledger.start_op(a.lease, keys[-1], t)
        clock.advance(1)
    assert ledger.start_op(b.lease, op_key(b.idempotency_key, OpType.HEAD, "x"), OpType.HEAD)
    assert [o.op_key for o in ledger.ops(a.job_id)] == keys
    assert [o.op_type for o in ledger.ops(a.job_id)] == [OpType.RESOLVE, OpType.HEAD, OpType.STREAM]


# -- reconciler -------------------------------------------------------------------------------


def test_reconcile_fails_stale_ops_of_dead_leases(ledger: Ledger, clock: FakeClock) -> None:
    plan_n(ledger, 2)
    jobs = ledger.claim("A", 60, limit=2)
    keys = {j.job_id: op_key(j.idempotency_key, OpType.STREAM, "u") for j in jobs}
    for job in jobs:
        assert ledger.start_op(job.lease, keys[job.job_id], OpType.STREAM)
    clock.advance(61)
    held = claim_one(ledger, "B")  # B takes over one of the two dead jobs
    orphan = next(j for j in jobs if j.job_id != held.job_id)
    assert {o.op_key for o in ledger.stale_ops(60)} == set(keys.values())
    assert ledger.stale_ops(62) == []
    report = reconcile(ledger, stale_after_s=60)
    assert report.expired_leases == 1  # only the orphan still has an expired lease
    assert report.stale_ops_failed == 1  # the op of the job B holds is left to B
    orphan_op, held_op = ledger.get_op(keys[orphan.job_id]), ledger.get_op(keys[held.job_id])
    assert orphan_op is not None and orphan_op.status is OpStatus.FAILED
    assert orphan_op.result_code == "stale"
    assert held_op is not None and held_op.status is OpStatus.STARTED
    assert reconcile(ledger, stale_after_s=60).stale_ops_failed == 0


# -- retry, counts, jobs, events ----------------------------------------------------------------


def _fail(ledger: Ledger, job: Job, cls: str, source: str | None = None) -> None:
    assert ledger.transition(
        job.lease, S.FAILED, outcome_class=cls, outcome_reason="r", source=source
    )


def test_retry_failed_defaults_to_retryable_classes(ledger: Ledger) -> None:
    plan_n(ledger, 4)
    j = ledger.claim("A", 60, limit=4)
    _fail(ledger, j[0], "transient")
    _fail(ledger, j[1], "rate_limited", "unpaywall")
    _fail(ledger, j[2], "no_oa_location")
    _fail(ledger, j[3], "budget_exhausted", "openalex")
    assert ledger.retry_failed(sources=["unpaywall"]) == 1
    assert ledger.retry_failed() == 2
    assert ledger.retry_failed() == 0
    counts = ledger.counts()
    assert (counts[S.PLANNED], counts[S.FAILED]) == (3, 1)
    retried = ledger.job(j[0].job_id)
    assert retried is not None and retried.outcome_class is None and retried.outcome_reason is None
    assert ledger.retry_failed(classes=["no_oa_location"]) == 1
    assert {job.job_id for job in ledger.claim("B", 60, limit=10)} == {x.job_id for x in j}


def test_retry_failed_rejects_unknown_class(ledger: Ledger) -> None:
    with pytest.raises(ValueError, match="bogus"):
        ledger.retry_failed(classes=["bogus"])


def test_counts_and_jobs_filter(ledger: Ledger) -> None:
    plan_n(ledger, 5)
    a, b = ledger.claim("A", 60, limit=2)
    assert ledger.transition(a.lease, S.DEDUPED)
    counts = ledger.counts()
    assert set(counts) == set(State)
    picked = (counts[S.PLANNED], counts[S.LEASED], counts[S.DEDUPED], counts[S.FAILED])
    assert picked == (3, 1, 1, 0)
    assert [j.job_id for j in ledger.jobs([S.LEASED, S.DEDUPED])] == sorted([a.job_id, b.job_id])
    assert len(list(ledger.jobs())) == 5
    assert list(ledger.jobs([])) == []


def test_jobs_pages_through_many(ledger: Ledger) -> None:
    plan_n(ledger, 2500)
    ids = [j.job_id for j in ledger.jobs()]
    assert len(ids) == 2500 and ids == sorted(set(ids))


def test_record_events(ledger: Ledger, clock: FakeClock) -> None:
    ledger.record_events(
        [
            {"run_id": "r1", "job_id": 7, "ts": 1.5, "type": "job_planned", "fields": {"n": 1}},
            {"run_id": "r1", "type": "http_request", "fields": {"host": "example.org", "ms": 3}},
            {"run_id": "r2", "job_id": None, "ts": 2.0, "type": "job_planned"},
        ]
    )
    ledger.record_events([])
    got = list(ledger.events())
    first = {"run_id": "r1", "job_id": 7, "ts": 1.5, "type": "job_planned", "fields": {"n": 1}}
    assert got[0] == first
    assert got[1]["ts"] == pytest.approx(clock.t)  # missing ts: the ledger's clock
    assert got[1]["fields"] == {"host": "example.org", "ms": 3}
    assert got[2]["fields"] == {} and got[2]["job_id"] is None
    assert [e["run_id"] for e in ledger.events(types=["job_planned"])] == ["r1", "r2"]
    assert [e["type"] for e in ledger.events(run_id="r1")] == ["job_planned", "http_request"]
    with pytest.raises(ValueError, match="run_id"):
        ledger.record_events([{"type": "x"}])


def test_now_is_the_injected_clock(ledger: Ledger, clock: FakeClock) -> None:
    assert ledger.now() == clock.t
    clock.advance(5)
    assert ledger.now() == clock.t


def test_database_clock_without_injection(make_ledger: Callable[..., Ledger]) -> None:
    import time

    ledger = make_ledger(fake_clock=False)
    before = time.time()
    now = ledger.now()
    assert before - 5 < now < time.time() + 5
    plan_n(ledger, 1)
    job = claim_one(ledger, ttl=60)
    assert job.lease_until is not None and job.lease_until == pytest.approx(now + 60, abs=5)


def test_claim_rejects_nonsense(ledger: Ledger) -> None:
    with pytest.raises(ValueError, match="ttl_s"):
        ledger.claim("A", 0)
    with pytest.raises(ValueError, match="limit"):
        ledger.claim("A", 60, limit=0)


def test_retry_failed_with_empty_filters_does_nothing(ledger: Ledger) -> None:
    plan_n(ledger, 1)
    _fail(ledger, claim_one(ledger), "transient", "openalex")
    assert ledger.retry_failed(classes=[]) == 0
    assert ledger.retry_failed(sources=[]) == 0
    assert ledger.counts()[S.FAILED] == 1


def test_next_wakeup(ledger: Ledger, clock: FakeClock) -> None:
    assert ledger.next_wakeup() is None
    plan_n(ledger, 3)
    assert ledger.next_wakeup() is None  # PLANNED jobs are claimable now: nothing to wait for
    a, b = ledger.claim("A", 60, limit=2)
    assert ledger.next_wakeup() == pytest.approx(clock.t + 60)
    assert ledger.transition(a.lease, S.RETRY_WAIT, not_before=clock.t + 10)
    assert ledger.next_wakeup() == pytest.approx(clock.t + 10)
    assert ledger.transition(b.lease, S.FAILED, outcome_class="link_dead")
    assert ledger.next_wakeup() == pytest.approx(clock.t + 10)
