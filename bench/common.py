"""Shared helpers for the benchmarks in `bench/` (issue 7).

Why a helper module and not a framework: every bench is a plain script that starts what it
needs (a simweb world, a database), measures, writes `bench/results/<name>.json` and prints a
small table. These are the bits they all repeat: where results go, how a child process's CPU
time is measured, how oafetch is invoked against a simweb world, and the oracle URLs.
"""

from __future__ import annotations

import json
import math
import os
import platform
import resource
import subprocess
import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import quote

HERE = Path(__file__).resolve().parent
RESULTS = HERE / "results"
PYTHON = sys.executable
PG_URL = os.environ.get("OAFETCH_BENCH_PG", "postgresql://postgres@127.0.0.1:5432/test")

# The world of issue 7: small PDFs, politeness out of the way.
WORLD_OPTS: dict[str, Any] = {"pdf_min_bytes": 20_000, "pdf_max_bytes": 200_000}
FAST_RATE = "*=100000/s"


def machine() -> dict[str, Any]:
    """What the numbers were measured on (they mean little without it)."""
    load = os.getloadavg()
    return {
        "python": platform.python_version(),
        "cpus": os.cpu_count(),
        "platform": platform.platform(),
        "loadavg_at_start": [round(x, 2) for x in load],
        "when": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
    }


def write_result(name: str, data: dict[str, Any]) -> Path:
    RESULTS.mkdir(parents=True, exist_ok=True)
    path = RESULTS / f"{name}.json"
    path.write_text(json.dumps({"bench": name, "machine": machine(), **data}, indent=2) + "\n")
    return path


def table(rows: Sequence[Sequence[Any]], header: Sequence[str]) -> str:
    """A plain fixed-width table (no dependency) for the terminal."""
    cells = [[str(h) for h in header]] + [[_fmt(c) for c in r] for r in rows]
    widths = [max(len(r[i]) for r in cells) for i in range(len(header))]
    lines = ["  ".join(c.ljust(w) for c, w in zip(r, widths, strict=True)) for r in cells]
    lines.insert(1, "  ".join("-" * w for w in widths))
    return "\n".join(lines)


def _fmt(value: Any) -> str:
    if isinstance(value, float):
        return f"{value:.3f}" if abs(value) < 100 else f"{value:.1f}"
    return str(value)


def children_cpu() -> float:
    """User+system CPU seconds of every reaped child so far (diff two readings)."""
    ru = resource.getrusage(resource.RUSAGE_CHILDREN)
    return ru.ru_utime + ru.ru_stime


@dataclass(slots=True)
class Timed:
    """A child process run: wall seconds, CPU seconds, exit code, output."""

    wall_s: float
    cpu_s: float
    code: int
    stdout: str
    stderr: str

    def json(self) -> dict[str, Any]:
        try:
            out: dict[str, Any] = json.loads(self.stdout)
        except ValueError:
            out = {}
        return out


def run_timed(cmd: Sequence[str], *, timeout: float = 300.0, env: dict[str, str] | None = None) -> Timed:
    """Run a child to completion; CPU comes from RUSAGE_CHILDREN (includes its children)."""
    cpu0, t0 = children_cpu(), time.monotonic()
    proc = subprocess.run(
        list(cmd), capture_output=True, text=True, timeout=timeout, env=env, check=False
    )
    return Timed(time.monotonic() - t0, children_cpu() - cpu0, proc.returncode, proc.stdout, proc.stderr)


def oafetch_cmd(
    works_file: Path, out: Path, config: Path, *extra: str, python: str = PYTHON
) -> list[str]:
    """`oafetch fetch` exactly as issue 7 states it (loopback, politeness out of the way)."""
    return [
        python, "-m", "oafetch", "fetch", "--input", str(works_file), "--out", str(out),
        "--config", str(config), "--mailto", "b@example.org", "--allow-private-networks",
        "--rate", FAST_RATE, "--quiet", "--json", *extra,
    ]


def oracle_urls(world_data: dict[str, Any]) -> list[tuple[str, str]]:
    """Per work of the `bench` profile: (OpenAlex metadata URL, PDF URL) from simweb's truth.

    The metadata URL is the one an oracle that knows the answer must still ask (OpenAlex
    `/works/{id}`, keyed by the input's id); the PDF URL is where simweb serves the file.
    """
    port = world_data["ports"]["openalex"]
    pairs = []
    for w in world_data["works"]:
        ids = w["ids"]
        key = ids["openalex"] if w["input"].startswith("W") else "doi:" + quote(ids["doi"], safe="/:")
        pdf = w["urls"][-1]
        pairs.append((f"http://127.0.0.1:{port}/works/{key}?mailto=b%40example.org", pdf))
    return pairs


def percentile(values: Sequence[float], p: float) -> float:
    """Nearest-rank percentile (p in 0..100); 0.0 for no values."""
    if not values:
        return 0.0
    ordered = sorted(values)
    k = max(0, min(len(ordered) - 1, math.ceil(p / 100 * len(ordered)) - 1))
    return ordered[k]
