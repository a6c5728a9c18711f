"""The one event schema and the one emitter (DESIGN §9).

Every event is (run_id, job_id, ts, type, fields). Code that performs an action emits the
event for it; sinks (JSONL file, ledger table, Prometheus counters) subscribe. Emission
never fails a job: a sink that raises is disabled for the rest of the run and reported once.
"""

from __future__ import annotations

import json
import os
import sys
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from pathlib import Path
from typing import Any

from ..net.urls import strip_credentials

__all__ = ["Emitter", "Event", "EventType", "JsonlSink", "LedgerSink"]


class EventType(StrEnum):
    JOB_PLANNED = "job_planned"
    JOB_LEASED = "job_leased"
    JOB_STATE_CHANGED = "job_state_changed"
    LEASE_RENEWED = "lease_renewed"
    LEASE_RELEASED = "lease_released"
    OPERATION_STARTED = "operation_started"
    OPERATION_COMPLETED = "operation_completed"
    CRASH_RECOVERY = "crash_recovery"
    IDEMPOTENCY_REPLAY = "idempotency_replay"
    SOURCE_QUERIED = "source_queried"
    CANDIDATE_FOUND = "candidate_found"
    HTTP_REQUEST = "http_request"
    RATE_LIMITED = "rate_limited"
    BREAKER_TRANSITION = "breaker_transition"
    ATTEMPT_FINISHED = "attempt_finished"
    ARTIFACT_STORED = "artifact_stored"
    JOB_FINISHED = "job_finished"


@dataclass(frozen=True, slots=True)
class Event:
    run_id: str
    type: str
    ts: float
    job_id: int | None = None
    fields: dict[str, Any] = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        return {
            "run_id": self.run_id,
            "job_id": self.job_id,
            "ts": self.ts,
            "type": self.type,
            "fields": self.fields,
        }


Sink = Callable[[Event], None]

_URL_KEYS = frozenset({"url", "final_url", "location", "candidate_url"})
_SECRET_KEYS = frozenset({"mailto", "email", "api_key", "password", "token", "authorization"})


def _scrub(fields: Mapping[str, Any]) -> dict[str, Any]:
    """Drop credentials and contact emails; URLs stay whole but lose keys and userinfo."""
    out: dict[str, Any] = {}
    for key, value in fields.items():
        if key.lower() in _SECRET_KEYS:
            continue
        if key in _URL_KEYS and isinstance(value, str):
            value = strip_credentials(value)
        out[key] = value
    return out


class Emitter:
    """Fan-out of events to sinks; thread-safe, never raises into the caller."""

    def __init__(self, run_id: str, *, clock: Callable[[], float] = time.time) -> None:
        self.run_id = run_id
        self._clock = clock
        self._sinks: list[Sink] = []
        self._lock = threading.Lock()
        self.counts: dict[str, int] = {}

    def add_sink(self, sink: Sink) -> None:
        self._sinks.append(sink)

    def emit(self, type: str, job_id: int | None = None, **fields: Any) -> None:
        event = Event(self.run_id, str(type), self._clock(), job_id, _scrub(fields))
        with self._lock:
            self.counts[event.type] = self.counts.get(event.type, 0) + 1
            for sink in list(self._sinks):
                try:
                    sink(event)
                except Exception as exc:  # a broken sink must never fail a job
                    self._sinks.remove(sink)
                    print(f"oafetch: telemetry sink disabled: {exc}", file=sys.stderr)

    __call__ = emit


class JsonlSink:
    """Appends events to `events.jsonl`, rotating to `events.jsonl.1..N` past `max_bytes`.

    Each line is one `os.write` on an O_APPEND descriptor, so several worker processes can
    share the file without interleaving partial lines.
    """

    def __init__(self, path: Path, *, max_bytes: int = 64 * 1024 * 1024, keep: int = 5) -> None:
        self.path = path
        self.max_bytes = max_bytes
        self.keep = keep
        path.parent.mkdir(parents=True, exist_ok=True)
        self._fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
        self._size = os.fstat(self._fd).st_size

    def _rotate(self) -> None:
        os.close(self._fd)
        for i in range(self.keep - 1, 0, -1):
            src = self.path.with_name(f"{self.path.name}.{i}")
            if src.exists():
                os.replace(src, self.path.with_name(f"{self.path.name}.{i + 1}"))
        if self.path.exists():
            os.replace(self.path, self.path.with_name(f"{self.path.name}.1"))
        self._fd = os.open(self.path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
        self._size = 0

    def __call__(self, event: Event) -> None:
        line = (json.dumps(event.as_dict(), separators=(",", ":"), default=str) + "\n").encode()
        if self._size + len(line) > self.max_bytes and self._size > 0:
            self._rotate()
        os.write(self._fd, line)
        self._size += len(line)

    def close(self) -> None:
        os.close(self._fd)


class LedgerSink:
    """Buffers events and appends them to the ledger's `events` table in batches."""

    def __init__(self, record: Callable[[list[dict[str, Any]]], None], *, batch: int = 256) -> None:
        self._record = record
        self._batch = batch
        self._buf: list[dict[str, Any]] = []

    def __call__(self, event: Event) -> None:
        self._buf.append(event.as_dict())
        if len(self._buf) >= self._batch:
            self.flush()

    def flush(self) -> None:
        if self._buf:
            buf, self._buf = self._buf, []
            self._record(buf)
