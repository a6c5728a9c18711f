"""`oafetch inspect WORK` on a real run: job row, history, attempts and the stored artifact."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

from .conftest import SimRun, run_oafetch


def _inspect(run: SimRun, work: str) -> dict:
    proc = run_oafetch("inspect", [work, "--out", str(run.out), "--json"])
    assert proc.returncode == 0, proc.stderr
    return json.loads(proc.stdout)


def test_inspect_a_downloaded_work(sim_run: SimRun) -> None:
    row = next(r for r in sim_run.results if r["status"] == "downloaded")
    info = _inspect(sim_run, row["input"])
    job = info["job"]
    assert job["job_id"] == row["job_id"] and job["state"] == "INDEXED"
    states = [h["to_state"] for h in info["history"] if h["type"] == "job_state_changed"]
    assert states[-1] == "INDEXED" and "FINALIZED" in states
    assert info["history"][0]["type"] == "job_planned"
    # Ledger table and JSONL log both hold these events: each shown once.
    logged = [e for e in sim_run.events
              if e["job_id"] == row["job_id"] and e["type"] == "job_state_changed"]
    assert len(states) == len(logged)
    assert any(a["url"] == row["url"] and a["ok"] for a in info["attempts"])
    assert {o["op_type"] for o in info["ops"]} >= {"RESOLVE", "STREAM", "FINALIZE", "INDEX"}
    art = info["artifact"]
    data = Path(art["path"]).read_bytes()
    assert hashlib.sha256(data).hexdigest() == art["sha256"] == row["sha256"]
    assert art["sidecar"]["sha256"] == row["sha256"] and art["sidecar"]["url"] == row["url"]


def test_inspect_a_failed_work_shows_its_class_and_attempts(sim_run: SimRun) -> None:
    row = next(r for r in sim_run.results if r["class"] == "link_dead")
    info = _inspect(sim_run, row["input"])
    assert info["job"]["state"] == "FAILED" and info["job"]["outcome_class"] == "link_dead"
    assert info["artifact"] is None
    assert info["attempts"] and all(not a["ok"] for a in info["attempts"])
    assert any(a["class"] == "link_dead" for a in info["attempts"])


def test_inspect_terminal_output(sim_run: SimRun) -> None:
    row = next(r for r in sim_run.results if r["status"] == "downloaded")
    proc = run_oafetch("inspect", [row["input"], "--out", str(sim_run.out)])
    assert proc.returncode == 0, proc.stderr
    assert "State history" in proc.stdout and "INDEXED" in proc.stdout


def test_inspect_unknown_and_invalid_works(sim_run: SimRun) -> None:
    proc = run_oafetch("inspect", ["10.9999/never.fetched", "--out", str(sim_run.out)])
    assert proc.returncode == 1
    assert "no job for doi:10.9999/never.fetched" in " ".join(proc.stderr.split())
    proc = run_oafetch("inspect", ["not an id at all", "--out", str(sim_run.out)])
    assert proc.returncode != 0 and "oafetch: error:" in proc.stderr
