"""SLOs judged on constructed windows: no data, directions, per-host 429s, the window, --check."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

from oafetch.config import SloConfig, load_config
from oafetch.telemetry.report import build_report, report_from_out
from oafetch.telemetry.rundata import RunData
from oafetch.telemetry.slo import evaluate_slos, violations

from .conftest import run_oafetch


def _ev(kind: str, ts: float, job: int | None = None, **fields: Any) -> dict[str, Any]:
    return {"run_id": "r1", "job_id": job, "ts": ts, "type": kind, "fields": fields}


def _window() -> RunData:
    """Three jobs: two PDFs (1 s and 9 s after their lease), one link_dead; one 429 host."""
    events = [
        _ev("job_planned", 0.0, 1), _ev("job_planned", 0.0, 2), _ev("job_planned", 0.0, 3),
        _ev("job_leased", 10.0, 1, state="LEASED", claim_ms=2.0),
        _ev("job_leased", 10.0, 2, state="LEASED", claim_ms=40.0),
        _ev("job_leased", 10.0, 3, state="LEASED", claim_ms=3.0),
        _ev("http_request", 10.5, 1, host="a.example", role="artifact", status=200, ms=30.0,
            bytes=100, from_cache=False),
        _ev("http_request", 10.6, 2, host="b.example", role="artifact", status=429, ms=5.0,
            bytes=0, from_cache=False),
        _ev("http_request", 10.7, 2, host="b.example", role="artifact", status=200, ms=900.0,
            bytes=100, from_cache=False),
        _ev("artifact_stored", 11.0, 1, format="pdf", size=100, deduped=False, sha256="a" * 64),
        _ev("artifact_stored", 19.0, 2, format="pdf", size=100, deduped=False, sha256="b" * 64),
        _ev("job_finished", 11.0, 1, status="downloaded", source="openalex"),
        _ev("job_finished", 19.0, 2, status="downloaded", source="unpaywall"),
        _ev("job_finished", 20.0, 3, status="failed", failure_class="link_dead"),
    ]
    results = [
        {"input": "10.1/a", "status": "downloaded", "class": None, "source": "openalex",
         "job_id": 1},
        {"input": "10.1/b", "status": "downloaded", "class": None, "source": "unpaywall",
         "job_id": 2},
        {"input": "10.1/c", "status": "failed", "class": "link_dead", "reason": "404", "job_id": 3},
        {"input": "10.1/d", "status": "failed", "class": "no_oa_location", "job_id": 4},
    ]
    return RunData(results=results, events=events)


def _judge(data: RunData, **targets: Any) -> dict[str, Any]:
    report = build_report(data, slo=SloConfig.model_validate(targets), generated_at=0.0)
    return {s["name"]: s for s in report["slo"]}


def test_empty_window_is_no_data_for_every_objective() -> None:
    slo = _judge(RunData(), **{name: 1.0 for name in SloConfig().objectives()})
    assert {s["status"] for s in slo.values()} == {"no_data"}
    assert all(s["value"] is None for s in slo.values())


def test_objectives_without_target_are_off() -> None:
    assert {s["status"] for s in _judge(_window()).values()} == {"off"}


def test_values_and_directions_on_a_constructed_window() -> None:
    slo = _judge(_window(), yield_ratio=0.7, ttfp_p50_s=2.0, ttfp_p95_s=5.0,
                 completion_rate=1.0, lease_p99_ms=50.0, rate_limited_ratio=0.1)
    # 2 successes of 3 works with an OA location (no_oa_location does not count).
    assert abs(slo["yield_ratio"]["value"] - 2 / 3) < 1e-9
    assert slo["yield_ratio"]["status"] == "violated"  # 0.667 < 0.7
    assert slo["ttfp_p50_s"]["value"] == 1.0 and slo["ttfp_p50_s"]["status"] == "ok"
    assert slo["ttfp_p95_s"]["value"] == 9.0 and slo["ttfp_p95_s"]["status"] == "violated"
    assert slo["completion_rate"]["status"] == "ok"
    assert slo["lease_p99_ms"]["value"] == 40.0 and slo["lease_p99_ms"]["status"] == "ok"
    assert slo["rate_limited_ratio"]["value"] == 0.5
    assert slo["rate_limited_ratio"]["status"] == "violated"
    assert any("b.example" in d for d in slo["rate_limited_ratio"]["detail"])
    assert not any("a.example" in d for d in slo["rate_limited_ratio"]["detail"])
    assert slo["crash_recovery_rate"]["status"] == "off"


def test_direction_comes_from_config() -> None:
    cfg = SloConfig.model_validate({"lease_p99_ms": {"op": ">=", "target": 50.0}})
    data = build_report(_window(), slo=SloConfig(), generated_at=0.0)
    (lease,) = [r for r in evaluate_slos(data, cfg) if r.name == "lease_p99_ms"]
    assert lease.status == "violated" and lease.op == ">="
    assert [r.name for r in violations(evaluate_slos(data, cfg))] == ["lease_p99_ms"]


def test_recovered_job_counts_toward_crash_recovery_rate() -> None:
    data = _window()
    # Job 3 was leased by a worker that died (no release), then taken over and finished.
    data.events.insert(5, _ev("job_leased", 5.0, 3, state="LEASED", claim_ms=1.0))
    slo = _judge(data, crash_recovery_rate=1.0)
    assert slo["crash_recovery_rate"]["value"] == 1.0
    report = build_report(data, slo=SloConfig(), generated_at=0.0)
    assert report["recovered"] == {"jobs": 1, "terminal": 1, "rate": 1.0}


def _write_out(out: Path, data: RunData) -> None:
    out.mkdir(parents=True)
    (out / "results.jsonl").write_text("".join(json.dumps(r) + "\n" for r in data.results))
    (out / "events.jsonl").write_text("".join(json.dumps(e) + "\n" for e in data.events))


def test_window_s_keeps_only_recent_events(tmp_path: Path) -> None:
    out = tmp_path / "out"
    _write_out(out, _window())
    cfg_file = tmp_path / "slo.toml"
    cfg_file.write_text("[slo]\nwindow_s = 100\n")
    cfg = load_config(cfg_file, env={}, overrides={"out": out})
    recent = report_from_out(cfg, now=lambda: 50.0)
    assert recent["works"] == 3 and recent["ttfp"]["count"] == 2
    stale = report_from_out(cfg, now=lambda: 1000.0)
    assert stale["works"] == 0 and stale["window"]["events"] == 0
    assert {s["status"] for s in stale["slo"]} <= {"no_data", "off"}


def test_check_exits_1_naming_each_violated_slo(tmp_path: Path) -> None:
    out = tmp_path / "out"
    _write_out(out, _window())
    cfg = tmp_path / "slo.toml"
    cfg.write_text("[slo]\nyield_ratio = 0.9\nttfp_p95_s = 5\nlease_p99_ms = 100\n"
                   "completion_rate = 0.5\nrate_limited_ratio = 0.9\n")
    proc = run_oafetch("report", ["--out", str(out), "--config", str(cfg), "--check"])
    assert proc.returncode == 1, proc.stdout + proc.stderr
    named = set(re.findall(r"SLO violated: (\w+)", proc.stderr))
    assert named == {"yield_ratio", "ttfp_p95_s"}


def test_check_exits_0_when_met_or_no_data(tmp_path: Path) -> None:
    out = tmp_path / "out"
    _write_out(out, _window())
    cfg = tmp_path / "slo.toml"
    cfg.write_text("[slo]\nyield_ratio = 0.5\nttfp_p95_s = 10\nrate_limited_ratio = 0.6\n"
                   "crash_recovery_rate = 1.0\ncorruption_count = 0\n")
    proc = run_oafetch("report", ["--out", str(out), "--config", str(cfg), "--check"])
    assert proc.returncode == 0, proc.stdout + proc.stderr
    empty = tmp_path / "empty"
    empty.mkdir()
    proc = run_oafetch("report", ["--out", str(empty), "--config", str(cfg), "--check", "--json"])
    assert proc.returncode == 0, proc.stderr
    assert {s["status"] for s in json.loads(proc.stdout)["slo"]} <= {"no_data", "off"}


def test_report_on_a_missing_folder_is_a_one_line_error(tmp_path: Path) -> None:
    proc = run_oafetch("report", ["--out", str(tmp_path / "nope")])
    assert proc.returncode == 2
    # (cli._fail lets rich wrap at 80 columns; the message itself is one sentence.)
    message = " ".join(proc.stderr.split())
    assert message.startswith("oafetch: error: --out") and "nope is not a folder" in message
