"""Issue 5, proof 1: the ledger survives workers being SIGKILLed at random.

A supervisor keeps N `oafetch worker` processes running over one ledger (PostgreSQL with
4 workers, SQLite with 3), SIGKILLs a random one every few seconds and starts a new one.
The simweb serves throttled PDFs so kills land mid-stream. Afterwards every job must be
terminal, every success must own exactly one blob whose hash is its name, no job may have
streamed its artifact to completion twice, and `oafetch verify --deep` must pass.
"""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from integration.helpers import run_cli, sim_args, write_inputs
from oafetch.simweb import SimWeb

from ._support import SUCCESS, Supervisor, assert_sound, worker_env

pytestmark = [pytest.mark.slow, pytest.mark.timeout(900)]


def _crash_run(
    tmp_path: Path, *, works: int, processes: int, ledger_flags: list[str], target_of: str
) -> None:
    t0 = time.monotonic()
    with SimWeb(
        tmp_path / "web",
        works=works,
        seed=21,
        profile="crash",
        throttle_bps=600_000,
        big_pdf_bytes=300_000,
    ) as web:
        out = tmp_path / "out"
        inputs = write_inputs(tmp_path / "works.txt", web)
        planned = run_cli(["plan", "--input", str(inputs), "--out", str(out), *ledger_flags])
        assert planned.returncode == 0, planned.stderr
        sup = Supervisor(
            ["worker", *sim_args(web, out, *ledger_flags), "--workers", "6", "--quiet"],
            n=processes,
            logs=tmp_path / "logs",
            # A short lease: a killed worker's jobs come back in seconds, not a minute.
            env=worker_env(OAFETCH_LEASE_TTL_S="3"),
            kill_every=2.0,
            max_kills=8,
            seed=works,
        )
        sup.run(timeout=600)
        target = ledger_flags[1] if ledger_flags else str(out / "ledger.sqlite3")
        assert target_of in target
        jobs = assert_sound(target, out, n_jobs=works, ledger_flags=ledger_flags)
    print(f"\n{works} works, {processes} workers, {sup.kills} kills, {time.monotonic() - t0:.1f} s")
    assert sup.kills >= 3, "the supervisor must have killed workers mid-run"
    assert all(code in (0, 3) for code in sup.exits), (sup.exits, sup.log_tail())
    # Every work of the crash profile is a success; at least one was taken over.
    by_input = {j.work.get("input"): j for j in jobs}
    for w in web.world:
        assert by_input[w.input].state in SUCCESS, (w.input, by_input[w.input])
    assert any(j.lease_epoch > 1 for j in jobs), "no job was ever taken over after a kill"


def test_postgres_four_workers_survive_random_sigkill(tmp_path: Path, pg_url: str) -> None:
    _crash_run(
        tmp_path,
        works=300,
        processes=4,
        ledger_flags=["--ledger", pg_url],
        target_of="postgresql://",
    )


def test_sqlite_three_workers_survive_random_sigkill(tmp_path: Path) -> None:
    _crash_run(tmp_path, works=300, processes=3, ledger_flags=[], target_of="ledger.sqlite3")
