"""Wiring: build the client, store, ledger, telemetry and runner for one output folder.

This is the logic a Python caller needs as much as the CLI does, so it lives here and
`cli.py` stays a thin shell around it.
"""

from __future__ import annotations

import asyncio
import sys
import uuid
from collections.abc import AsyncIterator, Callable, Iterable, Iterator, Sequence
from contextlib import AsyncExitStack, asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .cascade import Cascade
from .config import Config, load_config
from .ids import WorkIds
from .inputs import InputItem, iter_inputs
from .ledger import open_ledger
from .ledger.base import Ledger
from .net.client import ClientSettings, HttpClient
from .outcomes import Outcome
from .runner import ResultsWriter, Runner, RunSummary
from .sources.registry import all_sources
from .store import Store
from .telemetry.events import Emitter, JsonlSink, LedgerSink

__all__ = ["Session", "fetch", "fetch_async", "ledger_location", "open_session"]


def ledger_location(config: Config) -> str | Path:
    """The ledger URL, or the SQLite file in the output folder."""
    return config.ledger_url or (config.out / "ledger.sqlite3")


def client_settings(config: Config) -> ClientSettings:
    """Map the config onto the network client's settings (politeness included)."""
    build = getattr(ClientSettings, "from_config", None)
    if build is not None:
        settings: ClientSettings = build(config)
        return settings
    return ClientSettings(
        mailto=config.mailto,
        allow_private_networks=config.allow_private_networks,
        connect_timeout_s=config.download.connect_timeout_s,
        read_timeout_s=config.download.read_timeout_s,
        max_redirects=config.download.max_redirects,
    )


@dataclass
class Session:
    """Everything one run uses; closed together."""

    config: Config
    run_id: str
    http: HttpClient
    store: Store
    ledger: Ledger | None
    emitter: Emitter
    cascade: Cascade
    runner: Runner
    results: ResultsWriter


@asynccontextmanager
async def open_session(
    config: Config,
    *,
    truncate_results: bool = True,
    on_outcome: Callable[[Outcome], None] | None = None,
    notice: Callable[[str], None] | None = None,
    results: bool = True,
) -> AsyncIterator[Session]:
    run_id = uuid.uuid4().hex[:12]
    out = config.out
    ledger: Ledger | None = None
    ledger_sink: LedgerSink | None = None
    async with AsyncExitStack() as stack:
        # The ledger first: if it cannot be opened, nothing at all is written.
        if config.enable_idempotency:
            if config.ledger_url is None:
                out.mkdir(parents=True, exist_ok=True)  # the SQLite file lives in --out
            ledger = open_ledger(ledger_location(config))
            stack.callback(ledger.close)
        out.mkdir(parents=True, exist_ok=True)
        emitter = Emitter(run_id)
        jsonl = JsonlSink(out / "events.jsonl")
        emitter.add_sink(jsonl)
        stack.callback(jsonl.close)
        if ledger is not None:
            ledger.migrate()
            ledger_sink = LedgerSink(ledger.record_events)
            emitter.add_sink(ledger_sink)
            stack.callback(ledger_sink.flush)
        if config.metrics_port is not None:
            from .telemetry.metrics import install_metrics

            _, metrics_server = install_metrics(
                emitter, config.metrics_port, ledger_counts=ledger.counts if ledger else None
            )
            if metrics_server is not None:
                stack.callback(metrics_server.close)
        http = HttpClient(client_settings(config), emit=emitter.emit)
        stack.push_async_callback(http.aclose)
        store = Store(out)
        cascade = Cascade(
            config,
            http=http,
            store=store,
            sources=all_sources(),
            emit=emitter.emit,
            notice=notice or (lambda m: print(f"oafetch: {m}", file=sys.stderr)),
        )
        writer = ResultsWriter(
            out / "results.jsonl" if results else None, truncate=truncate_results
        )
        stack.callback(writer.close)
        runner = Runner(
            config,
            cascade=cascade,
            store=store,
            ledger=ledger,
            emitter=emitter,
            results=writer,
            on_outcome=on_outcome,
        )
        yield Session(config, run_id, http, store, ledger, emitter, cascade, runner, writer)


async def fetch_async(items: Iterable[InputItem], config: Config, **session_kw: Any) -> RunSummary:
    """Plan `items` and run every claimable job of the output folder's ledger."""
    async with open_session(config, **session_kw) as s:
        if s.ledger is None:
            return await s.runner.run_memory(iter(items))
        s.runner.recover()
        s.runner.plan(items)
        return await s.runner.run_ledger()


def _items(identifiers: Sequence[str | WorkIds]) -> Iterator[InputItem]:
    for raw in identifiers:
        if isinstance(raw, WorkIds):
            yield InputItem(None, raw.key(), raw, None)
        else:
            yield from iter_inputs([raw], None)


def fetch(
    identifiers: Sequence[str | WorkIds],
    *,
    out: str | Path = "oafetch-out",
    config: Config | None = None,
    **overrides: Any,
) -> RunSummary:
    """Fetch the full text of `identifiers` into `out` (the Python face of `oafetch fetch`)."""
    cfg = config or load_config(overrides={"out": Path(out), **overrides})
    return asyncio.run(fetch_async(_items(identifiers), cfg))
