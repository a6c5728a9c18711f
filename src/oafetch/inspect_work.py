"""`oafetch inspect WORK`: everything the ledger, the event log and the store know about one work.

Why a separate module: answering "what happened to this DOI?" joins four places — the job
row, its ops, the events (state history, attempts) and the stored artifact with its sidecar —
and the Python API wants the same answer as the command line.

Events come from the ledger's `events` table (it sees every machine of a shared ledger)
merged with the folder's `events.jsonl` (+ rotations), duplicates dropped.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

from .api import ledger_location
from .config import Config
from .errors import LedgerUnavailable, OafetchError
from .ids import WorkIds, parse_identifier
from .ledger import open_ledger
from .ledger.base import Job, Ledger
from .ledger.keys import idempotency_key
from .store import Store
from .telemetry.rundata import event_files, iter_jsonl

__all__ = ["NoSuchWork", "inspect_work"]

_HISTORY_TYPES = (
    "job_planned", "job_leased", "job_state_changed", "lease_released", "job_finished",
)


class NoSuchWork(OafetchError):
    """The work parses but has no job in this output folder's ledger."""


def _job_dict(job: Job) -> dict[str, Any]:
    return {
        "job_id": job.job_id, "idempotency_key": job.idempotency_key, "work": job.work,
        "state": job.state.value, "attempts": job.attempts, "not_before": job.not_before,
        "lease_owner": job.lease_owner, "lease_until": job.lease_until,
        "lease_epoch": job.lease_epoch, "outcome_class": job.outcome_class,
        "outcome_reason": job.outcome_reason, "source": job.source, "url": job.url,
        "sha256": job.sha256, "size": job.size, "format": job.format, "path": job.path,
        "created_at": job.created_at, "updated_at": job.updated_at,
    }


def _job_events(ledger: Ledger, out: Path, job_id: int) -> list[dict[str, Any]]:
    """The job's events from the ledger table and the JSONL log, merged without duplicates.

    Both are read because each can miss some: the ledger sink writes in batches (a killed
    process loses its last batch), and the JSONL log holds only this machine's workers.
    """
    wanted = (*_HISTORY_TYPES, "attempt_finished")
    found: list[dict[str, Any]] = []
    stored = getattr(ledger, "events", None)
    if stored is not None:
        found.extend(e for e in stored(types=wanted) if e.get("job_id") == job_id)
    for path in event_files(out):
        found.extend(e for e in iter_jsonl(path)
                     if e.get("job_id") == job_id and e.get("type") in wanted)
    unique: dict[tuple[Any, ...], dict[str, Any]] = {}
    for e in found:
        fields = json.dumps(e.get("fields") or {}, sort_keys=True, default=str)
        unique.setdefault((e.get("run_id"), e.get("type"), round(float(e.get("ts") or 0), 6),
                           fields), e)
    return sorted(unique.values(), key=lambda e: float(e.get("ts") or 0.0))


def _history(events: Iterable[dict[str, Any]]) -> Iterator[dict[str, Any]]:
    for e in events:
        if e.get("type") in _HISTORY_TYPES:
            f = e.get("fields") or {}
            yield {"ts": e.get("ts"), "run_id": e.get("run_id"), "type": e["type"],
                   **{k: f[k] for k in ("from_state", "to_state", "state", "epoch", "reason",
                                        "status", "failure_class") if k in f}}


def _attempts(events: Iterable[dict[str, Any]]) -> list[dict[str, Any]]:
    out = []
    for e in events:
        if e.get("type") == "attempt_finished":
            f = e.get("fields") or {}
            out.append({"ts": e.get("ts"), "url": f.get("url"), "source": f.get("source"),
                        "technique": f.get("technique"), "status": f.get("status"),
                        "bytes": f.get("bytes"), "ms": f.get("ms"), "ok": f.get("ok"),
                        "class": f.get("failure_class"), "reason": f.get("reason")})
    return out


def _artifact(config: Config, job: Job, ids: WorkIds) -> dict[str, Any] | None:
    if not job.sha256:
        return None
    store = Store(config.out)
    # The sidecar sits next to the friendly file (its stem comes from the ids the cascade
    # learned, which may be more than the input named); fall back to the input's ids.
    side_path = store.sidecar_path(ids)
    if job.path:
        side_path = (config.out / job.path).with_suffix(".json")
    sidecar: dict[str, Any] | None = None
    try:
        sidecar = json.loads(side_path.read_text("utf-8"))
    except (OSError, ValueError):
        sidecar = None
    path = config.out / job.path if job.path else None
    blob = store.blob_path(job.sha256, job.format) if job.format else None
    return {
        "sha256": job.sha256, "size": job.size, "format": job.format,
        "path": str(path) if path else None, "exists": bool(path and path.exists()),
        "blob": str(blob) if blob else None, "blob_exists": bool(blob and blob.exists()),
        "sidecar_path": str(side_path), "sidecar": sidecar,
    }


def inspect_work(config: Config, work_text: str) -> dict[str, Any]:
    """The job row, state history, ops, attempts and stored artifact of one work.

    Raises InvalidIdentifier (not an id), LedgerUnavailable (no ledger here) or
    NoSuchWork (the folder never planned this work).
    """
    ids = parse_identifier(work_text)
    key = idempotency_key(ids.key())
    where = ledger_location(config)
    if isinstance(where, Path) and not where.exists():
        raise LedgerUnavailable(
            f"no ledger at {where}: run 'oafetch fetch --out {config.out} …' first"
        )
    ledger = open_ledger(where)
    try:
        ledger.migrate()
        job = ledger.job_by_key(key)
        if job is None:
            raise NoSuchWork(f"no job for {ids.key()} in {where} (was it fetched into this --out?)")
        ops = [{"op_type": o.op_type.value, "status": o.status.value, "started_at": o.started_at,
                "finished_at": o.finished_at, "result_code": o.result_code, "result": o.result}
               for o in ledger.ops(job.job_id)]
        events = _job_events(ledger, config.out, job.job_id)
    finally:
        ledger.close()
    work_ids = WorkIds.from_dict({k: v for k, v in job.work.items() if k != "input"})
    return {
        "input": work_text,
        "ids": ids.as_dict(),
        "key": ids.key(),
        "job": _job_dict(job),
        "history": list(_history(events)),
        "ops": sorted(ops, key=lambda o: o["started_at"]),
        "attempts": _attempts(events),
        "artifact": _artifact(config, job, work_ids),
    }
