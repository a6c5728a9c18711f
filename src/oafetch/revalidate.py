"""`oafetch revalidate`: ask each stored artifact's server whether it changed, cheaply.

Every finished work's sidecar keeps the ETag / Last-Modified its download came with; a
conditional GET (If-None-Match / If-Modified-Since) then costs the server one 304 and us no
body when nothing changed. A changed artifact is downloaded to a temporary part, hashed and
reported (`changed`, with the new sha256) — the stored copy and the ledger are left as they
are, so a revalidation can never lose or corrupt the corpus.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
from pathlib import Path
from typing import Any

from .api import client_settings, ledger_location
from .config import Config
from .errors import LedgerUnavailable, NetError
from .fetch.download import download
from .ids import WorkIds
from .ledger import open_ledger
from .ledger.base import State
from .net.client import HttpClient
from .store import Store
from .telemetry.events import Emitter, JsonlSink

__all__ = ["revalidate"]


async def revalidate(config: Config) -> list[dict[str, Any]]:
    where = ledger_location(config)
    if isinstance(where, Path) and not where.exists():
        raise LedgerUnavailable(f"no ledger at {where}: nothing to revalidate")
    ledger = open_ledger(where)
    try:
        jobs = list(ledger.jobs([State.INDEXED, State.DEDUPED]))
    finally:
        ledger.close()
    store = Store(config.out)
    emitter = Emitter("revalidate")
    sink = JsonlSink(config.out / "events.jsonl")
    emitter.add_sink(sink)
    http = HttpClient(client_settings(config), emit=emitter.emit)
    sem = asyncio.Semaphore(config.workers)

    async def one(
        job_id: int, job_work: dict[str, Any], url: str | None, sha: str | None
    ) -> dict[str, Any]:
        ids = WorkIds.from_dict(job_work)
        row: dict[str, Any] = {
            "input": job_work.get("input"),
            "ids": ids.as_dict(),
            "url": url,
            "sha256": sha,
        }
        sidecar = store.sidecar_path(ids)
        meta = json.loads(sidecar.read_text()) if sidecar.exists() else {}
        target = meta.get("final_url") or url
        validators = {"etag": meta.get("etag"), "last_modified": meta.get("last_modified")}
        if not target:
            return {**row, "status": "unknown", "reason": "no URL recorded"}
        part = store.part_path(f"revalidate:{sha}", target)
        async with sem:
            try:
                result = await download(
                    http.for_job(job_id),
                    target,
                    part,
                    max_bytes=config.download.max_bytes,
                    deadline_s=config.download.deadline_s,
                    validators=validators if any(validators.values()) else None,
                )
            except NetError as exc:
                return {
                    **row,
                    "status": "gone" if exc.status in (404, 410) else "error",
                    "reason": str(exc),
                }
            finally:
                for p in (part, part.with_name(part.name + ".json")):
                    with contextlib.suppress(OSError):
                        p.unlink()
        if result.not_modified:
            return {**row, "status": "unchanged", "how": "304"}
        if result.sha256 == sha:
            return {**row, "status": "unchanged", "how": "same bytes"}
        return {**row, "status": "changed", "new_sha256": result.sha256, "new_size": result.size}

    try:
        return list(await asyncio.gather(*(one(j.job_id, j.work, j.url, j.sha256) for j in jobs)))
    finally:
        await http.aclose()
        sink.close()
