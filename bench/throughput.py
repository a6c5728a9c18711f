"""Issue 7, benchmarks 1 and 5: oafetch's throughput against the raw ceiling, and re-run cost.

In one simweb world (profile `bench`: every work an OA PDF, 20-200 KB, no faults, all
politeness limits raised out of the way), in this order:
  (a) `oracle_client.py`: the minimal httpx client doing only the two requests per work;
  (b) `oafetch fetch` of the same works into a fresh folder (same concurrency);
  (5) the same `oafetch fetch` again into the same folder: wall time and requests made.
Reports works/s, CPU seconds (client and simweb server apart: they share 2 cores) and b/a.

    python bench/throughput.py [--works 5000] [--workers 8] [--extra "--processes 2"]
Writes bench/results/throughput.json and bench/results/rerun.json.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import shlex
import shutil
import sys
import tempfile
from pathlib import Path

import psutil

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import (
    PYTHON,
    WORLD_OPTS,
    oafetch_cmd,
    oracle_urls,
    run_timed,
    table,
    write_result,
)
from ledger_bench import pg_database

from oafetch.simweb import SimWeb


def server_cpu(pid: int | None) -> float:
    if pid is None:
        return 0.0
    t = psutil.Process(pid).cpu_times()
    return float(t.user + t.system)


def main() -> None:
    ap = argparse.ArgumentParser(description="oafetch throughput vs the raw ceiling (issue 7 §1, §5)")
    ap.add_argument("--works", type=int, default=5000)
    ap.add_argument("--workers", type=int, default=8)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--extra", default="", help="more `oafetch fetch` flags, e.g. '--processes 2'")
    ap.add_argument("--name", default="throughput")
    ap.add_argument("--no-rerun", action="store_true")
    ap.add_argument("--tier1", default=None,
                    help="comma list: replace the fallback tiers by ONE tier of these sources "
                         "(what-if: a cascade that asks only what it needs)")
    ap.add_argument("--no-metadata-cache", action="store_true")
    ap.add_argument("--pg", action="store_true",
                    help="ledger on PostgreSQL: a throw-away database, dropped afterwards "
                         "(never pass a shared database through --extra)")
    ns = ap.parse_args()
    extra = [*shlex.split(ns.extra), "--workers", str(ns.workers)]
    tmp = Path(tempfile.mkdtemp(prefix="oafetch-bench-"))
    with contextlib.ExitStack() as stack:
        if ns.pg:
            extra += ["--ledger", stack.enter_context(pg_database())]
        run(ns, extra, tmp)


def run(ns: argparse.Namespace, extra: list[str], tmp: Path) -> None:
    try:
        with SimWeb(tmp / "web", works=ns.works, seed=ns.seed, profile="bench", **WORLD_OPTS) as web:
            data = web.world_data()
            works_file = tmp / "works.txt"
            works_file.write_text("".join(w["input"] + "\n" for w in data["works"]))
            pairs_file = tmp / "pairs.json"
            pairs_file.write_text(json.dumps(oracle_urls(data)))

            n0, s0 = len(web.requests()), server_cpu(web.pid)
            a = run_timed([PYTHON, str(Path(__file__).parent / "oracle_client.py"), str(pairs_file),
                           "--concurrency", str(ns.workers)])
            n1, s1 = len(web.requests()), server_cpu(web.pid)
            if a.code != 0:
                raise SystemExit(f"oracle failed: {a.stderr[-800:]}")
            oa = a.json()
            out = tmp / "out"
            config = web.config_path
            if ns.no_metadata_cache:
                config = tmp / "oafetch-nocache.toml"
                config.write_text(web.config_path.read_text().replace(
                    "[politeness]\n", "[politeness]\nmetadata_cache = false\n", 1))
            if ns.tier1:
                config = tmp / "oafetch-tier1.toml"
                names = ", ".join(f'"{x}"' for x in ns.tier1.split(","))
                config.write_text(config.read_text() + "\n[[fallback.tiers]]\n"
                                  f'name = "direct_oa"\nparallel = 3\nsources = [{names}]\n')
            cmd = oafetch_cmd(works_file, out, config, *extra)
            b = run_timed(cmd)
            n2, s2 = len(web.requests()), server_cpu(web.pid)
            if b.code not in (0, 1):
                raise SystemExit(f"oafetch failed ({b.code}): {b.stderr[-800:]}")
            ob = b.json()
            rows = []
            res: dict[str, object] = {"works": ns.works, "workers": ns.workers, "command": shlex.join(cmd)}
            for label, t, elapsed, reqs, srv in (
                ("a oracle httpx", a, oa["elapsed_s"], n1 - n0, s1 - s0),
                ("b oafetch fetch", b, ob.get("elapsed_s", b.wall_s), n2 - n1, s2 - s1),
            ):
                rate = ns.works / elapsed
                res[label.split()[0]] = {
                    "elapsed_s": elapsed, "wall_s": round(t.wall_s, 3), "works_per_s": round(rate, 1),
                    "client_cpu_s": round(t.cpu_s, 2), "client_cpu_ms_per_work": round(t.cpu_s / ns.works * 1000, 2),
                    "server_cpu_s": round(srv, 2), "requests": reqs,
                }
                rows.append([label, round(elapsed, 2), round(rate, 1), round(t.cpu_s / ns.works * 1000, 2),
                             round(srv / ns.works * 1000, 2), reqs])
            res["statuses"] = ob.get("statuses")
            ra = ns.works / oa["elapsed_s"]
            rb = ns.works / ob.get("elapsed_s", b.wall_s)
            res["ratio_b_over_a"] = round(rb / ra, 3)
            path = write_result(ns.name, res)
            print(table(rows, ["run", "elapsed s", "works/s", "client CPU ms/work",
                               "server CPU ms/work", "requests"]))
            print(f"ratio b/a = {rb / ra:.3f}   (target >= 0.8; absolute target >= 300 works/s)")
            print(f"-> {path}")

            if ns.no_rerun:
                return
            c = run_timed(cmd)
            n3 = len(web.requests())
            oc = c.json()
            rerun = {"works": ns.works, "command": shlex.join(cmd), "wall_s": round(c.wall_s, 3),
                     "elapsed_s": oc.get("elapsed_s"), "cpu_s": round(c.cpu_s, 2),
                     "requests": n3 - n2, "statuses": oc.get("statuses")}
            path = write_result("rerun", rerun)
            print(table([["re-run", round(c.wall_s, 2), oc.get("elapsed_s"), round(c.cpu_s, 2), n3 - n2,
                          json.dumps(oc.get("statuses"))]],
                        ["run", "wall s", "elapsed s", "CPU s", "requests", "statuses"]))
            print("targets: wall <= 5 s, 0 requests")
            print(f"-> {path}")
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
