"""Issue 5, proof 4: the queue commands through the real CLI.

`plan` is idempotent, `fetch --processes 3` drains a slice world with one results line per
work, `retry --class` puts exactly the failed jobs of that class back and a worker ends
them again, `verify --deep` names a blob corrupted by hand and an orphan blob, and `gc`
removes the orphan.
"""

from __future__ import annotations

import hashlib
import json
import os
import sqlite3
from collections import Counter
from pathlib import Path

import pytest

from integration.helpers import confusion, read_jsonl, run_cli, sim_args, write_inputs
from oafetch.simweb import SimWeb


def _names(stdout: str, path: Path) -> bool:
    """Whether the output names `path` (rich wraps long lines at 80 columns off a terminal;
    see the report: `soft_wrap=True` in cli.py would keep paths whole)."""
    return str(path) in "".join(stdout.split())


def _states(out: Path) -> Counter[str]:
    con = sqlite3.connect(out / "ledger.sqlite3")
    try:
        return Counter(s for (s,) in con.execute("SELECT state FROM artifact_jobs"))
    finally:
        con.close()


def test_plan_twice_adds_nothing(tmp_path: Path) -> None:
    with SimWeb(tmp_path / "web", works=26, seed=8, profile="slice") as web:
        inputs = tmp_path / "works.txt"
        # Every work twice, the second spelled differently: both must map to one job.
        lines = [w.input for w in web.world] + [w.input.upper() for w in web.world]
        inputs.write_text("\n".join(lines) + "\n")
    out = tmp_path / "out"
    first = run_cli(["plan", "--input", str(inputs), "--out", str(out), "--json"])
    assert first.returncode == 0, first.stderr
    second = run_cli(["plan", "--input", str(inputs), "--out", str(out), "--json"])
    assert second.returncode == 0, second.stderr
    distinct = len({w.input for w in web.world})
    assert json.loads(first.stdout)["planned"] == distinct
    assert json.loads(second.stdout)["planned"] == 0
    assert sum(_states(out).values()) == distinct
    assert _states(out) == Counter({"PLANNED": distinct})


@pytest.mark.slow
@pytest.mark.timeout(600)
def test_three_processes_drain_a_slice_world(tmp_path: Path) -> None:
    with SimWeb(tmp_path / "web", works=100, seed=3, profile="slice") as web:
        out = tmp_path / "out"
        inputs = write_inputs(tmp_path / "works.txt", web)
        proc = run_cli(
            ["fetch", "--input", str(inputs), *sim_args(web, out), "--processes", "3", "--quiet"],
            timeout=500,
        )
        assert proc.returncode == 3, proc.stderr  # the slice world has failing works
    states = _states(out)
    assert sum(states.values()) == len(web.world)
    assert set(states) <= {"INDEXED", "DEDUPED", "FAILED"}, states
    results = read_jsonl(out / "results.jsonl")
    assert len(results) == len(web.world), "one results line per work, none twice"
    _, wrong = confusion(web, results)
    assert not wrong, "\n".join(wrong)
    # The three children really shared the work.
    runs = {json.loads(line)["run_id"] for line in (out / "events.jsonl").open()}
    assert len(runs) >= 4  # the planning parent + 3 workers


def test_retry_verify_and_gc(tmp_path: Path) -> None:
    with SimWeb(tmp_path / "web", works=14, seed=6, profile="slice") as web:
        out = tmp_path / "out"
        inputs = write_inputs(tmp_path / "works.txt", web)
        flags = sim_args(web, out)
        first = run_cli(["fetch", "--input", str(inputs), *flags, "--quiet"], timeout=200)
        assert first.returncode == 3, first.stderr
        dead = sum(1 for w in web.world if w.expect_class == "link_dead")
        assert dead >= 1

        retried = run_cli(["retry", "--class", "link_dead", "--out", str(out)])
        assert retried.returncode == 0, retried.stderr
        assert retried.stdout.startswith(f"{dead} failed jobs planned again"), retried.stdout
        assert _states(out)["PLANNED"] == dead
        n_before = len(web.requests())
        again = run_cli(["worker", *flags, "--quiet"], timeout=200)
        assert again.returncode == 3, again.stderr
        assert len(web.requests()) > n_before, "the retried jobs were really run again"
    assert "PLANNED" not in _states(out)
    con = sqlite3.connect(out / "ledger.sqlite3")
    dead_rows = con.execute(
        "SELECT count(*) FROM artifact_jobs WHERE state = 'FAILED' AND outcome_class = 'link_dead'"
    ).fetchone()
    con.close()
    assert dead_rows == (dead,)

    ok = run_cli(["verify", "--deep", "--out", str(out)])
    assert ok.returncode == 0, ok.stdout + ok.stderr

    # An orphan: well-named bytes no job refers to.
    data = b"%PDF-1.4 orphan\n"
    sha = hashlib.sha256(data).hexdigest()
    orphan = out / "store" / "sha256" / sha[:2] / f"{sha}.pdf"
    orphan.parent.mkdir(parents=True, exist_ok=True)
    orphan.write_bytes(data)
    found = run_cli(["verify", "--out", str(out)])
    assert found.returncode == 1 and _names(found.stdout, orphan), found.stdout
    assert "1 orphans" in found.stdout
    swept = run_cli(["gc", "--out", str(out)])
    assert swept.returncode == 0 and "removed 1 orphan blobs" in swept.stdout, swept.stdout
    assert not orphan.exists()
    assert run_cli(["verify", "--deep", "--out", str(out)]).returncode == 0

    # Corruption by hand: same size, one byte flipped — only --deep can see it.
    victim = sorted((out / "store" / "sha256").rglob("*.pdf"))[0]
    os.chmod(victim, 0o644)
    raw = bytearray(victim.read_bytes())
    raw[len(raw) // 2] ^= 0xFF
    victim.write_bytes(bytes(raw))
    shallow = run_cli(["verify", "--out", str(out)])
    assert shallow.returncode == 0, "a same-size flip is invisible without --deep"
    deep = run_cli(["verify", "--deep", "--out", str(out)])
    assert deep.returncode == 1 and _names(deep.stdout, victim), deep.stdout
    assert "1 corrupt" in deep.stdout
