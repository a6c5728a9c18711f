"""The simweb process: bind one port per simulated host, write the ground truth and an
oafetch config, announce readiness on stdout, serve until SIGTERM/SIGINT.

Why a real process (and not an in-test thread): oafetch's tests, benchmarks and `oafetch
demo` must meet a server with its own event loop and CPU, real sockets and per-host ports,
so rate limits, timeouts and crashes behave as they would against the internet.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import signal
import sys
from collections.abc import Callable
from functools import partial
from pathlib import Path
from typing import Any

from .apis import arxiv_handler, crossref_handler, openalex_handler, unpaywall_handler
from .apis_more import HANDLERS_MORE
from .content import content_handler, doi_handler, wayback_handler
from .faults import faults_handler
from .scenarios import PROFILES
from .state import HOSTS, Options, SimState
from .wire import HostServer, Request, RequestLog, Response
from .world import World, build_world

__all__ = ["config_toml", "main", "serve", "world_json"]

_HANDLERS: dict[str, Callable[[SimState, Request], Response]] = {
    "openalex": openalex_handler,
    "unpaywall": unpaywall_handler,
    "arxiv": arxiv_handler,
    "crossref": crossref_handler,
    "doi": doi_handler,
    "wayback": wayback_handler,
    "publisher1": content_handler,
    "publisher2": content_handler,
    "repository": content_handler,
    "overloaded": content_handler,
    "throttled": content_handler,
    "faults": faults_handler,
    **HANDLERS_MORE,
}

_API_SOURCE = {"idconv": "pmc", "pmc_oa": "pmc"}
SOURCE_HOSTS = (
    "openalex",
    "unpaywall",
    "arxiv",
    "crossref",
    "pmc",
    "europepmc",
    "semantic_scholar",
    "doaj",
    "zenodo",
    "hal",
    "core",
    "osf",
    "figshare",
    "doi",
    "wayback",
)

# Politeness overrides per profile (only where the profile needs them; see docs/simweb.md).
_POLITENESS: dict[str, dict[str, Any]] = {
    "bench": {
        "host_concurrency": 64,
        "rates": {
            "*": "100000/s",
            "*.metadata": "100000/s",
            "*.landing": "100000/s",
            "*.artifact": "100000/s",
        },
    },
    "slice": {
        "backoff_base_s": 0.1,
        "retry_after_cap_s": 5.0,
        "rates": {"*.metadata": "50/s", "*.landing": "20/s", "*.artifact": "20/s"},
    },
    "cascade": {
        "backoff_base_s": 0.1,
        "retry_after_cap_s": 5.0,
        "rates": {"*.metadata": "50/s", "*.landing": "20/s", "*.artifact": "20/s"},
    },
    "crash": {"rates": {"*.metadata": "50/s", "*.landing": "20/s", "*.artifact": "20/s"}},
}


def _toml_value(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return repr(value)
    return json.dumps(str(value))


def config_toml(ports: dict[str, int], profile: str) -> str:
    """An oafetch config pointing every source at its simulated host."""
    lines = [
        "# Written by `python -m oafetch.simweb serve`: every source points at loopback.",
        "allow_private_networks = true",
        'mailto = "simweb@example.org"',
        "",
    ]
    for name in SOURCE_HOSTS:
        base = f"http://127.0.0.1:{ports[name]}"
        lines += [f"[sources.{name}]", f"base_url = {_toml_value(base)}"]
        if name == "arxiv":
            lines.append(f"api_url = {_toml_value(base + '/api/query')}")
        if name == "wayback":
            lines.append(f"api_url = {_toml_value(base)}")
        if name == "pmc":  # JATS XML comes from Europe PMC's REST service
            europepmc = f"http://127.0.0.1:{ports['europepmc']}"
            lines.append(f"api_url = {_toml_value(europepmc)}")
        if name == "core":  # CORE refuses requests without a key; simweb accepts any
            lines.append('api_key = "simweb-core-key"')
        lines.append("")
    pol = _POLITENESS.get(profile)
    if pol:
        lines.append("[politeness]")
        lines += [f"{k} = {_toml_value(v)}" for k, v in pol.items() if k != "rates"]
        lines += ["", "[politeness.rates]"]
        lines += [f"{_toml_value(k)} = {_toml_value(v)}" for k, v in pol["rates"].items()]
        lines.append("")
    return "\n".join(lines)


def world_json(st: SimState) -> dict[str, Any]:
    """Ground truth: every work's expected outcome, plus where its bytes live."""
    world: World = st.world
    urls: dict[int, list[str]] = {}
    for (host, path), res in world.routes.items():
        urls.setdefault(res.work, []).append(st.url(host, path))
    items = []
    for spec in world.works:
        item = spec.sim.to_json()
        known = sorted({_API_SOURCE.get(k, k) for k in spec.apis} & set(SOURCE_HOSTS))
        if "arxiv" in spec.sim.ids and "arxiv" not in known:
            known.append("arxiv")
        item.update(
            {
                "key": spec.key,
                "size": spec.size,
                "known_to": known,
                "urls": sorted(urls.get(spec.sim.index, [])),
            }
        )
        items.append(item)
    return {
        "version": 1,
        "profile": world.profile,
        "seed": world.seed,
        "ports": st.ports,
        "works": items,
    }


async def serve(opts: Options, *, announce: Callable[[dict[str, Any]], None]) -> None:
    """Run until SIGTERM/SIGINT; `announce` receives the ready record."""
    world = build_world(
        opts.profile,
        opts.seed,
        opts.works,
        pdf_min_bytes=opts.pdf_min_bytes,
        pdf_max_bytes=opts.pdf_max_bytes,
        big_pdf_bytes=opts.big_pdf_bytes,
    )
    opts.dir.mkdir(parents=True, exist_ok=True)
    log = RequestLog(opts.dir / "requests.jsonl")
    st = SimState(world, opts, flush=log.flush)
    servers = [HostServer(name, partial(_HANDLERS[name], st), log) for name in HOSTS]
    for srv in servers:
        st.ports[srv.name] = await srv.start()
    (opts.dir / "world.json").write_text(json.dumps(world_json(st), indent=1), "utf-8")
    (opts.dir / "oafetch.toml").write_text(config_toml(st.ports, opts.profile), "utf-8")
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    loop.add_signal_handler(signal.SIGUSR1, log.flush)
    announce(
        {
            "ready": True,
            "ports": st.ports,
            "config": str(opts.dir / "oafetch.toml"),
            "world": str(opts.dir / "world.json"),
            "log": str(opts.dir / "requests.jsonl"),
        }
    )

    async def flusher() -> None:
        while True:
            await asyncio.sleep(0.1)
            log.flush()

    task = asyncio.create_task(flusher())
    try:
        await stop.wait()
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task
        for srv in servers:
            await srv.stop()
        log.close()


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="python -m oafetch.simweb", description="Simulated scholarly web on loopback."
    )
    sub = p.add_subparsers(dest="command", required=True)
    s = sub.add_parser("serve", help="generate a world and serve it until SIGTERM")
    s.add_argument("--works", type=int, default=40)
    s.add_argument("--seed", type=int, default=0)
    s.add_argument("--profile", default="demo", choices=sorted(PROFILES))
    s.add_argument("--dir", type=Path, required=True)
    s.add_argument("--pdf-min-bytes", type=int, default=8_000)
    s.add_argument("--pdf-max-bytes", type=int, default=60_000)
    s.add_argument("--throttle-bps", type=float, default=None)
    s.add_argument("--big-pdf-bytes", type=int, default=20_000_000)
    s.add_argument("--robots-5xx", action="store_true")
    return p


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    opts = Options(
        works=args.works,
        seed=args.seed,
        profile=args.profile,
        dir=args.dir,
        pdf_min_bytes=args.pdf_min_bytes,
        pdf_max_bytes=args.pdf_max_bytes,
        throttle_bps=args.throttle_bps,
        big_pdf_bytes=args.big_pdf_bytes,
        robots_5xx=args.robots_5xx,
    )

    def announce(record: dict[str, Any]) -> None:
        sys.stdout.write(json.dumps(record) + "\n")
        sys.stdout.flush()

    try:
        asyncio.run(serve(opts, announce=announce))
    except ValueError as exc:
        sys.stderr.write(f"simweb: {exc}\n")
        return 2
    return 0
