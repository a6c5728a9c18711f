"""Figures computed from one window of results and events: what the report shows and SLOs judge.

Every figure is computed here once; the report renders it and `slo.py` compares it with a
target, so the number a user reads and the number `report --check` fails on are the same.
A figure that has nothing to be computed from is `None` ("no data"), never 0.

Definitions (also in docs/telemetry.md):
- yield: successes / works with an OA location, i.e. every work except `no_oa_location`
  and `invalid_input` (and except works not finished yet).
- time to first PDF: per job, from the lease that produced it (`job_leased`) to its PDF's
  `artifact_stored`; a job that waited in RETRY_WAIT is measured from its last lease.
- job completion rate: jobs that finished / jobs planned or leased in the window.
- lease acquisition latency: `claim_ms` of `job_leased` (one claim statement).
- replay rate: ops answered from the ledger / (those + ops executed).
- recovered job: a job leased again while its previous lease was never released (the worker
  died or lost it), or claimed in a later state than LEASED; the crash recovery rate is the
  share of those that reached a terminal state.
- 429 ratio per host: answers with status 429 / network requests (cache hits excluded).
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Callable, Mapping
from typing import Any

from ..outcomes import FailureClass
from .rundata import RunData, percentile

__all__ = ["SUCCESS_STATUSES", "compute_measures", "throughput_bins"]

SUCCESS_STATUSES = frozenset({"downloaded", "deduped", "already_done"})
_NO_LOCATION = frozenset({FailureClass.NO_OA_LOCATION.value, FailureClass.INVALID_INPUT.value})
_FRESH_LEASE_STATES = frozenset({"PLANNED", "LEASED", "RETRY_WAIT"})
_NICE_BINS_S = (1, 2, 5, 10, 15, 30, 60, 120, 300, 600, 900, 1800, 3600, 7200, 21600, 86400)


def _ratio(num: int, den: int) -> float | None:
    return num / den if den else None


def _num(value: Any) -> float | None:
    return float(value) if isinstance(value, int | float) and not isinstance(value, bool) else None


_TierOf = Callable[[dict[str, Any]], str | None]


def _outcomes(data: RunData, tier_of: _TierOf | None) -> dict[str, Any]:
    statuses: Counter[str] = Counter()
    wins: Counter[str] = Counter()
    tiers: Counter[str] = Counter()
    classes: dict[str, dict[str, Any]] = {}
    eligible = successes = 0
    for r in data.results:
        status = str(r.get("status"))
        statuses[status] += 1
        cls = r.get("class")
        ok = status in SUCCESS_STATUSES
        if ok or cls not in _NO_LOCATION:
            eligible += 1
        if ok:
            successes += 1
            if r.get("source"):
                wins[str(r["source"])] += 1
            tiers[(tier_of(r) if tier_of else None) or "unknown"] += 1
        else:
            entry = classes.setdefault(str(cls or "unknown"), {"count": 0, "examples": []})
            entry["count"] += 1
            if len(entry["examples"]) < 3:
                entry["examples"].append({"input": r.get("input"), "reason": r.get("reason")})
    for name, entry in classes.items():
        try:
            entry["retryable"] = FailureClass(name).retryable
        except ValueError:
            entry["retryable"] = None
    ordered = dict(sorted(classes.items(), key=lambda kv: (-kv[1]["count"], kv[0])))
    return {
        "works": len(data.results),
        "statuses": dict(statuses.most_common()),
        "succeeded": successes,
        "failed": statuses.get("failed", 0),
        "yield": {"successes": successes, "eligible": eligible,
                  "ratio": _ratio(successes, eligible)},
        "wins": dict(wins.most_common()),
        "tiers": {t: {"wins": n, "yield": _ratio(n, eligible)} for t, n in tiers.most_common()},
        "failure_classes": ordered,
    }


def _sources(data: RunData, wins: Mapping[str, int]) -> dict[str, dict[str, Any]]:
    proposed: dict[str, set[Any]] = defaultdict(set)
    attempts: Counter[str] = Counter()
    attempts_ok: Counter[str] = Counter()
    queried: Counter[str] = Counter()
    for e in data.of_type("candidate_found", "attempt_finished", "source_queried"):
        f = e.get("fields") or {}
        src = str(f.get("source") or "unknown")
        if e["type"] == "candidate_found":
            proposed[src].add(e.get("job_id"))
        elif e["type"] == "attempt_finished":
            attempts[src] += 1
            attempts_ok[src] += 1 if f.get("ok") else 0
        else:
            queried[src] += 1
    names = set(wins) | set(proposed) | set(attempts) | set(queried)
    out = {}
    for name in names:
        n_prop = len(proposed.get(name, ()))
        out[name] = {
            "wins": wins.get(name, 0),
            "queried": queried[name],
            "works_with_candidates": n_prop,
            "attempts": attempts[name],
            "attempts_ok": attempts_ok[name],
            "yield": _ratio(wins.get(name, 0), n_prop),
        }
    return dict(sorted(out.items(), key=lambda kv: (-int(kv[1]["wins"] or 0),
                                                     -int(kv[1]["attempts"] or 0), kv[0])))


def _jobs(data: RunData) -> dict[str, Any]:
    """TTFP, completion, lease latency and crash recovery: one pass over the job events."""
    leased_at: dict[Any, float] = {}
    held: dict[Any, bool] = {}
    ttfp: dict[Any, float] = {}
    claims: list[float] = []
    seen: set[Any] = set()
    finished: set[Any] = set()
    recovered: set[Any] = set()
    recovered_done: set[Any] = set()
    for e in data.events:
        job, kind, f = e.get("job_id"), e.get("type"), e.get("fields") or {}
        ts = float(e.get("ts") or 0.0)
        if kind == "job_planned" and job is not None:
            seen.add(job)
        elif kind == "job_leased" and job is not None:
            seen.add(job)
            if held.get(job) or str(f.get("state", "LEASED")) not in _FRESH_LEASE_STATES:
                recovered.add(job)
            held[job] = True
            leased_at[job] = ts
            claim = _num(f.get("claim_ms"))
            if claim is not None:
                claims.append(claim)
        elif kind == "lease_released" and job is not None:
            held[job] = False
        elif kind == "artifact_stored" and job is not None:
            if f.get("format") == "pdf" and job in leased_at and job not in ttfp:
                ttfp[job] = max(0.0, ts - leased_at[job])
        elif kind == "job_finished" and job is not None:
            held[job] = False
            if job in seen:
                finished.add(job)
            if job in recovered:
                recovered_done.add(job)
    values = sorted(ttfp.values())
    return {
        "ttfp": {"count": len(values), "p50_s": percentile(values, 50),
                 "p95_s": percentile(values, 95), "max_s": values[-1] if values else None,
                 "values_s": values},
        "completion": {"jobs": len(seen), "finished": len(finished),
                       "rate": _ratio(len(finished), len(seen))},
        "lease": {"claims": len(claims), "p50_ms": percentile(claims, 50),
                  "p99_ms": percentile(claims, 99)},
        "recovered": {"jobs": len(recovered), "terminal": len(recovered_done),
                      "rate": _ratio(len(recovered_done), len(recovered))},
    }


def _hosts(data: RunData) -> tuple[dict[str, dict[str, Any]], list[float]]:
    lat: dict[str, list[float]] = defaultdict(list)
    per: dict[str, Counter[str]] = defaultdict(Counter)
    wait: Counter[str] = Counter()
    all_ms: list[float] = []
    for e in data.of_type("http_request", "rate_limited"):
        f = e.get("fields") or {}
        host = str(f.get("host") or "unknown")
        if e["type"] == "rate_limited":
            per[host]["rate_limited"] += 1
            continue
        if f.get("from_cache"):
            per[host]["cached"] += 1
            continue
        c = per[host]
        c["requests"] += 1
        c["bytes"] += int(f.get("bytes") or 0)
        status = f.get("status")
        if status is None:
            c["errors"] += 1
        elif status == 429:
            c["status_429"] += 1
        ms = _num(f.get("ms"))
        if ms is not None:
            lat[host].append(ms)
            all_ms.append(ms)
        w = _num(f.get("rate_wait_ms"))
        wait[host] += int(w or 0)
    hosts = {}
    for host, c in per.items():
        hosts[host] = {
            "requests": c["requests"], "cached": c["cached"], "errors": c["errors"],
            "status_429": c["status_429"], "rate_limited_events": c["rate_limited"],
            "ratio_429": _ratio(c["status_429"], c["requests"]), "bytes": c["bytes"],
            "p50_ms": percentile(lat[host], 50), "p95_ms": percentile(lat[host], 95),
            "rate_wait_s": wait[host] / 1000.0,
        }
    return dict(sorted(hosts.items())), all_ms


def throughput_bins(data: RunData, *, max_bins: int = 40) -> dict[str, Any]:
    """Jobs finished (and succeeded) per time bin, with a bin width a person can read."""
    done = [e for e in data.of_type("job_finished")]
    if not done:
        return {"bin_s": None, "start": None, "bins": []}
    start = float(done[0]["ts"])
    span = float(done[-1]["ts"]) - start
    width = next((b for b in _NICE_BINS_S if span / b < max_bins), _NICE_BINS_S[-1])
    n = int(span // width) + 1
    bins = [{"t_s": i * width, "finished": 0, "succeeded": 0, "bytes": 0} for i in range(n)]
    for e in done:
        f = e.get("fields") or {}
        b = bins[min(n - 1, int((float(e["ts"]) - start) // width))]
        b["finished"] += 1
        if f.get("status") in SUCCESS_STATUSES:
            b["succeeded"] += 1
            b["bytes"] += int(f.get("bytes") or 0)
    return {"bin_s": width, "start": start, "bins": bins}


def compute_measures(
    data: RunData, *, tier_of: Callable[[dict[str, Any]], str | None] | None = None
) -> dict[str, Any]:
    """Every figure of the report and of the SLOs, from one window of `data`."""
    outcomes = _outcomes(data, tier_of)
    hosts, latencies = _hosts(data)
    replays = sum(1 for _ in data.of_type("idempotency_replay"))
    executed = sum(1 for _ in data.of_type("operation_started"))
    repairs: Counter[str] = Counter()
    recovery_events = 0
    for e in data.of_type("crash_recovery"):
        recovery_events += 1
        for k, v in (e.get("fields") or {}).items():
            if isinstance(v, int):
                repairs[k] += v
    ts = [float(e.get("ts") or 0.0) for e in data.events]
    ranked = [h for h in hosts.items() if h[1]["p95_ms"] is not None]
    ranked.sort(key=lambda kv: -float(kv[1]["p95_ms"]))
    return {
        **outcomes,
        "sources": _sources(data, outcomes["wins"]),
        **_jobs(data),
        "hosts": hosts,
        "slowest_hosts": [{"host": h, **v} for h, v in ranked[:10]],
        "latency_ms": sorted(latencies),
        "replay": {"replays": replays, "executed": executed,
                   "rate": _ratio(replays, replays + executed)},
        "crash_recovery": {"events": recovery_events, "repairs": dict(repairs)},
        "throughput": throughput_bins(data),
        "window": {"events": len(data.events), "first_ts": min(ts) if ts else None,
                   "last_ts": max(ts) if ts else None,
                   "runs": len({e.get("run_id") for e in data.events})},
    }
