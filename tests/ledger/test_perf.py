"""Cost budgets of the SQLite ledger (DESIGN §7/§11): per-job overhead and bulk planning.

Budgets carry a wide margin over measured values (≈0.2 ms of transitions per job, ≈27 s
for a million planned jobs on a shared 2-core box) so they only fail on a real regression.
"""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from oafetch.ledger import idempotency_key, op_key
from oafetch.ledger.base import OpStatus, OpType, State
from oafetch.ledger.sqlite import SqliteLedger

STEPS = (
    (State.HEAD_DONE, OpType.HEAD),
    (State.STREAMING, OpType.STREAM),
    (State.FINALIZED, OpType.FINALIZE),
    (State.INDEXED, OpType.INDEX),
)


def _works(n: int, prefix: str) -> list[tuple[str, dict[str, str]]]:
    return [(idempotency_key(f"doi:{prefix}{i}"), {"doi": f"{prefix}{i}"}) for i in range(n)]


def test_all_transitions_of_one_job_cost_under_a_millisecond(tmp_path: Path) -> None:
    n = 300
    with SqliteLedger(tmp_path / "l.db") as ledger:
        ledger.migrate()
        ledger.plan(_works(n, "10.1/"))
        start = time.perf_counter()
        for _ in range(n):
            (job,) = ledger.claim("w", 60)
            for state, _op in STEPS:
                assert ledger.transition(job.lease, state)
        per_job = (time.perf_counter() - start) / n
        assert ledger.counts()[State.INDEXED] == n
    assert per_job < 1e-3, f"claim + 4 transitions took {per_job * 1e3:.2f} ms per job"


def test_transitions_and_ops_of_one_job_stay_cheap(tmp_path: Path) -> None:
    n = 200
    with SqliteLedger(tmp_path / "l.db") as ledger:
        ledger.migrate()
        ledger.plan(_works(n, "10.2/"))
        start = time.perf_counter()
        for _ in range(n):
            (job,) = ledger.claim("w", 60)
            for state, op in STEPS:
                key = op_key(job.idempotency_key, op, "ctx")
                assert ledger.start_op(job.lease, key, op)
                assert ledger.finish_op(job.lease, key, OpStatus.DONE, "ok", {"n": 1})
                assert ledger.transition(job.lease, state)
        per_job = (time.perf_counter() - start) / n
    assert per_job < 3e-3, f"a job's 13 ledger writes took {per_job * 1e3:.2f} ms"


def test_plan_fifty_thousand_quickly(tmp_path: Path) -> None:
    works = _works(50_000, "10.3/")
    with SqliteLedger(tmp_path / "l.db") as ledger:
        ledger.migrate()
        start = time.perf_counter()
        inserted = sum(r.inserted for r in ledger.plan_iter(works))
        elapsed = time.perf_counter() - start
        again = sum(r.inserted for r in ledger.plan_iter(works[:1000]))
    assert (inserted, again) == (50_000, 0)
    assert elapsed < 10, f"planning 50k jobs took {elapsed:.1f} s"


@pytest.mark.slow
def test_plan_a_million_jobs_under_a_minute(tmp_path: Path) -> None:
    works = (
        (idempotency_key(f"doi:10.4/{i}"), {"doi": f"10.4/{i}"}) for i in range(1_000_000)
    )
    with SqliteLedger(tmp_path / "l.db") as ledger:
        ledger.migrate()
        start = time.perf_counter()
        inserted = sum(r.inserted for r in ledger.plan_iter(works))
        elapsed = time.perf_counter() - start
        assert ledger.counts()[State.PLANNED] == 1_000_000
    assert inserted == 1_000_000
    assert elapsed < 60, f"planning 1M jobs took {elapsed:.1f} s (keys included)"
