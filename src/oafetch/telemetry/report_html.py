"""The HTML face of the report: one self-contained page (inline CSS + SVG, no scripts).

Why no JavaScript or CDN: the page must render from a file on an offline machine and stay
readable in an archive; everything it shows is already computed in the report dict.
"""

from __future__ import annotations

from html import escape
from typing import Any

from .svg import hbar_chart, histogram, line_chart

__all__ = ["html_page"]

_CSS = """
body{font-family:system-ui,sans-serif;margin:24px;color:#111827;background:#fff;max-width:1150px}
h1{font-size:22px;margin:0 0 4px}
h2{font-size:16px;margin:24px 0 8px;border-bottom:1px solid #e5e7eb}
.meta{color:#6b7280;font-size:13px} .grid{display:grid;grid-template-columns:1fr 1fr;gap:12px 28px}
.kpis{display:flex;gap:12px;flex-wrap:wrap;margin:14px 0}
.kpi{border:1px solid #e5e7eb;border-radius:8px;padding:8px 14px;min-width:130px}
.kpi b{display:block;font-size:20px} .kpi span{font-size:12px;color:#6b7280}
table{border-collapse:collapse;font-size:13px;width:100%}
td,th{padding:4px 8px;border-bottom:1px solid #f3f4f6;text-align:left;vertical-align:top}
th{background:#f9fafb} .ok{color:#15803d;font-weight:600} .violated{color:#b91c1c;font-weight:700}
.no_data{color:#a16207} .off{color:#9ca3af} .ex{color:#4b5563;font-size:12px}
"""

_OK_STATUSES = {"downloaded": "#16a34a", "deduped": "#0891b2", "already_done": "#2563eb"}


def _pct(v: Any) -> str:
    return "no data" if v is None else f"{100 * float(v):.1f}%"


def _num(v: Any, unit: str = "") -> str:
    return "no data" if v is None else f"{float(v):.3g}{unit}"


def _example(e: dict[str, Any]) -> str:
    return f'<span class="ex">{escape(str(e["input"]))}: {escape(str(e["reason"]))}</span>'


def _kpi(value: str, label: str) -> str:
    return f'<div class="kpi"><b>{escape(value)}</b><span>{escape(label)}</span></div>'


def _table(headers: list[str], rows: list[list[str]]) -> str:
    """`rows` cells are already-escaped HTML."""
    head = "".join(f"<th>{escape(h)}</th>" for h in headers)
    body = "".join("<tr>" + "".join(f"<td>{c}</td>" for c in row) + "</tr>" for row in rows)
    return f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


def _charts(r: dict[str, Any]) -> str:
    outcomes = [(s, float(n), str(n)) for s, n in r["statuses"].items() if s != "failed"]
    outcomes += [(c, float(f["count"]), str(f["count"])) for c, f in r["failure_classes"].items()]
    colors = [_OK_STATUSES.get(label, "#dc2626") for label, _, _ in outcomes]
    sources = [(n, float(s["wins"]), f"{s['wins']} ({_pct(s['yield'])})")
               for n, s in r["sources"].items() if s["wins"] or s["works_with_candidates"]]
    lat = r["latency_histogram"]
    tp = r["throughput"]
    xs = [float(b["t_s"]) for b in tp["bins"]]
    line = line_chart(
        xs, [("finished", [float(b["finished"]) for b in tp["bins"]]),
             ("succeeded", [float(b["succeeded"]) for b in tp["bins"]])],
        title="Jobs per bin over time", x_unit="s",
    )
    bars = hbar_chart(outcomes, title="Outcomes by class", colors=colors)
    src_bars = hbar_chart(sources, title="Wins by source", colors=["#2563eb"])
    per_bin = f" (per {tp['bin_s']} s)" if tp.get("bin_s") else ""
    return (
        '<div class="grid">'
        f"<div><h2>Outcomes by class</h2>{bars}</div>"
        f"<div><h2>Wins by source</h2>{src_bars}</div>"
        f"<div><h2>HTTP latency distribution</h2>"
        f"{histogram(lat['edges'], lat['counts'], title='HTTP latency', unit=' ms')}</div>"
        f"<div><h2>Throughput over time{escape(per_bin)}</h2>{line}</div>"
        "</div>"
    )


def _slo_rows(r: dict[str, Any]) -> list[list[str]]:
    rows = []
    for s in r["slo"]:
        detail = escape("; ".join(s["detail"]))
        rows.append([escape(s["name"]), escape(_num(s["value"], s["unit"])),
                     escape(f"{s['op']} {_num(s['target'], s['unit'])}"),
                     f'<span class="{escape(s["status"])}">{escape(s["status"])}</span> {detail}'])
    return rows


def html_page(r: dict[str, Any]) -> str:
    from .report import generated_label

    y, tt, c = r["yield"], r["ttfp"], r["completion"]
    cor = r["corruption"]
    kpis = "".join([
        _kpi(str(r["works"]), "works"),
        _kpi(_pct(y["ratio"]), f"yield ({y['successes']}/{y['eligible']} with an OA location)"),
        _kpi(_num(tt["p50_s"], " s"), f"time to first PDF p50 (n={tt['count']})"),
        _kpi(_num(tt["p95_s"], " s"), "time to first PDF p95"),
        _kpi(_pct(c["rate"]), f"jobs completed ({c['finished']}/{c['jobs']})"),
        _kpi(_pct(r["replay"]["rate"]), "replay rate"),
        _kpi("no data" if cor["count"] is None else str(cor["count"]), "corrupt/missing artifacts"),
    ])
    sources = [[escape(n), str(s["wins"]), str(s["works_with_candidates"]),
                escape(_pct(s["yield"])), f"{s['attempts_ok']}/{s['attempts']}", str(s["queried"])]
               for n, s in r["sources"].items()]
    tiers = [[escape(t), str(v["wins"]), escape(_pct(v["yield"]))] for t, v in r["tiers"].items()]
    failures = [[escape(n), str(f["count"]), "yes" if f["retryable"] else "no",
                 "<br>".join(_example(e) for e in f["examples"])]
                for n, f in r["failure_classes"].items()]
    hosts = [[escape(h["host"]), str(h["requests"]), escape(_num(h["p50_ms"])),
              escape(_num(h["p95_ms"])), str(h["status_429"]), escape(_pct(h["ratio_429"])),
              f"{h['rate_wait_s']:.2f}"] for h in r["slowest_hosts"]]
    slo_table = _table(["objective", "value", "target", "status"], _slo_rows(r))
    source_table = _table(["source", "wins", "works with candidates", "yield", "attempts ok/all",
                           "queries"], sources)
    host_table = _table(["host", "requests", "p50 ms", "p95 ms", "429s", "429 ratio",
                         "rate-limit wait s"], hosts)
    rec = r["recovered"]
    repairs = ", ".join(f"{k}: {v}" for k, v in r["crash_recovery"]["repairs"].items()) or "none"
    return (
        "<!DOCTYPE html><html lang=\"en\"><head><meta charset=\"utf-8\">"
        f"<title>oafetch report</title><style>{_CSS}</style></head><body>"
        f"<h1>oafetch report</h1><div class=\"meta\">{escape(str(r.get('out') or ''))} · "
        f"{escape(generated_label(r))} · {r['window']['events']} events from "
        f"{r['window']['runs']} run(s)</div>"
        f"<div class=\"kpis\">{kpis}</div>"
        f"<h2>Service-level objectives</h2>{slo_table}"
        f"{_charts(r)}"
        f"<h2>Sources</h2>{source_table}"
        f"<h2>Tiers (winning tier)</h2>{_table(['tier', 'wins', 'yield'], tiers)}"
        f"<h2>Failure classes</h2>{_table(['class', 'works', 'retryable', 'examples'], failures)}"
        f"<h2>Slowest hosts (p95) and 429 ratio</h2>"
        f"{host_table}"
        f"<h2>Crash recovery</h2><p>{rec['jobs']} job(s) recovered from a lost lease, "
        f"{rec['terminal']} reached a terminal state ({escape(_pct(rec['rate']))}); "
        f"reconciler repairs: {escape(repairs)}. Lease claim p99: "
        f"{escape(_num(r['lease']['p99_ms'], ' ms'))}.</p>"
        "</body></html>"
    )
