"""Claim exclusivity across real processes: four workers, one queue, no job twice."""

from __future__ import annotations

import multiprocessing
from collections import Counter

from oafetch.ledger import Ledger, idempotency_key
from oafetch.ledger.base import State

from ._workers import claim_until_empty

N_JOBS = 300
N_PROCS = 4


def test_four_processes_never_claim_the_same_job(ledger: Ledger, target: str) -> None:
    ledger.plan((idempotency_key(f"doi:10.9/{i}"), {"doi": f"10.9/{i}"}) for i in range(N_JOBS))
    ctx = multiprocessing.get_context("spawn")  # no inherited connections or pool threads
    barrier, out = ctx.Barrier(N_PROCS), ctx.Queue()
    procs = [
        ctx.Process(target=claim_until_empty, args=(target, f"w{i}", barrier, out))
        for i in range(N_PROCS)
    ]
    for proc in procs:
        proc.start()
    results = [out.get(timeout=120)[1] for _ in procs]
    for proc in procs:
        proc.join(timeout=30)
        assert proc.exitcode == 0
    claims = [c for per_proc in results for c in per_proc]
    per_job = Counter(job_id for job_id, _ in claims)
    assert len(per_job) == N_JOBS
    assert max(per_job.values()) == 1, "a job was claimed twice while its lease was live"
    assert {epoch for _, epoch in claims} == {1}
    assert sum(1 for r in results if r) >= 3, "the test needs contention between processes"
    assert ledger.counts()[State.INDEXED] == N_JOBS
