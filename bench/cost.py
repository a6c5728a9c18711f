"""Issue 7, benchmark 2: CPU cost per work, split into ledger, classify/validate, HTTP, rest.

Two passes over one simweb world (profile `bench`):
  1. counters: `oafetch fetch` runs IN this process with the ledger, the classifier/validator
     and the store wrapped by thread-CPU counters (time.thread_time: exact for synchronous
     code, which all of these are); total CPU is process time (threads included). It also
     records the exact sequence of ledger calls one job makes (used by ledger_cost.py).
  2. sampling: the same fetch as a child under `py-spy record --gil` (if py-spy is
     installed); GIL-holding samples are bucketed by the first matching frame, which splits
     the remainder into HTTP (httpx/httpcore/anyio/h11 + oafetch.net), telemetry, asyncio...

    python bench/cost.py [--works 2000] [--no-pyspy]
Writes bench/results/cost.json (and bench/results/ledger_calls.json: calls per job).
"""

from __future__ import annotations

import argparse
import collections
import contextlib
import functools
import json
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import RESULTS, WORLD_OPTS, oafetch_cmd, run_timed, table, write_result

from oafetch.simweb import SimWeb

COUNTERS: dict[str, float] = collections.defaultdict(float)
CALLS: collections.Counter[str] = collections.Counter()


def _timed(bucket: str, fn: Callable[..., Any], name: str | None = None) -> Callable[..., Any]:
    @functools.wraps(fn)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        t0 = time.thread_time()
        try:
            return fn(*args, **kwargs)
        finally:
            COUNTERS[bucket] += time.thread_time() - t0
            if name:
                CALLS[name] += 1
    return wrapper


class CountingLedger:
    """Every public ledger method timed (thread CPU) and counted; everything else proxied."""

    def __init__(self, inner: Any) -> None:
        self._inner = inner

    def __getattr__(self, name: str) -> Any:
        attr = getattr(self._inner, name)
        if callable(attr) and not name.startswith("_"):
            return _timed("ledger", attr, name)
        return attr


def counters_pass(works_file: Path, out: Path, config: Path) -> dict[str, Any]:
    import oafetch.api as api
    import oafetch.cascade as cascade
    import oafetch.store as store
    from oafetch.cli import app

    real_open = api.open_ledger
    api.open_ledger = lambda *a, **k: CountingLedger(real_open(*a, **k))  # type: ignore[assignment]
    cascade.validate_file = _timed("classify_validate", cascade.validate_file)  # type: ignore[assignment]
    cascade.classify = _timed("classify_validate", cascade.classify)  # type: ignore[assignment]
    for meth in ("commit", "link_friendly", "write_sidecar"):
        setattr(store.Store, meth, _timed("store", getattr(store.Store, meth)))
    args = oafetch_cmd(works_file, out, config)[3:]
    t0, w0 = time.process_time(), time.monotonic()
    with contextlib.suppress(SystemExit):
        app(args, standalone_mode=False)
    return {"cpu_s": time.process_time() - t0, "wall_s": time.monotonic() - w0}


_RULES = [
    ("ledger", ("oafetch/ledger/",)),
    ("classify_validate", ("oafetch/fetch/validate.py", "oafetch/fetch/classify.py",
                           "oafetch/fetch/identity.py", "pypdf/")),
    ("metadata_cache", ("oafetch/net/cache.py", "hishel/")),
    ("store", ("oafetch/store.py",)),
    ("telemetry", ("oafetch/telemetry/",)),
    ("http", ("httpx/", "httpcore/", "anyio/", "h11/", "oafetch/net/")),
    ("download_disk", ("oafetch/fetch/download.py",)),
    ("sources_parse", ("oafetch/sources/",)),
    ("asyncio_loop", ("asyncio/",)),
]


def pyspy_pass(works_file: Path, out: Path, config: Path, tmp: Path) -> dict[str, float]:
    pyspy = shutil.which("py-spy") or str(Path(sys.executable).parent / "py-spy")
    raw = tmp / "profile.txt"
    cmd = [pyspy, "record", "--gil", "-r", "200", "-f", "raw", "-o", str(raw), "--",
           *oafetch_cmd(works_file, out, config)]
    subprocess.run(cmd, capture_output=True, check=True, timeout=300)
    buckets: collections.Counter[str] = collections.Counter()
    for line in raw.read_text().splitlines():
        stack, _, n = line.rpartition(" ")
        if not stack:
            continue
        bucket = next((name for name, pats in _RULES if any(p in stack for p in pats)), "rest")
        buckets[bucket] += int(n)
    total = sum(buckets.values()) or 1
    return {k: round(v / total, 4) for k, v in buckets.most_common()}


def main() -> None:
    ap = argparse.ArgumentParser(description="CPU cost per work (issue 7 §2)")
    ap.add_argument("--works", type=int, default=2000)
    ap.add_argument("--no-pyspy", action="store_true")
    ns = ap.parse_args()
    tmp = Path(tempfile.mkdtemp(prefix="oafetch-cost-"))
    try:
        with SimWeb(tmp / "web", works=ns.works, seed=2, profile="bench", **WORLD_OPTS) as web:
            works_file = tmp / "works.txt"
            works_file.write_text("".join(w.input + "\n" for w in web.world))
            shares: dict[str, float] = {}
            child_cpu = None
            if not ns.no_pyspy:
                shares = pyspy_pass(works_file, tmp / "out-pyspy", web.config_path, tmp)
                child = run_timed(oafetch_cmd(works_file, tmp / "out-child", web.config_path))
                child_cpu = child.cpu_s
            ctr = counters_pass(works_file, tmp / "out", web.config_path)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    n = ns.works
    ms = lambda s: round(s / n * 1000, 3)  # noqa: E731
    split = {k: ms(v) for k, v in COUNTERS.items()}
    split["http_and_rest"] = ms(ctr["cpu_s"] - sum(COUNTERS.values()))
    calls_per_job = {k: round(v / n, 2) for k, v in CALLS.most_common()}
    res = {
        "works": n,
        "in_process": {"cpu_s": round(ctr["cpu_s"], 2), "wall_s": round(ctr["wall_s"], 2),
                       "cpu_ms_per_work": ms(ctr["cpu_s"]), "split_ms_per_work": split},
        "child_cpu_ms_per_work": ms(child_cpu) if child_cpu is not None else None,
        "pyspy_gil_share": shares,
        "ledger_calls_per_job": calls_per_job,
    }
    path = write_result("cost", res)
    (RESULTS / "ledger_calls.json").write_text(json.dumps(calls_per_job, indent=2) + "\n")
    rows = [[k, v] for k, v in split.items()]
    rows.append(["TOTAL (in-process)", ms(ctr["cpu_s"])])
    print(table(rows, ["counter", "CPU ms/work"]))
    if shares:
        base = ms(child_cpu or 0)
        print(table([[k, round(v * 100, 1), round(v * base, 3)] for k, v in shares.items()],
                    ["py-spy bucket", "% GIL samples", "~CPU ms/work"]))
    print(table([[k, v] for k, v in calls_per_job.items()], ["ledger call", "per job"]))
    print(f"-> {path}")


if __name__ == "__main__":
    main()
