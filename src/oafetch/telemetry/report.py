"""The run report (DESIGN §9): one dict from an output folder, rendered three ways.

`report_from_out(config)` reads `results.jsonl`, the event log and the store; `build_report`
turns a `RunData` window into the report dict (so tests can hand it a constructed window);
`render_terminal`, `render_html` and `to_json` only present that dict — no figure is
computed twice, so the terminal, the HTML and `--check` can never disagree.
"""

from __future__ import annotations

import json
import time
from bisect import bisect_right
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.table import Table

from ..config import Config, SloConfig
from .measures import compute_measures
from .rundata import RunData, load_run
from .slo import evaluate_slos

__all__ = ["build_report", "render_html", "render_terminal", "report_from_out", "to_json"]

# Milliseconds: roughly ×2–×2.5 steps, a cache-speed answer to a minute-long download.
LATENCY_EDGES_MS = (0, 1, 2, 5, 10, 20, 50, 100, 200, 500, 1000, 2000, 5000, 10000, 30000, 60000)
TTFP_EDGES_S = (0, 1, 2, 5, 10, 20, 30, 60, 120, 300)


def _histogram(values: Sequence[float], edges: Sequence[float]) -> dict[str, Any]:
    counts = [0] * len(edges)
    for v in values:
        counts[max(0, bisect_right(edges, v) - 1)] += 1
    # The last bin is open-ended; show it as ending at the largest value seen.
    top = max([*values, edges[-1]]) if values else edges[-1]
    return {"edges": [*edges, top], "counts": counts}


def build_report(
    data: RunData,
    *,
    slo: SloConfig,
    tier_of: Callable[[dict[str, Any]], str | None] | None = None,
    corruption: dict[str, Any] | None = None,
    generated_at: float | None = None,
) -> dict[str, Any]:
    """Every figure of the report, plus each SLO judged against them."""
    m = compute_measures(data, tier_of=tier_of)
    m["corruption"] = corruption or {"count": None, "checked": 0, "items": []}
    latencies = m.pop("latency_ms")
    m["latency_histogram"] = _histogram(latencies, LATENCY_EDGES_MS)
    m["ttfp"]["histogram"] = _histogram(m["ttfp"].pop("values_s"), TTFP_EDGES_S)
    m["slo"] = [r.as_dict() for r in evaluate_slos(m, slo)]
    m["out"] = str(data.out) if data.out else None
    m["generated_at"] = generated_at if generated_at is not None else time.time()
    return m


def _corruption(out: Path, results: list[dict[str, Any]], deep: bool) -> dict[str, Any]:
    """Blobs of successful works that are missing or whose size (deep: hash) is wrong."""
    from ..store import Store

    expected: dict[str, int] = {}
    for r in results:
        if r.get("sha256") and isinstance(r.get("size"), int):
            expected[str(r["sha256"])] = int(r["size"])
    if not expected:
        return {"count": None, "checked": 0, "items": [], "deep": deep}
    rep = Store(out).verify(expected, deep=deep)
    items = [f"missing {s}" for s in rep.missing] + [f"corrupt {p.name}" for p in rep.corrupt]
    return {"count": len(items), "checked": len(expected), "items": items[:20], "deep": deep}


def _tier_lookup(config: Config, out: Path) -> Callable[[dict[str, Any]], str | None]:
    """The winning tier: the sidecar's provenance, else the configured tier of the source."""
    from ..ids import WorkIds
    from ..store import Store

    by_source = {s: t.name for t in config.fallback.tiers for s in t.sources}
    store = Store(out)

    def tier_of(row: dict[str, Any]) -> str | None:
        try:
            if row.get("path"):
                side = (out / str(row["path"])).with_suffix(".json")
            else:
                side = store.sidecar_path(WorkIds.from_dict(row.get("ids") or {}))
            tier = json.loads(side.read_text("utf-8")).get("tier")
            if tier:
                return str(tier)
        except (OSError, ValueError, TypeError):
            pass
        return by_source.get(str(row.get("source")))

    return tier_of


def report_from_out(
    config: Config, *, deep: bool = False, now: Callable[[], float] = time.time
) -> dict[str, Any]:
    """The report of `config.out`, over the SLO window (`[slo] window_s`; 0 = everything)."""
    out = config.out
    window = config.slo.window_s
    t = now()
    data = load_run(out, since=t - window if window > 0 else None)
    return build_report(
        data, slo=config.slo, tier_of=_tier_lookup(config, out),
        corruption=_corruption(out, data.results, deep), generated_at=t,
    )


def to_json(report: dict[str, Any]) -> str:
    return json.dumps(report, indent=2, sort_keys=False, default=str)


def _pct(v: float | None) -> str:
    return "no data" if v is None else f"{100 * v:.1f}%"


def _num(v: float | None, unit: str = "", digits: int = 3) -> str:
    return "no data" if v is None else f"{v:.{digits}g}{unit}"


def render_terminal(report: dict[str, Any], console: Console) -> None:
    """Tables for a terminal: summary, SLOs, sources, failure classes, hosts."""
    y = report["yield"]
    summary = Table(title=f"oafetch report · {report.get('out') or ''}", show_header=False)
    summary.add_column(style="bold")
    summary.add_column(justify="right")
    summary.add_row("works", str(report["works"]))
    for status, n in report["statuses"].items():
        summary.add_row(f"  {status}", str(n))
    summary.add_row("yield (of works with an OA location)",
                    f"{_pct(y['ratio'])} ({y['successes']}/{y['eligible']})")
    tt = report["ttfp"]
    summary.add_row("time to first PDF p50 / p95",
                    f"{_num(tt['p50_s'], ' s')} / {_num(tt['p95_s'], ' s')} (n={tt['count']})")
    c = report["completion"]
    summary.add_row("job completion", f"{_pct(c['rate'])} ({c['finished']}/{c['jobs']})")
    summary.add_row("lease claim p99", _num(report["lease"]["p99_ms"], " ms"))
    r = report["replay"]
    summary.add_row("replay rate",
                    f"{_pct(r['rate'])} ({r['replays']} replayed, {r['executed']} run)")
    rec = report["recovered"]
    summary.add_row("crash-recovered jobs finished",
                    f"{_pct(rec['rate'])} ({rec['terminal']}/{rec['jobs']})")
    cor = report["corruption"]
    summary.add_row("corrupt or missing artifacts",
                    "no data" if cor["count"] is None else str(cor["count"]))
    console.print(summary)

    slo = Table(title="SLOs")
    for col in ("objective", "value", "target", "status"):
        slo.add_column(col)
    style = {"ok": "green", "violated": "bold red", "no_data": "yellow", "off": "dim"}
    for s in report["slo"]:
        detail = f" {'; '.join(s['detail'])}" if s["detail"] else ""
        slo.add_row(s["name"], _num(s["value"], s["unit"]),
                    f"{s['op']} {_num(s['target'], s['unit'])}",
                    f"[{style[s['status']]}]{s['status']}[/]{detail}")
    console.print(slo)

    src = Table(title="Sources")
    for col in ("source", "wins", "works with candidates", "yield", "attempts ok/all", "queries"):
        src.add_column(col, justify="right" if col != "source" else "left")
    for name, s in report["sources"].items():
        src.add_row(name, str(s["wins"]), str(s["works_with_candidates"]), _pct(s["yield"]),
                    f"{s['attempts_ok']}/{s['attempts']}", str(s["queried"]))
    console.print(src)
    if report["tiers"]:
        console.print("Tiers: " + ", ".join(f"{t} {v['wins']} ({_pct(v['yield'])})"
                                           for t, v in report["tiers"].items()), highlight=False)

    fc = Table(title="Failure classes")
    for col in ("class", "works", "retry", "examples"):
        fc.add_column(col)
    for name, f in report["failure_classes"].items():
        ex = "\n".join(f"{e['input']}: {e['reason']}" for e in f["examples"])
        fc.add_row(name, str(f["count"]), "yes" if f["retryable"] else "no", ex)
    console.print(fc)

    hosts = Table(title="Slowest hosts (p95) and 429 ratio")
    for col in ("host", "requests", "p50 ms", "p95 ms", "429", "429 ratio", "rate wait s"):
        hosts.add_column(col, justify="left" if col == "host" else "right")
    for h in report["slowest_hosts"]:
        hosts.add_row(h["host"], str(h["requests"]), _num(h["p50_ms"]), _num(h["p95_ms"]),
                      str(h["status_429"]), _pct(h["ratio_429"]), f"{h['rate_wait_s']:.2f}")
    console.print(hosts)


def render_html(report: dict[str, Any]) -> str:
    """A self-contained HTML page (inline CSS and SVG; no scripts, no network)."""
    from .report_html import html_page

    return html_page(report)


def generated_label(report: dict[str, Any]) -> str:
    ts = report.get("generated_at")
    if not isinstance(ts, int | float):
        return ""
    return datetime.fromtimestamp(float(ts), UTC).strftime("%Y-%m-%d %H:%M:%S UTC")
