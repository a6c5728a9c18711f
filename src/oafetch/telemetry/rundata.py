"""Read what a run left in its output folder: `results.jsonl` and the event log.

Why the files and not only the ledger: `results.jsonl` and `events.jsonl` exist even with
`--disable-idempotency`, they are what users keep and ship around, and `events.jsonl`
accumulates over every run in the folder (the JSONL sink appends), so a report over the
folder sees crashes and resumptions across processes.

Rotated logs (`events.jsonl.N` … `.1`) are older than `events.jsonl`; they are read oldest
first. A torn last line (a process killed mid-write) is skipped, never fatal.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

__all__ = ["RunData", "event_files", "iter_jsonl", "load_run", "percentile"]

_ROTATED = re.compile(r"^events\.jsonl\.(\d+)$")


@dataclass(slots=True)
class RunData:
    """Results (one dict per work) and events (`Event.as_dict()` shape), oldest first."""

    results: list[dict[str, Any]] = field(default_factory=list)
    events: list[dict[str, Any]] = field(default_factory=list)
    out: Path | None = None

    def of_type(self, *types: str) -> Iterator[dict[str, Any]]:
        wanted = set(types)
        return (e for e in self.events if e.get("type") in wanted)


def iter_jsonl(path: Path) -> Iterator[dict[str, Any]]:
    """JSON objects of a JSONL file; blank and torn lines are skipped."""
    with path.open("r", encoding="utf-8", errors="replace") as fh:
        for line in fh:
            line = line.strip()
            if not line:
                continue
            try:
                value = json.loads(line)
            except ValueError:
                continue
            if isinstance(value, dict):
                yield value


def event_files(out: Path) -> list[Path]:
    """`events.jsonl.N … .1, events.jsonl` that exist, oldest first."""
    rotated: list[tuple[int, Path]] = []
    if out.is_dir():
        for p in out.iterdir():
            m = _ROTATED.match(p.name)
            if m:
                rotated.append((int(m.group(1)), p))
    files = [p for _, p in sorted(rotated, reverse=True)]
    current = out / "events.jsonl"
    if current.exists():
        files.append(current)
    return files


def _dedupe_results(rows: Iterable[dict[str, Any]]) -> list[dict[str, Any]]:
    """One row per work: a later line (a resumed run, a worker) replaces an earlier one."""
    by_key: dict[Any, dict[str, Any]] = {}
    for i, row in enumerate(rows):
        job = row.get("job_id")
        key: Any = ("job", job) if job is not None else ("line", i)
        by_key.pop(key, None)  # re-insert so order follows the latest line
        by_key[key] = row
    return list(by_key.values())


def load_run(
    out: Path,
    *,
    since: float | None = None,
    extra_events: Iterable[dict[str, Any]] | None = None,
) -> RunData:
    """Load `out`; with `since`, keep events at or after it and the results of those jobs.

    `extra_events` (e.g. the ledger's events table) is used only when the folder has no
    event log, so nothing is counted twice.
    """
    results_path = out / "results.jsonl"
    results = _dedupe_results(iter_jsonl(results_path)) if results_path.exists() else []
    files = event_files(out)
    events: list[dict[str, Any]] = []
    for p in files:
        events.extend(iter_jsonl(p))
    if not files and extra_events is not None:
        events.extend(extra_events)
    events.sort(key=lambda e: float(e.get("ts") or 0.0))  # stable: emission order kept on ties
    if since is not None:
        events = [e for e in events if float(e.get("ts") or 0.0) >= since]
        finished = {e.get("job_id") for e in events if e.get("type") == "job_finished"}
        results = [r for r in results if r.get("job_id") is not None and r["job_id"] in finished]
    return RunData(results=results, events=events, out=out)


def percentile(values: Sequence[float], q: float) -> float | None:
    """Nearest-rank percentile (q in 0..100); None for no values.

    Nearest rank, not interpolation: the answer is always a value that really happened,
    which is what an SLO line like "p95 TTFP 41 s" should point at.
    """
    if not values:
        return None
    ordered = sorted(values)
    rank = max(1, math.ceil(q / 100.0 * len(ordered)))
    return float(ordered[min(rank, len(ordered)) - 1])
