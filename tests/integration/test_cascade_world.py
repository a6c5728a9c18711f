"""The whole cascade on a 300-work simulated web mixing every source, failure class and fault.

Every retrievable work must be retrieved, no failure may be reported as success, and each
failure must get the class the world says it deserves. The confusion table is printed.
"""

from __future__ import annotations

import hashlib
from collections import Counter
from collections.abc import Iterator
from typing import Any

import pytest

from oafetch.outcomes import FailureClass
from oafetch.simweb import SCENARIOS, SimWeb

from .helpers import confusion, print_confusion, read_jsonl, run_cli, sim_args, write_inputs


@pytest.fixture(scope="module")
def run(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    base = tmp_path_factory.mktemp("cascade")
    with SimWeb(base / "web", works=300, seed=21, profile="cascade") as web:
        out = base / "out"
        inputs = write_inputs(base / "works.txt", web)
        proc = run_cli(
            ["fetch", "--input", str(inputs), *sim_args(web, out), "--quiet"], timeout=400
        )
        yield {"web": web, "out": out, "proc": proc, "results": read_jsonl(out / "results.jsonl")}


def test_the_world_covers_every_scenario(run: dict[str, Any]) -> None:
    web = run["web"]
    seen = Counter(w.scenario for w in web.world)
    cascade_scenarios = {n for n in SCENARIOS if n != "big_pdf"}
    assert cascade_scenarios <= set(seen), cascade_scenarios - set(seen)
    assert min(seen[n] for n in cascade_scenarios) >= 3
    classes = {s.expect_class for s in SCENARIOS.values() if s.expect_class}
    # budget_exhausted needs a budget smaller than the world: test_cascade_budget.py has it.
    assert classes == {c.value for c in FailureClass} - {"budget_exhausted"}


def test_every_work_gets_the_outcome_it_deserves(run: dict[str, Any]) -> None:
    web, results = run["web"], run["results"]
    table, wrong = confusion(web, results)
    print_confusion(table)
    assert len(results) == len(web.world)
    false_success = [(want, n) for (want, got), n in table.items() if want != "ok" and got == "ok"]
    assert not false_success, f"failures reported as success: {false_success}"
    assert not wrong, "\n".join(wrong)
    # A work parked on a long Retry-After makes the run exit 4 (suspended), else 3.
    assert run["proc"].returncode == 4, run["proc"].stderr


def test_successes_name_their_source_and_format(run: dict[str, Any]) -> None:
    web, out = run["web"], run["out"]
    by_input = {r["input"]: r for r in run["results"]}
    for w in web.world:
        if w.expect_status != "downloaded":
            continue
        r = by_input[w.input]
        assert r["format"] == w.expect_format, (w.scenario, r)
        if w.expect_source:
            assert r["source"] == w.expect_source, (w.scenario, r)
        blob = out / r["path"]
        assert hashlib.sha256(blob.read_bytes()).hexdigest() == r["sha256"]
        assert r["technique"], r


def test_robots_disallowed_paths_are_never_requested(run: dict[str, Any]) -> None:
    private = [r for r in run["web"].requests() if r["path"].startswith("/private/")]
    assert private == []


def test_every_event_type_is_emitted_by_the_pipeline(run: dict[str, Any]) -> None:
    """The cascade world exercises every event type except the two that need a crash or a
    long lease (crash_recovery, lease_renewed: test_crash_resume.py checks those)."""
    from oafetch.telemetry.events import EventType

    events = read_jsonl(run["out"] / "events.jsonl")
    seen = Counter(e["type"] for e in events)
    wanted = {t.value for t in EventType} - {"crash_recovery", "lease_renewed"}
    missing = wanted - set(seen)
    assert not missing, f"never emitted: {sorted(missing)}"
    # Each replay is of a source answer recorded by an earlier attempt of the same job.
    replays = [e for e in events if e["type"] == "idempotency_replay"]
    done = {
        (e["job_id"], e["fields"]["ctx"])
        for e in events
        if e["type"] == "operation_completed" and e["fields"]["status"] == "done"
    }
    assert all((e["job_id"], e["fields"]["ctx"]) in done for e in replays)
