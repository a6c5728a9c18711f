"""The command line (DESIGN §10). Thin: parse, build a Config, call api/runner, print.

Exit codes: 0 all done · 1 error · 2 bad usage or config · 3 finished with work failures ·
4 suspended on an API budget · 130 interrupted (state saved).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import signal
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Annotated, Any, NoReturn, TypeVar

import typer
from rich.console import Console
from rich.table import Table

from . import __version__
from .config import Config, load_config
from .errors import ConfigError, LedgerError, OafetchError, StoreError
from .inputs import InputItem, iter_inputs
from .runner import RunSummary

EXIT_OK, EXIT_ERROR, EXIT_USAGE, EXIT_FAILURES, EXIT_SUSPENDED, EXIT_INTERRUPTED = (
    0,
    1,
    2,
    3,
    4,
    130,
)

app = typer.Typer(
    name="oafetch",
    help="Fetch the lawful open-access full text of scholarly works, politely and provably.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
ledger_app = typer.Typer(help="Ledger maintenance.", no_args_is_help=True)
app.add_typer(ledger_app, name="ledger")

out_console = Console()
err_console = Console(stderr=True, soft_wrap=True)
T = TypeVar("T")

# -- shared options (every flag also readable from an OAFETCH_* variable) -----------------

OutOpt = Annotated[Path, typer.Option("--out", "-o", envvar="OAFETCH_OUT", help="Output folder.")]
ConfigOpt = Annotated[
    Path | None, typer.Option("--config", envvar="OAFETCH_CONFIG", help="TOML config file.")
]
MailtoOpt = Annotated[
    str | None,
    typer.Option("--mailto", envvar="OAFETCH_MAILTO", help="Contact email for polite pools."),
]
WorkersOpt = Annotated[
    int | None,
    typer.Option("--workers", "-w", envvar="OAFETCH_WORKERS", help="Jobs in flight (default 8)."),
]
MetricsPortOpt = Annotated[
    int | None,
    typer.Option(
        "--metrics-port",
        envvar="OAFETCH_METRICS_PORT",
        help="Serve Prometheus metrics on 127.0.0.1:PORT while running.",
    ),
]
LedgerOpt = Annotated[
    str | None,
    typer.Option(
        "--ledger", envvar="OAFETCH_LEDGER_URL", help="postgresql://… (default: SQLite in --out)."
    ),
]
JsonOpt = Annotated[bool, typer.Option("--json", help="Machine-readable output.")]
IdsArg = Annotated[
    list[str] | None, typer.Argument(help="DOIs, arXiv ids, PMIDs, PMCIDs, OpenAlex ids.")
]
InputOpt = Annotated[
    Path | None,
    typer.Option(
        "--input", "-i", envvar="OAFETCH_INPUT", help="File of ids: .txt, .csv or .jsonl."
    ),
]
AllowPrivateOpt = Annotated[
    bool,
    typer.Option(
        "--allow-private-networks",
        envvar="OAFETCH_ALLOW_PRIVATE_NETWORKS",
        help="Permit discovered URLs on private/loopback addresses.",
    ),
]
SourcesOpt = Annotated[
    str | None,
    typer.Option(
        "--sources", envvar="OAFETCH_SOURCES", help="Only these sources, comma-separated."
    ),
]
DisableSourceOpt = Annotated[
    list[str] | None, typer.Option("--disable-source", envvar="OAFETCH_DISABLE_SOURCE")
]
PreferOpt = Annotated[
    str | None,
    typer.Option("--prefer", envvar="OAFETCH_PREFER", help="Format order, e.g. pdf,xml,html."),
]
RateOpt = Annotated[
    list[str] | None,
    typer.Option(
        "--rate",
        envvar="OAFETCH_RATE",
        help="HOST[.role]=N/s[,M/h] (repeatable; '*' = every host).",
    ),
]
RateBackendOpt = Annotated[
    str | None,
    typer.Option(
        "--rate-backend", envvar="OAFETCH_RATE_BACKEND", help="memory | sqlite | redis://…"
    ),
]
QuietOpt = Annotated[bool, typer.Option("--quiet", "-q", envvar="OAFETCH_QUIET")]


def _fail(message: str, code: int) -> NoReturn:
    err_console.print(f"oafetch: error: {message}", highlight=False, markup=False)
    raise typer.Exit(code)


def _guard(fn: Callable[[], T]) -> T:
    """Map our exception tree onto exit codes with a one-line message."""
    try:
        return fn()
    except ConfigError as exc:
        _fail(str(exc), EXIT_USAGE)
    except (LedgerError, StoreError) as exc:
        _fail(str(exc), EXIT_ERROR)
    except OafetchError as exc:
        _fail(str(exc), EXIT_ERROR)
    except KeyboardInterrupt:
        err_console.print("oafetch: interrupted; state saved, run the same command to resume")
        raise typer.Exit(EXIT_INTERRUPTED) from None


def _csv(value: str | None) -> list[str] | None:
    return [v.strip() for v in value.split(",") if v.strip()] if value else None


def _tier_overrides(base: Config, specs: list[str]) -> list[dict[str, Any]]:
    """`--fallback-tier NAME:parallel=N` (repeatable): set parallelism, order = given order."""
    known = {t.name: t for t in base.fallback.tiers}
    tiers: list[dict[str, Any]] = []
    for spec in specs:
        name, _, rest = spec.partition(":")
        if name not in known:
            raise ConfigError(f"--fallback-tier: unknown tier '{name}' (known: {', '.join(known)})")
        tier = known[name].model_dump()
        for part in filter(None, rest.split(",")):
            key, _, value = part.partition("=")
            if key != "parallel" or not value.isdigit() or int(value) < 1:
                raise ConfigError(f"--fallback-tier {spec}: expected NAME:parallel=N with N >= 1")
            tier["parallel"] = int(value)
        tiers.append(tier)
    named = {t["name"] for t in tiers}
    tiers += [t.model_dump() for t in base.fallback.tiers if t.name not in named]
    return tiers


def build_config(
    *,
    config_file: Path | None,
    out: Path | None = None,
    mailto: str | None = None,
    workers: int | None = None,
    ledger: str | None = None,
    idempotency: bool | None = None,
    allow_private: bool | None = None,
    sources: str | None = None,
    disable_source: list[str] | None = None,
    enable_source: list[str] | None = None,
    prefer: str | None = None,
    total_timeout_ms: int | None = None,
    max_attempts: int | None = None,
    max_concurrent: int | None = None,
    tier_specs: list[str] | None = None,
    disable_wayback: bool | None = None,
    rates: list[str] | None = None,
    rate_backend: str | None = None,
    ignore_robots: bool | None = None,
    metrics_port: int | None = None,
) -> Config:
    overrides: dict[str, Any] = {
        "out": out,
        "mailto": mailto,
        "workers": workers,
        "ledger_url": ledger,
        "enable_idempotency": idempotency,
        "allow_private_networks": allow_private or None,
        "only_sources": _csv(sources),
        "prefer": _csv(prefer),
        "metrics_port": metrics_port,
    }
    if disable_source:
        overrides["disabled_sources"] = [s for v in disable_source for s in _csv(v) or []]
    if enable_source:
        overrides["enabled_sources"] = [s for v in enable_source for s in _csv(v) or []]
    fallback = {
        "total_timeout_ms": total_timeout_ms,
        "max_attempts": max_attempts,
        "max_concurrent": max_concurrent,
        "disable_wayback": disable_wayback or None,
    }
    overrides["fallback"] = {k: v for k, v in fallback.items() if v is not None}
    politeness: dict[str, Any] = {"backend": rate_backend, "ignore_robots": ignore_robots or None}
    if rates:
        parsed: dict[str, str] = {}
        for spec in rates:
            key, sep, value = spec.partition("=")
            if not sep or not key or not value:
                raise ConfigError(f"--rate {spec!r}: expected HOST[.role]=N/s[,M/h]")
            parsed[key.strip()] = value.strip()
        politeness["rates"] = parsed
    overrides["politeness"] = {k: v for k, v in politeness.items() if v is not None}
    cfg = load_config(config_file, overrides=overrides)
    if tier_specs:
        cfg = load_config(
            config_file,
            overrides={
                **overrides,
                "fallback": {**overrides["fallback"], "tiers": _tier_overrides(cfg, tier_specs)},
            },
        )
    _check_sources(cfg)
    _check_rates(cfg)
    return cfg


def _check_sources(cfg: Config) -> None:
    from .sources.registry import SOURCE_MODULES

    known = set(SOURCE_MODULES) | set(cfg.sources)
    for name in [*(cfg.only_sources or []), *cfg.disabled_sources, *cfg.enabled_sources]:
        if name not in known:
            raise ConfigError(f"unknown source '{name}' (known: {', '.join(sorted(known))})")


def _check_rates(cfg: Config) -> None:
    try:
        from .net.politeness import parse_rates
    except ImportError:
        return
    for key, value in cfg.politeness.rates.items():
        try:
            parse_rates(value)
        except ConfigError as exc:
            raise ConfigError(f"rate for '{key}': {exc}") from None


# -- printing ---------------------------------------------------------------------------


def print_summary(summary: RunSummary, out: Path, *, as_json: bool) -> None:
    data = {
        "works": summary.total,
        "statuses": dict(summary.statuses),
        "failure_classes": dict(summary.classes),
        "formats": dict(summary.formats),
        "sources": dict(summary.sources),
        "bytes": summary.bytes,
        "suspended": summary.suspended,
        "elapsed_s": round(summary.elapsed, 2),
        "results": str(out / "results.jsonl"),
    }
    if as_json:
        out_console.print_json(json.dumps(data))
        return
    table = Table(
        title=f"oafetch · {summary.total} works in {summary.elapsed:.1f}s", show_header=False
    )
    table.add_column(style="bold")
    table.add_column(justify="right")
    for status in ("downloaded", "deduped", "already_done", "failed"):
        if summary.statuses.get(status):
            table.add_row(status, str(summary.statuses[status]))
    for cls, n in summary.classes.most_common():
        table.add_row(f"  {cls}", str(n))
    if summary.formats:
        table.add_row("formats", ", ".join(f"{k} {v}" for k, v in summary.formats.most_common()))
    if summary.sources:
        table.add_row("sources", ", ".join(f"{k} {v}" for k, v in summary.sources.most_common()))
    table.add_row("bytes stored", f"{summary.bytes:,}")
    if summary.suspended:
        table.add_row("waiting (retry later)", str(summary.suspended))
    table.add_row("results", str(out / "results.jsonl"))
    out_console.print(table)


def exit_code(summary: RunSummary) -> int:
    if summary.interrupted:
        return EXIT_INTERRUPTED
    if summary.suspended:
        return EXIT_SUSPENDED
    return EXIT_FAILURES if summary.failed else EXIT_OK


# -- running ----------------------------------------------------------------------------


def _run_fetch(
    cfg: Config,
    items: Iterator[InputItem] | None,
    *,
    as_json: bool,
    quiet: bool,
    follow: bool = False,
    processes: int = 1,
    truncate_results: bool = True,
    query: tuple[str, str | None, int | None] | None = None,
) -> int:
    """Plan `items` (if any) and run jobs: in this process, or in `processes` children."""
    from .api import open_session
    from .telemetry.progress import ProgressDisplay
    from .workers import run_worker_processes, summary_from_results

    if processes > 1 and not cfg.enable_idempotency:
        raise ConfigError(
            "--processes needs the ledger; it cannot be combined with --disable-idempotency"
        )

    async def main() -> RunSummary:
        progress = ProgressDisplay(force_plain=quiet)
        async with open_session(cfg, on_outcome=progress, truncate_results=truncate_results) as s:
            progress.in_flight = lambda: s.runner.in_flight
            if not cfg.enable_idempotency:
                err_console.print(
                    "oafetch: idempotency disabled: nothing is recorded, a re-run starts from zero",
                    highlight=False,
                )
            loop = asyncio.get_running_loop()
            main_task = asyncio.current_task()
            assert main_task is not None

            def interrupt() -> None:
                s.runner.stop()
                s.runner.summary.interrupted = True
                main_task.cancel()

            for sig in (signal.SIGINT, signal.SIGTERM):
                loop.add_signal_handler(sig, interrupt)
            try:
                with progress:
                    if s.ledger is None:
                        assert items is not None
                        return await s.runner.run_memory(items)
                    s.runner.recover()
                    if items is not None:
                        s.runner.plan(items)
                    if query is not None:
                        from .inputs import iter_openalex_query

                        flt, search, max_works = query
                        async for batch in iter_openalex_query(
                            s.cascade.context("openalex"),
                            filter=flt,
                            search=search,
                            max_works=max_works,
                        ):
                            s.runner.plan(batch)
                    if processes > 1:
                        return s.runner.summary
                    counts = s.ledger.counts()
                    progress.set_total(
                        progress.done
                        + progress.failed
                        + sum(n for st, n in counts.items() if not st.terminal)
                    )
                    return await s.runner.run_ledger(follow=follow)
            except asyncio.CancelledError:
                if s.runner.summary.interrupted:
                    return s.runner.summary
                raise
            finally:
                for sig in (signal.SIGINT, signal.SIGTERM):
                    loop.remove_signal_handler(sig)

    summary = asyncio.run(main())
    if summary.interrupted:
        err_console.print("oafetch: interrupted; state saved, run the same command to resume")
        return EXIT_INTERRUPTED
    if processes > 1:
        worst = run_worker_processes(cfg, processes)
        if worst not in (EXIT_OK, EXIT_FAILURES, EXIT_SUSPENDED):
            return worst
        summary = summary_from_results(cfg.out / "results.jsonl", summary)
        summary.finished = None
    if not quiet or as_json:
        print_summary(summary, cfg.out, as_json=as_json)
    return exit_code(summary)


@app.command()
def fetch(
    identifiers: IdsArg = None,
    input_file: InputOpt = None,
    out: OutOpt = Path("oafetch-out"),
    config: ConfigOpt = None,
    mailto: MailtoOpt = None,
    workers: WorkersOpt = None,
    ledger: LedgerOpt = None,
    idempotency: Annotated[
        bool | None,
        typer.Option(
            "--enable-idempotency/--disable-idempotency",
            envvar="OAFETCH_ENABLE_IDEMPOTENCY",
            help="Record jobs in the ledger (default on); off = no database writes at all.",
        ),
    ] = None,
    allow_private_networks: AllowPrivateOpt = False,
    sources: SourcesOpt = None,
    disable_source: DisableSourceOpt = None,
    enable_source: Annotated[
        list[str] | None,
        typer.Option(
            "--enable-source",
            envvar="OAFETCH_ENABLE_SOURCE",
            help="Opt in to an off-by-default source.",
        ),
    ] = None,
    prefer: PreferOpt = None,
    fallback_total_timeout_ms: Annotated[
        int | None, typer.Option(envvar="OAFETCH_FALLBACK_TOTAL_TIMEOUT_MS")
    ] = None,
    fallback_max_attempts: Annotated[
        int | None, typer.Option(envvar="OAFETCH_FALLBACK_MAX_ATTEMPTS")
    ] = None,
    fallback_max_concurrent: Annotated[
        int | None, typer.Option(envvar="OAFETCH_FALLBACK_MAX_CONCURRENT")
    ] = None,
    fallback_tier: Annotated[
        list[str] | None,
        typer.Option(
            envvar="OAFETCH_FALLBACK_TIER", help="NAME:parallel=N (repeatable; order = tier order)."
        ),
    ] = None,
    disable_wayback_fallback: Annotated[
        bool, typer.Option(envvar="OAFETCH_DISABLE_WAYBACK_FALLBACK")
    ] = False,
    rate: RateOpt = None,
    rate_backend: RateBackendOpt = None,
    ignore_robots: Annotated[
        bool, typer.Option("--ignore-robots", envvar="OAFETCH_IGNORE_ROBOTS")
    ] = False,
    openalex: Annotated[
        str | None,
        typer.Option(
            "--openalex",
            envvar="OAFETCH_OPENALEX_FILTER",
            help="Select works by an OpenAlex filter, e.g. 'institutions.id:I27837315'.",
        ),
    ] = None,
    search: Annotated[
        str | None,
        typer.Option(
            "--search",
            envvar="OAFETCH_OPENALEX_SEARCH",
            help="OpenAlex full-text search with --openalex.",
        ),
    ] = None,
    max_works: Annotated[
        int | None,
        typer.Option(
            "--max", envvar="OAFETCH_OPENALEX_MAX", min=1, help="At most N works from --openalex."
        ),
    ] = None,
    processes: Annotated[
        int,
        typer.Option(
            "--processes",
            "-p",
            envvar="OAFETCH_PROCESSES",
            min=1,
            help="Worker processes sharing the ledger.",
        ),
    ] = 1,
    metrics_port: MetricsPortOpt = None,
    as_json: JsonOpt = False,
    quiet: QuietOpt = False,
) -> None:
    """Fetch full text for the given works into --out (ledgered, resumable)."""
    if not identifiers and input_file is None and openalex is None:
        _fail(
            "give identifiers, --input FILE or --openalex FILTER (see oafetch fetch --help)",
            EXIT_USAGE,
        )
    if (search or max_works) and openalex is None:
        _fail("--search and --max go with --openalex FILTER", EXIT_USAGE)
    cfg = _guard(
        lambda: build_config(
            config_file=config,
            out=out,
            mailto=mailto,
            workers=workers,
            ledger=ledger,
            idempotency=idempotency,
            allow_private=allow_private_networks,
            sources=sources,
            disable_source=disable_source,
            enable_source=enable_source,
            prefer=prefer,
            total_timeout_ms=fallback_total_timeout_ms,
            max_attempts=fallback_max_attempts,
            max_concurrent=fallback_max_concurrent,
            tier_specs=fallback_tier,
            disable_wayback=disable_wayback_fallback,
            rates=rate,
            rate_backend=rate_backend,
            ignore_robots=ignore_robots,
            metrics_port=metrics_port,
        )
    )
    items = iter_inputs(identifiers or [], input_file)
    query = (openalex, search, max_works) if openalex is not None else None
    if query is not None and cfg.enable_idempotency is False:
        _fail("--openalex needs the ledger; drop --disable-idempotency", EXIT_USAGE)
    code = _guard(
        lambda: _run_fetch(
            cfg, items, as_json=as_json, quiet=quiet, processes=processes, query=query
        )
    )
    raise typer.Exit(code)


@app.command()
def resolve(
    identifiers: IdsArg = None,
    input_file: InputOpt = None,
    config: ConfigOpt = None,
    mailto: MailtoOpt = None,
    allow_private_networks: AllowPrivateOpt = False,
    sources: SourcesOpt = None,
    disable_source: DisableSourceOpt = None,
    prefer: PreferOpt = None,
    rate: RateOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Print the ranked candidates per work, without downloading anything."""
    from .resolve import resolve_works

    if not identifiers and input_file is None:
        _fail("give identifiers or --input FILE", EXIT_USAGE)
    cfg = _guard(
        lambda: build_config(
            config_file=config,
            mailto=mailto,
            allow_private=allow_private_networks,
            sources=sources,
            disable_source=disable_source,
            prefer=prefer,
            rates=rate,
        )
    )
    rows = _guard(
        lambda: asyncio.run(resolve_works(cfg, iter_inputs(identifiers or [], input_file)))
    )
    if as_json:
        for row in rows:
            out_console.print_json(json.dumps(row))
    else:
        for row in rows:
            table = Table(title=f"{row['input']} · {row.get('title') or ''}", title_justify="left")
            for col in ("#", "kind", "version", "source", "technique", "url"):
                table.add_column(col, overflow="fold")
            if row.get("error"):
                table.add_row("-", "-", "-", "-", "error", row["error"])
            for i, c in enumerate(row["candidates"], 1):
                srcs = ",".join([c["source"], *c["also_from"]])
                table.add_row(str(i), c["kind"], c["version"], srcs, c["technique"], c["url"])
            out_console.print(table)
    raise typer.Exit(EXIT_OK if all(r["candidates"] for r in rows) else EXIT_FAILURES)


@app.command()
def plan(
    identifiers: IdsArg = None,
    input_file: InputOpt = None,
    out: OutOpt = Path("oafetch-out"),
    config: ConfigOpt = None,
    ledger: LedgerOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Insert jobs into the ledger without running them (planning twice adds nothing)."""
    from .api import open_session

    if not identifiers and input_file is None:
        _fail("give identifiers or --input FILE", EXIT_USAGE)
    cfg = _guard(lambda: build_config(config_file=config, out=out, ledger=ledger))

    async def main() -> tuple[int, int]:
        async with open_session(cfg, results=False) as s:
            assert s.runner is not None
            planned = s.runner.plan(iter_inputs(identifiers or [], input_file), report_done=False)
            return planned, s.runner.summary.classes.get("invalid_input", 0)

    planned, invalid = _guard(lambda: asyncio.run(main()))
    if as_json:
        out_console.print_json(json.dumps({"planned": planned, "invalid": invalid}))
    else:
        out_console.print(f"planned {planned} new jobs ({invalid} invalid lines)")
    raise typer.Exit(EXIT_FAILURES if invalid else EXIT_OK)


@app.command()
def worker(
    out: OutOpt = Path("oafetch-out"),
    config: ConfigOpt = None,
    mailto: MailtoOpt = None,
    workers: WorkersOpt = None,
    ledger: LedgerOpt = None,
    allow_private_networks: AllowPrivateOpt = False,
    rate: RateOpt = None,
    rate_backend: RateBackendOpt = None,
    follow: Annotated[
        bool,
        typer.Option(
            "--follow", envvar="OAFETCH_FOLLOW", help="Keep polling for new jobs forever."
        ),
    ] = False,
    metrics_port: MetricsPortOpt = None,
    config_stdin: Annotated[bool, typer.Option("--config-stdin", hidden=True)] = False,
    as_json: JsonOpt = False,
    quiet: QuietOpt = False,
) -> None:
    """Claim and run planned jobs until none is left (or forever with --follow)."""
    from .config import config_from_json

    if config_stdin:
        cfg = _guard(lambda: config_from_json(sys.stdin.read()))
    else:
        cfg = _guard(
            lambda: build_config(
                config_file=config,
                out=out,
                mailto=mailto,
                workers=workers,
                ledger=ledger,
                allow_private=allow_private_networks,
                rates=rate,
                rate_backend=rate_backend,
                metrics_port=metrics_port,
            )
        )
    if not cfg.enable_idempotency:
        _fail("oafetch worker needs the ledger (idempotency is disabled)", EXIT_USAGE)
    code = _guard(
        lambda: _run_fetch(
            cfg, None, as_json=as_json, quiet=quiet, follow=follow, truncate_results=False
        )
    )
    raise typer.Exit(code)


@app.command()
def retry(
    failure_class: Annotated[
        list[str] | None, typer.Option("--class", help="Failure class (repeatable).")
    ] = None,
    source: Annotated[
        list[str] | None, typer.Option("--source", help="Winning/last source (repeatable).")
    ] = None,
    out: OutOpt = Path("oafetch-out"),
    config: ConfigOpt = None,
    ledger: LedgerOpt = None,
) -> None:
    """Put failed jobs back in the queue (default: the retryable classes)."""
    from .api import ledger_location
    from .ledger import open_ledger
    from .outcomes import FailureClass

    cfg = _guard(lambda: build_config(config_file=config, out=out, ledger=ledger))
    known = {c.value for c in FailureClass}
    for cls in failure_class or []:
        if cls not in known:
            _fail(f"unknown failure class '{cls}' (known: {', '.join(sorted(known))})", EXIT_USAGE)

    def run() -> int:
        led = open_ledger(ledger_location(cfg))
        try:
            led.migrate()
            n: int = led.retry_failed(failure_class or None, source or None)
            return n
        finally:
            led.close()

    n = _guard(run)
    out_console.print(
        f"{n} failed jobs planned again; run 'oafetch worker --out {cfg.out}' "
        "(or the same fetch) to process them"
    )


@app.command()
def verify(
    deep: Annotated[
        bool, typer.Option("--deep", help="Re-hash every blob (slow, thorough).")
    ] = False,
    out: OutOpt = Path("oafetch-out"),
    config: ConfigOpt = None,
    ledger: LedgerOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Check the store against the ledger: missing, corrupt and orphan files."""
    from .maintenance import verify_store

    cfg = _guard(lambda: build_config(config_file=config, out=out, ledger=ledger))
    report = _guard(lambda: verify_store(cfg, deep=deep))
    if as_json:
        out_console.print_json(json.dumps(report))
    else:
        out_console.print(
            f"checked {report['checked']} blobs: {len(report['missing'])} missing, "
            f"{len(report['corrupt'])} corrupt, {len(report['orphans'])} orphans, "
            f"{len(report['stale_parts'])} leftover .part files"
        )
        for kind in ("missing", "corrupt", "orphans"):
            for item in report[kind][:20]:
                out_console.print(f"  {kind}: {item}", highlight=False, soft_wrap=True)
    raise typer.Exit(EXIT_OK if report["ok"] else EXIT_ERROR)


@app.command()
def revalidate(
    out: OutOpt = Path("oafetch-out"),
    config: ConfigOpt = None,
    ledger: LedgerOpt = None,
    mailto: MailtoOpt = None,
    allow_private_networks: AllowPrivateOpt = False,
    rate: RateOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Ask each stored artifact's server if it changed (conditional GET; 304 = unchanged)."""
    from collections import Counter

    from .revalidate import revalidate as run_revalidate

    cfg = _guard(
        lambda: build_config(
            config_file=config,
            out=out,
            ledger=ledger,
            mailto=mailto,
            allow_private=allow_private_networks,
            rates=rate,
        )
    )
    rows = _guard(lambda: asyncio.run(run_revalidate(cfg)))
    counts = Counter(r["status"] for r in rows)
    if as_json:
        out_console.print_json(json.dumps({"counts": dict(counts), "works": rows}))
    else:
        out_console.print(
            ", ".join(f"{k} {v}" for k, v in sorted(counts.items())) or "nothing stored"
        )
        for r in rows:
            if r["status"] != "unchanged":
                out_console.print(
                    f"  {r['status']}: {r['input']} {r.get('reason') or ''}",
                    highlight=False,
                    soft_wrap=True,
                )
    raise typer.Exit(EXIT_OK if set(counts) <= {"unchanged"} else EXIT_FAILURES)


@app.command()
def gc(
    out: OutOpt = Path("oafetch-out"),
    config: ConfigOpt = None,
    ledger: LedgerOpt = None,
    dry_run: Annotated[bool, typer.Option("--dry-run")] = False,
) -> None:
    """Remove blobs no job refers to and leftover .part files of finished jobs."""
    from .maintenance import collect_garbage

    cfg = _guard(lambda: build_config(config_file=config, out=out, ledger=ledger))
    removed = _guard(lambda: collect_garbage(cfg, dry_run=dry_run))
    verb = "would remove" if dry_run else "removed"
    out_console.print(
        f"{verb} {len(removed['orphans'])} orphan blobs and {len(removed['parts'])} .part files"
    )


@app.command()
def status(
    out: OutOpt = Path("oafetch-out"),
    config: ConfigOpt = None,
    ledger: LedgerOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Show how many jobs are in each state and how the finished ones ended."""
    from .status import collect_status

    cfg = _guard(lambda: build_config(config_file=config, out=out, ledger=ledger))
    data = _guard(lambda: collect_status(cfg))
    if as_json:
        out_console.print_json(json.dumps(data))
        raise typer.Exit(0)
    table = Table(title=f"oafetch status · {cfg.out}", show_header=False)
    table.add_column(style="bold")
    table.add_column(justify="right")
    for state, n in data["states"].items():
        table.add_row(state, str(n))
    for cls, n in data["failure_classes"].items():
        table.add_row(f"  failed: {cls}", str(n))
    table.add_row("total", str(data["total"]))
    out_console.print(table)


@ledger_app.command("migrate")
def ledger_migrate(
    out: OutOpt = Path("oafetch-out"),
    config: ConfigOpt = None,
    ledger: LedgerOpt = None,
) -> None:
    """Apply the ledger's numbered migrations (idempotent)."""
    from .api import ledger_location
    from .ledger import open_ledger

    cfg = _guard(lambda: build_config(config_file=config, out=out, ledger=ledger))

    def run() -> int:
        cfg.out.mkdir(parents=True, exist_ok=True)
        led = open_ledger(ledger_location(cfg))
        try:
            version: int = led.migrate()
            return version
        finally:
            led.close()

    version = _guard(run)
    out_console.print(f"ledger schema at version {version}")


@app.command()
def demo(
    works: Annotated[int, typer.Option("--works", help="How many simulated works.")] = 40,
    out: Annotated[
        Path | None, typer.Option("--out", "-o", help="Output folder (default: a temp dir).")
    ] = None,
    seed: Annotated[int, typer.Option("--seed")] = 7,
    workers: WorkersOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Run the whole pipeline against the built-in simulated web, offline."""
    from .demo import run_demo

    code = _guard(
        lambda: run_demo(works=works, out=out, seed=seed, workers=workers, as_json=as_json)
    )
    raise typer.Exit(code)


def version_callback(value: bool) -> None:
    if value:
        out_console.print(f"oafetch {__version__}")
        raise typer.Exit(0)


@app.callback()
def _root(
    version: Annotated[
        bool, typer.Option("--version", callback=version_callback, is_eager=True)
    ] = False,
) -> None:
    """oafetch: lawful open-access full text, fetched politely and provably."""


def _register_reporting() -> None:
    from .cli_report import inspect_cmd, report_cmd

    app.command("report")(report_cmd)
    app.command("inspect")(inspect_cmd)


_register_reporting()


def main() -> None:
    with contextlib.suppress(BrokenPipeError):
        try:
            app()
        except SystemExit as exc:
            # click's usage errors exit 2 already; keep ours.
            sys.exit(exc.code)
