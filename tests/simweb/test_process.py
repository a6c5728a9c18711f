"""The simweb process: ready line, files it writes, clean shutdown, log, determinism."""

from __future__ import annotations

import json
import re
import signal
import subprocess
import sys
import tomllib
from pathlib import Path

import httpx
import pytest

from oafetch.config import load_config
from oafetch.simweb import PROFILES, SCENARIOS, SimWeb, SimWebError, SimWork, build_world
from oafetch.simweb.server import SOURCE_HOSTS
from oafetch.simweb.state import HOSTS


def test_ready_line_files_and_sigterm(tmp_path: Path) -> None:
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "oafetch.simweb",
            "serve",
            "--works",
            "5",
            "--seed",
            "2",
            "--profile",
            "slice",
            "--dir",
            str(tmp_path),
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert proc.stdout is not None
        ready = json.loads(proc.stdout.readline())
        assert ready["ready"] is True
        assert set(ready["ports"]) == set(HOSTS)
        assert len(set(ready["ports"].values())) == len(HOSTS), "one port per host"
        assert ready["config"] == str(tmp_path / "oafetch.toml")
        port = ready["ports"]["faults"]
        r = httpx.get(f"http://127.0.0.1:{port}/status/418", headers={"User-Agent": "ua-test"})
        assert r.status_code == 418
    finally:
        proc.send_signal(signal.SIGTERM)
        _, err = proc.communicate(timeout=10)
    assert proc.returncode == 0, err
    # The log was flushed at exit, with every field of the documented record.
    lines = (tmp_path / "requests.jsonl").read_text().splitlines()
    rec = json.loads(lines[-1])
    assert rec["host"] == "faults" and rec["port"] == port and rec["status"] == 418
    assert rec["path"] == "/status/418" and rec["method"] == "GET" and rec["ua"] == "ua-test"
    for key in ("ts", "query", "bytes", "range", "if_range", "if_none_match"):
        assert key in rec
    world = json.loads((tmp_path / "world.json").read_text())
    assert len(world["works"]) == 5 and world["profile"] == "slice"


def test_config_points_every_source_at_its_port(slice_web: SimWeb) -> None:
    data = tomllib.loads(slice_web.config_path.read_text())
    for name in SOURCE_HOSTS:
        assert data["sources"][name]["base_url"] == f"http://127.0.0.1:{slice_web.ports[name]}"
    assert data["sources"]["arxiv"]["api_url"].endswith(f":{slice_web.ports['arxiv']}/api/query")
    cfg = load_config(slice_web.config_path, env={})
    assert cfg.allow_private_networks is True
    assert cfg.source("wayback").api_url == slice_web.url("wayback", "/").rstrip("/")
    assert cfg.source("pmc").api_url == slice_web.url("europepmc", "/").rstrip("/")
    assert cfg.source("core").api_key is not None


def test_requests_log_is_current_while_running(slice_web: SimWeb) -> None:
    before = len(slice_web.requests())
    httpx.get(slice_web.url("publisher1", "/robots.txt"), headers={"Range": "bytes=0-3"})
    new = slice_web.requests()[before:]
    assert [(r["host"], r["path"], r["range"]) for r in new] == [
        ("publisher1", "/robots.txt", "bytes=0-3")
    ]


def test_world_is_deterministic_and_matches_world_json(slice_web: SimWeb) -> None:
    a = build_world("slice", 3, 28)
    b = build_world("slice", 3, 28)
    assert [w.sim for w in a.works] == [w.sim for w in b.works]
    assert a.routes == b.routes
    c = build_world("slice", 4, 28)
    assert [w.sim.input for w in a.works] != [w.sim.input for w in c.works]
    assert slice_web.world == [w.sim for w in a.works]


def test_slice_world_covers_its_scenarios_with_unique_inputs() -> None:
    world = build_world("slice", 0, 28)
    names = {name for unit in PROFILES["slice"] for name in unit}
    seen = [w.sim.scenario for w in world.works]
    assert {s: seen.count(s) for s in names} == dict.fromkeys(names, 2)
    assert len({w.sim.input for w in world.works}) == 28
    for w in world.works:
        sc = SCENARIOS[w.sim.scenario]
        assert (w.sim.expect_status, w.sim.expect_class) == (sc.expect_status, sc.expect_class)
        assert w.sim.expect_status in ("downloaded", "failed")
    dups = [w.sim for w in world.works if w.sim.group]
    assert len(dups) == 4 and len({d.group for d in dups}) == 2


def test_cascade_covers_every_failure_class_several_times() -> None:
    world = build_world("cascade", 7, 300)
    classes = [w.sim.expect_class for w in world.works if w.sim.expect_class]
    for cls in (
        "no_oa_location",
        "link_dead",
        "landing_no_link",
        "bot_wall",
        "login_or_paywall",
        "redirect_pathology",
        "wrong_type",
        "corrupt_or_partial",
        "wrong_work",
        "not_a_paper",
        "rate_limited",
        "policy_skip",
        "transient",
        "invalid_input",
    ):
        assert classes.count(cls) >= 3, cls
    scen = {w.sim.scenario for w in world.works}
    assert scen >= set(SCENARIOS) - {"big_pdf"}


def test_inputs_use_varied_spellings() -> None:
    inputs = [w.sim.input for w in build_world("cascade", 0, 120).works]
    assert any(i.startswith("doi:") for i in inputs)
    assert any(i.startswith("https://doi.org/") for i in inputs)
    assert any(i.startswith("10.") for i in inputs)
    assert any(i.startswith("W") for i in inputs)
    assert any(i.startswith("PMC") for i in inputs)
    assert any("arxiv" in i.lower() or re.fullmatch(r"\d{4}\.\d{5}", i) for i in inputs)


def test_simwork_round_trips_through_json() -> None:
    sim = build_world("demo", 0, 3).works[0].sim
    assert SimWork.from_json(json.loads(json.dumps(sim.to_json()))) == sim


def test_bad_profile_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(SimWebError, match="invalid choice"), SimWeb(tmp_path, profile="nope"):
        pass
    with pytest.raises(ValueError, match="unknown SimWeb option"):
        SimWeb(tmp_path, colour="blue")
