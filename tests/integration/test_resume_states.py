"""A job taken over after a crash in any progress state finishes instead of livelocking.

A worker killed right after recording RESUME_OK (or HEAD_DONE, STREAMING) leaves the job in
that state; the next worker must carry it on from there. If it tried a transition the table
forbids, the ledger would answer "zero rows", the worker would take that for a lost lease,
and every later worker would do the same forever.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from oafetch.api import open_session
from oafetch.config import load_config
from oafetch.inputs import iter_inputs
from oafetch.ledger import open_ledger
from oafetch.ledger.base import State
from oafetch.simweb import SimWeb


@pytest.fixture(scope="module")
def web(tmp_path_factory: pytest.TempPathFactory) -> Any:
    with SimWeb(tmp_path_factory.mktemp("web"), works=12, seed=4, profile="slice") as w:
        yield w


@pytest.mark.parametrize("crashed_in", [State.HEAD_DONE, State.RESUME_OK, State.STREAMING])
async def test_a_job_left_in_a_progress_state_is_carried_on(
    web: Any, tmp_path: Path, crashed_in: State
) -> None:
    work = next(w for w in web.world if w.scenario == "oa_pdf")
    cfg = load_config(
        web.config_path,
        env={},
        overrides={
            "out": tmp_path / "out",
            "politeness": {"rates": {"*": "500/s"}},
        },
    )
    # A first worker plans and claims the job, records some progress, then "dies".
    async with open_session(cfg) as s:
        assert s.ledger is not None
        s.runner.plan(iter_inputs([work.input], None))
        (job,) = s.ledger.claim("deadhost:1:x", ttl_s=60)
        path = {
            State.HEAD_DONE: [State.HEAD_DONE],
            State.RESUME_OK: [State.HEAD_DONE, State.RESUME_OK],
            State.STREAMING: [State.STREAMING],
        }[crashed_in]
        for step in path:
            assert s.ledger.transition(job.lease, step)
        assert s.ledger.release(job.lease)  # what the reconciler does for a dead owner
    # The next run takes it over and must finish it.
    async with open_session(cfg) as s:
        assert s.ledger is not None
        summary = await s.runner.run_ledger()
        assert summary.lease_lost == 0
        assert summary.statuses["downloaded"] == 1
    led = open_ledger(tmp_path / "out" / "ledger.sqlite3")
    try:
        (final,) = list(led.jobs())
        assert final.state is State.INDEXED, final
    finally:
        led.close()
