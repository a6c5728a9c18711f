"""`oafetch status`: what the ledger says about an output folder, without touching the network."""

from __future__ import annotations

from collections import Counter
from pathlib import Path
from typing import Any

from .api import ledger_location
from .config import Config
from .errors import LedgerUnavailable
from .ledger import open_ledger
from .ledger.base import State

__all__ = ["collect_status"]


def collect_status(cfg: Config) -> dict[str, Any]:
    where = ledger_location(cfg)
    if isinstance(where, Path) and not where.exists():
        raise LedgerUnavailable(
            f"no ledger at {where}: run 'oafetch fetch --out {cfg.out} …' first"
        )
    ledger = open_ledger(where)
    try:
        ledger.migrate()
        counts = ledger.counts()
        outcome_counts = getattr(ledger, "outcome_counts", None)
        if outcome_counts is not None:
            classes: Counter[str] = Counter(outcome_counts())
        else:
            classes = Counter(j.outcome_class or "unknown" for j in ledger.jobs([State.FAILED]))
    finally:
        ledger.close()
    states = {s.value: counts.get(s, 0) for s in State if counts.get(s, 0)}
    done = counts.get(State.INDEXED, 0) + counts.get(State.DEDUPED, 0)
    return {
        "out": str(cfg.out),
        "ledger": str(where) if isinstance(where, Path) else "postgresql",
        "total": sum(counts.values()),
        "states": states,
        "succeeded": done,
        "failed": counts.get(State.FAILED, 0),
        "pending": sum(n for s, n in counts.items() if not s.terminal),
        "failure_classes": dict(classes.most_common()),
    }
