"""`oafetch demo` runs the whole pipeline offline and agrees with the simulated world."""

from __future__ import annotations

import json
from pathlib import Path

from .helpers import read_jsonl, run_cli


def test_demo_runs_offline_and_matches_ground_truth(tmp_path: Path) -> None:
    out = tmp_path / "demo"
    proc = run_cli(["demo", "--works", "24", "--out", str(out), "--json"], timeout=180)
    assert proc.returncode == 0, proc.stderr
    summary = json.loads(proc.stdout)
    results = read_jsonl(out / "results.jsonl")
    assert summary["works"] == len(results) == 24
    assert summary["statuses"].get("downloaded", 0) > 12
    assert (out / "ledger.sqlite3").exists() and (out / "events.jsonl").exists()
