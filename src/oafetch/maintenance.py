"""`oafetch verify` and `oafetch gc`: the store checked against the ledger, and cleaned."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from .api import ledger_location
from .config import Config
from .errors import LedgerUnavailable
from .ledger import open_ledger
from .ledger.base import Ledger, State
from .store import Store

__all__ = ["collect_garbage", "verify_store"]

_LIVE = [s for s in State if not s.terminal]


def _open(cfg: Config) -> Ledger:
    where = ledger_location(cfg)
    if isinstance(where, Path) and not where.exists():
        raise LedgerUnavailable(f"no ledger at {where}: nothing to check")
    ledger = open_ledger(where)
    ledger.migrate()
    return ledger


def _expected(ledger: Ledger) -> dict[str, int]:
    """sha256 -> size of every blob the ledger says was finalized."""
    out: dict[str, int] = {}
    for job in ledger.jobs([State.FINALIZED, State.INDEXED, State.DEDUPED]):
        if job.sha256 and job.size is not None:
            out[job.sha256] = job.size
    return out


def verify_store(cfg: Config, *, deep: bool) -> dict[str, Any]:
    ledger = _open(cfg)
    try:
        expected = _expected(ledger)
        in_progress = any(True for _ in ledger.jobs(_LIVE))
    finally:
        ledger.close()
    store = Store(cfg.out)
    report = store.verify(expected, deep=deep)
    parts = [] if in_progress else [str(p) for p in store.iter_parts()]
    return {
        "checked": report.checked,
        "missing": report.missing,
        "corrupt": [str(p) for p in report.corrupt],
        "orphans": [str(p) for p in report.orphans],
        "strays": [str(p) for p in report.strays],
        "stale_parts": parts,
        "ok": report.ok and not parts,
    }


def collect_garbage(cfg: Config, *, dry_run: bool) -> dict[str, list[str]]:
    ledger = _open(cfg)
    try:
        expected = _expected(ledger)
        busy = any(True for _ in ledger.jobs(_LIVE))
    finally:
        ledger.close()
    store = Store(cfg.out)
    orphans = [b.path for b in store.iter_blobs() if b.sha256 not in expected]
    # Parts belong to unfinished jobs; only when none is left are they all garbage.
    parts = [] if busy else list(store.iter_parts())
    if not dry_run:
        for p in orphans:
            p.unlink(missing_ok=True)
        for p in parts:
            p.unlink(missing_ok=True)
            p.with_name(p.name + ".json").unlink(missing_ok=True)
    return {"orphans": [str(p) for p in orphans], "parts": [str(p) for p in parts]}
