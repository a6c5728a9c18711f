"""Issue 7, benchmarks 2 (ledger part), 3 and 4 (ledger part).

    python bench/ledger_bench.py cost   [--jobs 2000]          # ledger cost per job, SQLite + PG
    python bench/ledger_bench.py claim  [--jobs 4000]          # claim p50/p99, 1/4/8 processes
    python bench/ledger_bench.py big    [--jobs 1000000]       # 1M planned jobs: rate, RSS, query

`cost` replays, per job, the ledger calls one job of the `bench` world makes in a real run
(bench/cost.py counts them: plan, claim, 6 get_op, 7 start_op + 7 finish_op, 4 transitions)
and times them together. `claim` runs N processes, each claiming one job at a time in a loop
(then finishing it with one transition, as a worker would) until the queue is empty; each
claim is timed on its own. `big` runs in a child process so its peak RSS is its own.
PostgreSQL: a fresh database `oafetch_bench_<pid>` is created on the server of
$OAFETCH_BENCH_PG (default the local `test` database's server) and dropped afterwards.
Writes bench/results/ledger_cost.json, claim_latency.json, ledger_1m.json.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import multiprocessing as mp
import os
import resource
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import PG_URL, RESULTS, percentile, table, write_result

from oafetch.ledger import OpStatus, OpType, State, idempotency_key, op_key, open_ledger

RESOLVERS = ("openalex", "unpaywall", "pmc", "europepmc", "semantic_scholar")


@contextlib.contextmanager
def pg_database() -> Iterator[str]:
    """A throw-away database on the bench server; yields its URL."""
    import psycopg

    name = f"oafetch_bench_{os.getpid()}"
    with psycopg.connect(PG_URL, autocommit=True) as conn:
        conn.execute(f"DROP DATABASE IF EXISTS {name}")
        conn.execute(f"CREATE DATABASE {name}")
    base = PG_URL.rsplit("/", 1)[0]
    try:
        yield f"{base}/{name}"
    finally:
        with psycopg.connect(PG_URL, autocommit=True) as conn:
            conn.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")


@contextlib.contextmanager
def backend(kind: str) -> Iterator[str]:
    if kind == "postgresql":
        with pg_database() as url:
            yield url
    else:
        with tempfile.TemporaryDirectory(prefix="oafetch-ledger-") as d:
            yield str(Path(d) / "ledger.db")


def works(n: int, start: int = 0) -> list[tuple[str, dict[str, Any]]]:
    return [(idempotency_key(f"doi:10.5555/bench.{i}"), {"doi": f"10.5555/bench.{i}",
             "input": f"10.5555/bench.{i}"}) for i in range(start, start + n)]


# ---------------------------------------------------------------------------- cost per job

def one_job(ledger: Any, owner: str) -> bool:
    """The ledger calls of one successful job of the bench world, in the runner's order."""
    jobs = ledger.claim(owner, 60.0, limit=1)
    if not jobs:
        return False
    job = jobs[0]
    lease = job.lease
    key = job.idempotency_key
    for src in RESOLVERS:
        k = op_key(key, OpType.RESOLVE, src)
        ledger.get_op(k)
        ledger.start_op(lease, k, OpType.RESOLVE)
        ledger.finish_op(lease, k, OpStatus.DONE, "ok", {"source": src, "candidates": [
            {"url": f"http://127.0.0.1/article/{key}/pdf", "kind": "pdf"}] if src == "openalex" else []})
    ledger.transition(lease, State.HEAD_DONE)
    url = f"http://127.0.0.1/article/{key}/pdf"
    k = op_key(key, OpType.STREAM, url)
    ledger.get_op(k)
    ledger.start_op(lease, k, OpType.STREAM)
    ledger.transition(lease, State.STREAMING)
    ledger.finish_op(lease, k, OpStatus.DONE, "ok", {"sha256": "ab" * 32, "size": 100000})
    sha = "cd" * 32
    k = op_key(key, OpType.FINALIZE, sha)
    ledger.get_op(k)
    ledger.start_op(lease, k, OpType.FINALIZE)
    ledger.finish_op(lease, k, OpStatus.DONE, "ok", {"blob": "blobs/x.pdf", "existed": False})
    ledger.transition(lease, State.FINALIZED, sha256=sha, size=100000, format="pdf",
                      source="openalex", url=url)
    k = op_key(key, OpType.INDEX, sha)
    ledger.start_op(lease, k, OpType.INDEX)
    ledger.finish_op(lease, k, OpStatus.DONE, "ok", {"path": "works/x.pdf"})
    ledger.transition(lease, State.INDEXED, path="works/x.pdf")
    return True


def bench_cost(n: int) -> None:
    rows, res = [], {}
    for kind in ("sqlite", "postgresql"):
        with backend(kind) as where:
            ledger = open_ledger(where)
            t0 = time.perf_counter()
            ledger.plan(works(n))
            plan_s = time.perf_counter() - t0
            done, w0, c0 = 0, time.perf_counter(), time.process_time()
            while one_job(ledger, "bench:1:cost"):
                done += 1
            wall, cpu = time.perf_counter() - w0, time.process_time() - c0
            counts = ledger.counts()
            ledger.close()
        assert done == n and counts[State.INDEXED] == n, (done, counts)
        res[kind] = {"jobs": n, "wall_ms_per_job": round(wall / n * 1000, 3),
                     "cpu_ms_per_job": round(cpu / n * 1000, 3),
                     "plan_ms_per_job": round(plan_s / n * 1000, 4)}
        rows.append([kind, n, round(wall / n * 1000, 3), round(cpu / n * 1000, 3),
                     round(plan_s / n * 1000, 4)])
    path = write_result("ledger_cost", {"calls_per_job": "claim, 6 get_op, 7 start_op, 7 finish_op, "
                                        "4 transition (+ plan)", **res})
    print(table(rows, ["backend", "jobs", "wall ms/job", "client CPU ms/job", "plan ms/job"]))
    print("target: <= 1 ms per job on SQLite (all transitions of one job together)")
    print(f"-> {path}")


# ---------------------------------------------------------------------------- claim latency

def _claimer(where: str, idx: int, start: Any, out: Any) -> None:
    ledger = open_ledger(where, migrate=False)
    owner = f"bench:{os.getpid()}:{idx}"
    lat: list[float] = []
    start.wait()
    while True:
        t0 = time.perf_counter()
        jobs = ledger.claim(owner, 60.0, limit=1)
        lat.append((time.perf_counter() - t0) * 1000)
        if not jobs:
            break
        ledger.transition(jobs[0].lease, State.FAILED, outcome_class="link_dead", outcome_reason="bench")
    ledger.close()
    out.put(lat[:-1])  # the last, empty claim is not a claim of a job


def bench_claim(n: int, procs: list[int]) -> None:
    ctx = mp.get_context("spawn")
    rows, res = [], {}
    for kind in ("sqlite", "postgresql"):
        for p in procs:
            with backend(kind) as where:
                ledger = open_ledger(where)
                ledger.plan(works(n))
                ledger.close()
                start, out = ctx.Event(), ctx.Queue()
                children = [ctx.Process(target=_claimer, args=(where, i, start, out)) for i in range(p)]
                for c in children:
                    c.start()
                time.sleep(1.0)  # let every child import and connect before the gun
                t0 = time.perf_counter()
                start.set()
                lat: list[float] = []
                for _ in children:
                    lat += out.get(timeout=300)
                wall = time.perf_counter() - t0
                for c in children:
                    c.join(30)
            p50, p99 = percentile(lat, 50), percentile(lat, 99)
            res[f"{kind}/{p}"] = {"backend": kind, "processes": p, "claims": len(lat),
                                  "p50_ms": round(p50, 3), "p99_ms": round(p99, 3),
                                  "max_ms": round(max(lat), 3), "claims_per_s": round(len(lat) / wall, 1)}
            rows.append([kind, p, len(lat), round(p50, 3), round(p99, 3), round(max(lat), 3),
                         round(len(lat) / wall, 1)])
    path = write_result("claim_latency", {"jobs": n, "results": res})
    print(table(rows, ["backend", "processes", "claims", "p50 ms", "p99 ms", "max ms", "claims/s"]))
    print("target: p99 <= 10 ms with 8 processes on SQLite and PostgreSQL")
    print(f"-> {path}")


# ---------------------------------------------------------------------------- 1M jobs

def _big_child(where: str, n: int, out: Any) -> None:
    def gen() -> Iterator[tuple[str, dict[str, Any]]]:
        for i in range(n):
            yield (idempotency_key(f"doi:10.5555/big.{i}"), {"doi": f"10.5555/big.{i}",
                   "input": f"10.5555/big.{i}"})

    ledger = open_ledger(where)
    t0 = time.perf_counter()
    planned = sum(1 for r in ledger.plan_iter(gen()) if r.inserted)
    plan_s = time.perf_counter() - t0
    rss_plan = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    t0 = time.perf_counter()
    counts = ledger.counts()
    status_s = time.perf_counter() - t0
    claim_ms = []
    for _ in range(200):
        t0 = time.perf_counter()
        jobs = ledger.claim("bench:big", 60.0, limit=8)
        claim_ms.append((time.perf_counter() - t0) * 1000)
        for j in jobs:
            ledger.transition(j.lease, State.FAILED, outcome_class="link_dead", outcome_reason="bench")
    t0 = time.perf_counter()
    ledger.next_wakeup()
    wake_ms = (time.perf_counter() - t0) * 1000
    ledger.close()
    out.put({"planned": planned, "plan_s": round(plan_s, 2), "plan_per_s": round(n / plan_s),
             "status_query_ms": round(status_s * 1000, 1), "counts_planned": counts[State.PLANNED],
             "claim8_p50_ms": round(percentile(claim_ms, 50), 3),
             "claim8_p99_ms": round(percentile(claim_ms, 99), 3), "next_wakeup_ms": round(wake_ms, 2),
             "peak_rss_mb_after_plan": round(rss_plan, 1),
             "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)})


def bench_big(n: int, kinds: list[str]) -> None:
    ctx = mp.get_context("spawn")
    rows, res = [], {}
    for kind in kinds:
        with backend(kind) as where:
            out = ctx.Queue()
            child = ctx.Process(target=_big_child, args=(where, n, out))
            child.start()
            r = out.get(timeout=900)
            child.join(60)
        res[kind] = r
        rows.append([kind, n, r["plan_s"], r["plan_per_s"], r["status_query_ms"], r["claim8_p50_ms"],
                     r["claim8_p99_ms"], r["peak_rss_mb"]])
    old = RESULTS / "ledger_1m.json"  # one backend at a time may be re-run: keep the other
    if old.exists():
        with contextlib.suppress(ValueError, KeyError):
            res = {**json.loads(old.read_text())["results"], **res}
    path = write_result("ledger_1m", {"jobs": n, "results": res})
    print(table(rows, ["backend", "jobs", "plan s", "plans/s", "status ms", "claim p50 ms",
                       "claim p99 ms", "peak RSS MB"]))
    print("targets: plan 1,000,000 <= 60 s; peak RSS <= 150 MB")
    print(f"-> {path}")


def main() -> None:
    ap = argparse.ArgumentParser(description="ledger benchmarks (issue 7 §2-§4)")
    ap.add_argument("what", choices=["cost", "claim", "big"])
    ap.add_argument("--jobs", type=int)
    ap.add_argument("--procs", default="1,4,8")
    ap.add_argument("--backends", default="sqlite,postgresql")
    ns = ap.parse_args()
    if ns.what == "cost":
        bench_cost(ns.jobs or 2000)
    elif ns.what == "claim":
        bench_claim(ns.jobs or 4000, [int(x) for x in ns.procs.split(",")])
    else:
        bench_big(ns.jobs or 1_000_000, ns.backends.split(","))


if __name__ == "__main__":
    main()
