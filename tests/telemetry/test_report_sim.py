"""The report of a real simweb run, checked against counts made independently from results.jsonl."""

from __future__ import annotations

import json
import re
from collections import Counter
from pathlib import Path

from .conftest import SimRun, run_oafetch

SUCCESS = {"downloaded", "deduped", "already_done"}


def _report_json(sim_run: SimRun, *extra: str) -> dict:
    proc = run_oafetch("report", ["--out", str(sim_run.out), "--json", *extra])
    assert proc.returncode == 0, proc.stderr
    return json.loads(proc.stdout)


def test_report_figures_match_results_jsonl(sim_run: SimRun) -> None:
    rows = sim_run.results
    report = _report_json(sim_run)

    ok = [r for r in rows if r["status"] in SUCCESS]
    eligible = [r for r in rows if r["status"] in SUCCESS
                or r["class"] not in ("no_oa_location", "invalid_input")]
    assert report["works"] == len(rows) == len(sim_run.web.world)
    assert report["yield"]["successes"] == len(ok)
    assert report["yield"]["eligible"] == len(eligible)
    assert abs(report["yield"]["ratio"] - len(ok) / len(eligible)) < 1e-9

    wins = Counter(r["source"] for r in ok)
    assert {s: v["wins"] for s, v in report["sources"].items() if v["wins"]} == dict(wins)

    classes = Counter(r["class"] for r in rows if r["status"] == "failed")
    assert {c: v["count"] for c, v in report["failure_classes"].items()} == dict(classes)
    assert Counter(r["status"] for r in rows) == Counter(report["statuses"])
    for cls, v in report["failure_classes"].items():
        inputs = {r["input"] for r in rows if r["class"] == cls}
        assert 1 <= len(v["examples"]) <= 3
        assert all(e["input"] in inputs for e in v["examples"])

    # Every success is credited to exactly one tier.
    assert sum(t["wins"] for t in report["tiers"].values()) == len(ok)


def test_report_timing_figures_come_from_the_events(sim_run: SimRun) -> None:
    report = _report_json(sim_run)
    events = sim_run.events
    pdf_jobs = {e["job_id"] for e in events
                if e["type"] == "artifact_stored" and e["fields"]["format"] == "pdf"}
    assert report["ttfp"]["count"] == len(pdf_jobs) > 0
    assert 0 < report["ttfp"]["p50_s"] <= report["ttfp"]["p95_s"] <= report["ttfp"]["max_s"]
    requests = [e for e in events if e["type"] == "http_request" and not e["fields"]["from_cache"]]
    assert sum(h["requests"] for h in report["hosts"].values()) == len(requests)
    assert sum(report["latency_histogram"]["counts"]) == len(requests)
    finished = sum(1 for e in events if e["type"] == "job_finished")
    assert sum(b["finished"] for b in report["throughput"]["bins"]) == finished
    assert report["completion"]["rate"] == 1.0  # the run finished every job it planned
    assert report["corruption"]["count"] == 0


def test_terminal_and_html_reports(sim_run: SimRun, tmp_path: Path) -> None:
    html = tmp_path / "report.html"
    proc = run_oafetch("report", ["--out", str(sim_run.out), "--html", str(html)])
    assert proc.returncode == 0, proc.stderr
    assert "yield" in proc.stdout and "Failure classes" in proc.stdout
    page = html.read_text()
    assert page.count("<svg") >= 4
    assert "<script" not in page.lower()
    assert not re.search(r'(src|href)\s*=\s*"(https?:)?//', page), "the page must fetch nothing"
    for cls in {r["class"] for r in sim_run.results if r["class"]}:
        assert cls in page


def test_report_corruption_count_sees_a_damaged_blob(sim_run: SimRun, tmp_path: Path) -> None:
    import shutil

    out = tmp_path / "copy"
    shutil.copytree(sim_run.out, out)
    victim = next(r for r in sim_run.results if r["status"] == "downloaded")
    blob = next((out / "store" / "sha256").rglob(f"{victim['sha256']}.*"))
    blob.chmod(0o644)
    blob.write_bytes(blob.read_bytes()[:-10])  # truncated: size no longer matches
    proc = run_oafetch("report", ["--out", str(out), "--json", "--check"])
    report = json.loads(proc.stdout)
    assert report["corruption"]["count"] == 1
    assert proc.returncode == 1
    assert "corruption_count" in proc.stderr
