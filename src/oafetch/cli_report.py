"""`oafetch report` and `oafetch inspect` (DESIGN §9, §10), registered by cli.py.

Plain functions with Typer annotations: cli.py does `app.command("report")(report_cmd)` and
`app.command("inspect")(inspect_cmd)`. `build_config` and `_guard` are imported inside the
functions because cli.py imports this module (a top-level import would be a cycle).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.table import Table

__all__ = ["inspect_cmd", "report_cmd"]

_out = Console()
_err = Console(stderr=True)

OutOpt = Annotated[Path, typer.Option("--out", "-o", envvar="OAFETCH_OUT", help="Output folder.")]
ConfigOpt = Annotated[
    Path | None, typer.Option("--config", envvar="OAFETCH_CONFIG", help="TOML config file.")
]
LedgerOpt = Annotated[
    str | None,
    typer.Option("--ledger", envvar="OAFETCH_LEDGER_URL",
                 help="postgresql://… (default: SQLite in --out)."),
]


def report_cmd(
    out: OutOpt = Path("oafetch-out"),
    html: Annotated[
        Path | None,
        typer.Option("--html", envvar="OAFETCH_REPORT_HTML",
                     help="Also write a self-contained HTML report here."),
    ] = None,
    as_json: Annotated[
        bool, typer.Option("--json", envvar="OAFETCH_REPORT_JSON", help="Print the report as JSON.")
    ] = False,
    check: Annotated[
        bool,
        typer.Option("--check", envvar="OAFETCH_REPORT_CHECK",
                     help="Exit 1 if an SLO of [slo] is violated (no data is not a violation)."),
    ] = False,
    deep: Annotated[
        bool,
        typer.Option("--deep", envvar="OAFETCH_REPORT_DEEP",
                     help="Re-hash every stored artifact for the corruption count (slow)."),
    ] = False,
    config: ConfigOpt = None,
) -> None:
    """Yield, failure classes, latency, SLOs: the report of one output folder."""
    from .cli import _guard, build_config
    from .errors import ConfigError
    from .telemetry.report import render_html, render_terminal, report_from_out, to_json

    cfg = _guard(lambda: build_config(config_file=config, out=out))

    def run() -> dict[str, Any]:
        if not cfg.out.is_dir():
            raise ConfigError(f"--out {cfg.out} is not a folder (nothing to report)")
        return report_from_out(cfg, deep=deep)

    report = _guard(run)
    if html is not None:
        try:
            html.write_text(render_html(report), encoding="utf-8")
        except OSError as exc:
            _err.print(f"oafetch: error: cannot write {html}: {exc.strerror}", highlight=False,
                       soft_wrap=True)
            raise typer.Exit(1) from None
    if as_json:
        print(to_json(report))
    else:
        render_terminal(report, _out)
        if html is not None:
            _out.print(f"HTML report written to {html}", highlight=False)
    if check:
        bad = [s for s in report["slo"] if s["status"] == "violated"]
        for s in bad:
            detail = f" [{'; '.join(s['detail'])}]" if s["detail"] else ""
            _err.print(f"oafetch: SLO violated: {s['name']} = {s['value']:.4g}{s['unit']}, "
                       f"target {s['op']} {s['target']:g}{s['unit']}{detail}", highlight=False,
                       soft_wrap=True)
        raise typer.Exit(1 if bad else 0)


def inspect_cmd(
    work: Annotated[str, typer.Argument(help="DOI, arXiv id, PMID, PMCID or OpenAlex id.")],
    out: OutOpt = Path("oafetch-out"),
    as_json: Annotated[
        bool, typer.Option("--json", envvar="OAFETCH_INSPECT_JSON", help="Print as JSON.")
    ] = False,
    config: ConfigOpt = None,
    ledger: LedgerOpt = None,
) -> None:
    """Everything known about one work: job, state history, ops, attempts, artifact."""
    from .cli import _guard, build_config
    from .inspect_work import inspect_work

    cfg = _guard(lambda: build_config(config_file=config, out=out, ledger=ledger))
    info = _guard(lambda: inspect_work(cfg, work))
    if as_json:
        print(json.dumps(info, indent=2, default=str))
        return
    _render_inspect(info)


def _render_inspect(info: dict[str, Any]) -> None:
    job = info["job"]
    head = Table(title=f"{info['key']} · job {job['job_id']}", show_header=False)
    head.add_column(style="bold")
    head.add_column()
    for k in ("state", "attempts", "outcome_class", "outcome_reason", "source", "url", "format",
              "size", "sha256", "path", "lease_owner", "lease_epoch"):
        if job.get(k) not in (None, ""):
            head.add_row(k, str(job[k]))
    _out.print(head)
    hist = Table(title="State history")
    for col in ("ts", "event", "detail"):
        hist.add_column(col)
    for h in info["history"]:
        detail = ", ".join(f"{k}={v}" for k, v in h.items() if k not in ("ts", "type", "run_id"))
        hist.add_row(f"{h['ts']:.3f}", h["type"], detail)
    _out.print(hist)
    ops = Table(title="Ops")
    for col in ("op", "status", "code"):
        ops.add_column(col)
    for o in info["ops"]:
        ops.add_row(o["op_type"], o["status"], str(o["result_code"] or ""))
    _out.print(ops)
    att = Table(title="Attempts")
    for col in ("url", "source", "status", "bytes", "ms", "class"):
        att.add_column(col)
    for a in info["attempts"]:
        att.add_row(str(a["url"]), str(a["source"]), str(a["status"]), str(a["bytes"]),
                    str(a["ms"]), "ok" if a["ok"] else str(a["class"]))
    _out.print(att)
    art = info["artifact"]
    if art:
        _out.print(f"artifact: {art['path']} ({art['format']}, {art['size']} bytes, sha256 "
                   f"{art['sha256']}){'' if art['exists'] else ' [MISSING]'}", highlight=False)
        if art["sidecar"]:
            _out.print_json(json.dumps(art["sidecar"], default=str))
