"""SIGKILL a real `oafetch fetch` in the middle of large, throttled downloads, then restart.

What must hold afterwards: every work ends in exactly one terminal state, every file in the
store is named by its own hash, no `.part` file is left, and the interrupted download was
resumed with a Range request (or restarted cleanly) rather than corrupting anything.
"""

from __future__ import annotations

import hashlib
import os
import signal
import sqlite3
import time
from pathlib import Path

from oafetch.simweb import SimWeb

from .helpers import cli_env, read_jsonl, run_cli, sim_args, start_cli, write_inputs


def _wait_for_part(out: Path, min_bytes: int, timeout: float) -> Path:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        for part in out.rglob("*.part"):
            try:
                if part.stat().st_size >= min_bytes:
                    return part
            except FileNotFoundError:
                continue
        time.sleep(0.05)
    raise AssertionError(f"no .part file reached {min_bytes} bytes in {timeout}s")


def test_sigkill_mid_download_then_resume(tmp_path: Path) -> None:
    big = 4_000_000
    with SimWeb(
        tmp_path / "web",
        works=6,
        seed=5,
        profile="crash",
        throttle_bps=1_500_000,
        big_pdf_bytes=big,
    ) as web:
        out = tmp_path / "out"
        inputs = write_inputs(tmp_path / "works.txt", web)
        args = ["fetch", "--input", str(inputs), *sim_args(web, out), "--workers", "3", "--quiet"]
        # A short lease, so the heartbeat renews it during the multi-second downloads.
        env = cli_env(OAFETCH_LEASE_TTL_S="3")

        proc = start_cli(args, env=env)
        try:
            # Past the first 1 MiB checkpoint, so there is recorded progress to resume from.
            part = _wait_for_part(out, 1_600_000, timeout=60)
            killed_at = part.stat().st_size
        finally:
            os.kill(proc.pid, signal.SIGKILL)
            proc.wait(timeout=10)
        assert proc.returncode == -signal.SIGKILL
        assert killed_at < big, "the kill must land mid-download"

        # The ledger shows work in progress, owned by a process that no longer exists.
        db = sqlite3.connect(out / "ledger.sqlite3")
        states = dict(
            db.execute("SELECT state, count(*) FROM artifact_jobs GROUP BY state").fetchall()
        )
        db.close()
        assert set(states) - {"INDEXED", "DEDUPED", "FAILED"}, states

        n_before = len(web.requests())
        done = run_cli(args, timeout=240, env=env)
        assert done.returncode in (0, 3), done.stderr
        resumed_requests = web.requests()[n_before:]

    results = read_jsonl(out / "results.jsonl")
    db = sqlite3.connect(out / "ledger.sqlite3")
    rows = db.execute("SELECT state, sha256, format FROM artifact_jobs").fetchall()
    assert len(rows) == len(web.world)
    for state, _sha, _fmt in rows:
        assert state in ("INDEXED", "DEDUPED", "FAILED"), state
    # Exactly one terminal outcome per work in the final run's results.
    assert sorted(r["input"] for r in results) == sorted(w.input for w in web.world)
    for w in web.world:
        if w.expect_status == "downloaded":
            r = next(r for r in results if r["input"] == w.input)
            assert r["status"] in ("downloaded", "deduped", "already_done"), r
    # No file in the store has a hash different from its name; no .part is left.
    blobs = list((out / "store" / "sha256").rglob("*.*"))
    assert blobs
    for blob in blobs:
        assert hashlib.sha256(blob.read_bytes()).hexdigest() == blob.stem
    assert not list(out.rglob("*.part")) and not list(out.rglob("*.part.json"))
    # The interrupted body was resumed from where it stopped (a Range request), not refetched whole.
    ranged = [r for r in resumed_requests if r.get("range")]
    assert ranged, "the restarted run should resume the interrupted download with Range"
    assert any(r["status"] == 206 for r in ranged)
    # The restart reported what it recovered, and leases were renewed while streaming.
    events = read_jsonl(out / "events.jsonl")
    recoveries = [e for e in events if e["type"] == "crash_recovery"]
    assert recoveries and recoveries[-1]["fields"]["released_dead_owner_leases"] >= 1
    assert any(e["type"] == "lease_renewed" for e in events)
