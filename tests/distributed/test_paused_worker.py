"""Issue 5, proof 3: a worker frozen mid-download (SIGSTOP) loses its job cleanly.

Worker A (lease TTL 2 s) streams a slow, throttled PDF; we SIGSTOP it, let its lease
expire, and start worker B, which takes the job over and finishes it. Then A is SIGCONTed:
its heartbeat renewal or its next fenced write fails, and it must back off — the job
finishes exactly once (one successful `job_finished`, from B), A records nothing for it,
and the stored blob is intact.
"""

from __future__ import annotations

import os
import signal
import subprocess
import time
from pathlib import Path

import pytest

from integration.helpers import OAFETCH, read_jsonl, run_cli, sim_args
from oafetch.simweb import SimWeb

from ._support import assert_sound, read_events, worker_env

TTL = "2"


def _wait(predicate: object, timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():  # type: ignore[operator]
            return
        time.sleep(0.05)
    raise AssertionError(f"timed out waiting for {what}")


def _part_size(out: Path) -> int:
    sizes = []
    for p in out.rglob("*.part"):
        try:
            sizes.append(p.stat().st_size)
        except FileNotFoundError:
            continue
    return max(sizes, default=0)


@pytest.mark.timeout(180)
def test_sigstopped_worker_backs_off_after_takeover(tmp_path: Path) -> None:
    with SimWeb(
        tmp_path / "web",
        works=4,
        seed=9,
        profile="crash",
        throttle_bps=300_000,
        big_pdf_bytes=1_500_000,
    ) as web:
        big = next(w for w in web.world if w.scenario == "big_pdf")
        out = tmp_path / "out"
        planned = run_cli(["plan", big.input, "--out", str(out)])
        assert planned.returncode == 0, planned.stderr
        args = [*OAFETCH, "worker", *sim_args(web, out), "--workers", "1", "--quiet"]
        env = worker_env(OAFETCH_LEASE_TTL_S=TTL)
        log_a = (tmp_path / "a.log").open("wb")
        a = subprocess.Popen(args, stdout=log_a, stderr=subprocess.STDOUT, env=env)
        try:
            _wait(lambda: _part_size(out) >= 200_000, 60, "A to be mid-download")
            os.kill(a.pid, signal.SIGSTOP)
            stopped_at = _part_size(out)
            time.sleep(float(TTL) + 1.5)  # A's lease runs out while it is frozen
            b = run_cli(args[3:], env=env, timeout=120)
            assert b.returncode == 0, b.stdout + b.stderr
        finally:
            os.kill(a.pid, signal.SIGCONT)
        try:
            code_a = a.wait(timeout=60)
        finally:
            if a.poll() is None:
                a.kill()
            log_a.close()
    assert stopped_at < 1_500_000, "A must be frozen mid-download"
    assert code_a == 0, (tmp_path / "a.log").read_text()

    (job,) = assert_sound(out / "ledger.sqlite3", out, n_jobs=1)
    assert job.state.value == "INDEXED" and job.lease_epoch == 2, job
    events = [e for e in read_events(out) if e["job_id"] == job.job_id]
    leased = [e["run_id"] for e in events if e["type"] == "job_leased"]
    assert len(leased) == 2, leased
    run_a, run_b = leased
    finished = [
        e["run_id"]
        for e in events
        if e["type"] == "job_finished" and e["fields"]["status"] in ("downloaded", "deduped")
    ]
    assert finished == [run_b], "the job finished once, by the worker that took it over"
    # A wrote nothing for the job after the takeover: no state change, no op completion.
    late_a = [
        e["type"]
        for e in events
        if e["run_id"] == run_a
        and e["type"] in ("job_state_changed", "operation_completed", "artifact_stored")
        and e["fields"].get("op") != "RESOLVE"
        and e["fields"].get("to_state") not in ("HEAD_DONE", "STREAMING", "RESUME_OK")
    ]
    assert late_a == [], late_a
    results = [r for r in read_jsonl(out / "results.jsonl") if r["job_id"] == job.job_id]
    assert len(results) == 1, results  # B's line; A's count for the job is 0
