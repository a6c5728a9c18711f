"""Code run in child processes by the concurrency tests (must be importable by spawn)."""

from __future__ import annotations

import random
from typing import Any

from oafetch.ledger import open_ledger
from oafetch.ledger.base import State


def claim_until_empty(target: str, owner: str, barrier: Any, out: Any) -> None:
    """Claim (1–3 at a time) and finish jobs until the queue stays empty; put
    (owner, [(job_id, lease_epoch), …]) of every claim this process won on `out`.

    All processes wait at `barrier` after connecting, so they really race."""
    ledger = open_ledger(target, migrate=False)
    barrier.wait(timeout=60)
    won: list[tuple[int, int]] = []
    empty = 0
    try:
        while empty < 3:
            jobs = ledger.claim(owner, 60.0, limit=random.randint(1, 3))
            if not jobs:
                empty += 1
                continue
            empty = 0
            for job in jobs:
                won.append((job.job_id, job.lease_epoch))
                if not ledger.transition(job.lease, State.HEAD_DONE):
                    raise AssertionError(f"{owner} lost a live lease on job {job.job_id}")
                if not ledger.transition(job.lease, State.STREAMING):
                    raise AssertionError(f"{owner} lost a live lease on job {job.job_id}")
                if not ledger.transition(job.lease, State.FINALIZED):
                    raise AssertionError(f"{owner} lost a live lease on job {job.job_id}")
                if not ledger.transition(job.lease, State.INDEXED):
                    raise AssertionError(f"{owner} lost a live lease on job {job.job_id}")
    finally:
        ledger.close()
        out.put((owner, won))
