"""`--processes N`: several worker processes on one machine sharing one ledger.

The parent plans; each child is a plain `oafetch worker` that receives the parent's exact
configuration on stdin (secrets included, never on a command line where `ps` shows them)
and claims jobs until none is left. Children append to the same results.jsonl and
events.jsonl; every line is one O_APPEND write, so lines never interleave.
"""

from __future__ import annotations

import signal
import subprocess
import sys
from collections import Counter
from pathlib import Path

from .config import Config, config_to_json
from .outcomes import Status
from .runner import RunSummary

__all__ = ["run_worker_processes", "summary_from_results"]


def run_worker_processes(config: Config, n: int) -> int:
    """Start `n` workers, wait for them, and return the worst exit code among them."""
    procs = []
    for i in range(n):
        # Each child serves its own metrics port (PORT+1, PORT+2, …); the parent runs no jobs.
        port = None if config.metrics_port is None else config.metrics_port + 1 + i
        payload = config_to_json(config.model_copy(update={"metrics_port": port}))
        proc = subprocess.Popen(
            [sys.executable, "-m", "oafetch", "worker", "--config-stdin", "--quiet"],
            stdin=subprocess.PIPE,
            text=True,
        )
        assert proc.stdin is not None
        proc.stdin.write(payload)
        proc.stdin.close()
        procs.append(proc)
    try:
        codes = [p.wait() for p in procs]
    except KeyboardInterrupt:
        for p in procs:
            p.send_signal(signal.SIGTERM)
        for p in procs:
            p.wait()
        raise
    return max(codes, key=lambda c: (c not in (0, 3), c))


def summary_from_results(path: Path, summary: RunSummary | None = None) -> RunSummary:
    """Rebuild the run summary from results.jsonl (the children wrote it, not us)."""
    import json

    s = summary or RunSummary()
    s.statuses = Counter()
    s.classes = Counter()
    s.formats = Counter()
    s.sources = Counter()
    if not path.exists():
        return s
    with path.open(encoding="utf-8") as fh:
        for line in fh:
            r = json.loads(line)
            s.statuses[r["status"]] += 1
            if r.get("class"):
                s.classes[r["class"]] += 1
            if r["status"] in (Status.DOWNLOADED.value, Status.DEDUPED.value):
                if r.get("format"):
                    s.formats[r["format"]] += 1
                if r.get("source"):
                    s.sources[r["source"]] += 1
                if r["status"] == Status.DOWNLOADED.value:
                    s.bytes += r.get("size") or 0
    return s
