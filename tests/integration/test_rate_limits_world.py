"""A 200-work run with `--rate '*=5/s'`: the server never sees more than 5 (+1) requests in
any one-second window on any host, and never a path robots.txt disallows."""

from __future__ import annotations

from collections import defaultdict
from pathlib import Path

import pytest

from oafetch.simweb import SimWeb

from .helpers import read_jsonl, run_cli, sim_args, write_inputs


@pytest.mark.slow
def test_per_host_rate_and_robots_over_a_200_work_run(tmp_path: Path) -> None:
    with SimWeb(tmp_path / "web", works=200, seed=8, profile="cascade") as web:
        out = tmp_path / "out"
        inputs = write_inputs(tmp_path / "works.txt", web)
        args = sim_args(web, out)
        args[args.index("*=500/s")] = "*=5/s"
        proc = run_cli(["fetch", "--input", str(inputs), *args, "--quiet",
                        "--workers", "16"], timeout=900)
        log = web.requests()
    assert proc.returncode in (3, 4), proc.stderr
    assert len(read_jsonl(out / "results.jsonl")) == 200
    by_host: dict[str, list[float]] = defaultdict(list)
    for r in log:
        by_host[r["host"]].append(r["arrived"])
    worst = {}
    for host, stamps in by_host.items():
        stamps.sort()
        j, peak = 0, 0
        for i, t in enumerate(stamps):
            while stamps[j] <= t - 1.0:
                j += 1
            peak = max(peak, i - j + 1)
        worst[host] = peak
    print("peak requests in any 1 s window per host:", worst)
    assert max(worst.values()) <= 6, worst
    assert sum(len(v) for v in by_host.values()) > 400, "the run must really load the hosts"
    assert not [r for r in log if r["path"].startswith("/private/")]
