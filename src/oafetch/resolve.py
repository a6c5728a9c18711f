"""`oafetch resolve`: the ranked candidates per work, with no download and no ledger."""

from __future__ import annotations

import asyncio
from collections.abc import Iterable
from typing import Any

from .api import client_settings
from .cascade import Cascade, candidate_to_dict
from .config import Config
from .errors import NetError
from .inputs import InputItem
from .net.client import HttpClient
from .sources.registry import all_sources
from .store import Store
from .telemetry.events import Emitter

__all__ = ["resolve_works"]


async def resolve_works(config: Config, items: Iterable[InputItem]) -> list[dict[str, Any]]:
    emitter = Emitter("resolve")
    http = HttpClient(client_settings(config), emit=emitter.emit)
    cascade = Cascade(
        config, http=http, store=Store(config.out), sources=all_sources(), emit=emitter.emit
    )
    sem = asyncio.Semaphore(config.workers)

    async def one(item: InputItem) -> dict[str, Any]:
        if item.ids is None:
            return {"input": item.raw, "ids": {}, "error": item.error, "candidates": []}
        async with sem:
            try:
                ids, title, cands = await cascade.resolve_only(item.ids)
            except NetError as exc:
                return {
                    "input": item.raw,
                    "ids": item.ids.as_dict(),
                    "error": str(exc),
                    "candidates": [],
                }
        return {
            "input": item.raw,
            "ids": ids.as_dict(),
            "title": title,
            "candidates": [candidate_to_dict(c) for c in cands],
        }

    try:
        return list(await asyncio.gather(*(one(it) for it in items)))
    finally:
        await http.aclose()
