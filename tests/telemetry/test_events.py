"""The one event schema: rotation by size, scrubbing, and a broken sink never failing a job."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from oafetch.telemetry.events import Emitter, Event, JsonlSink, LedgerSink


def test_jsonl_rotates_by_size_and_keeps_every_line(tmp_path: Path) -> None:
    path = tmp_path / "events.jsonl"
    sink = JsonlSink(path, max_bytes=2_000, keep=3)
    em = Emitter("r1", clock=lambda: 1.0)
    em.add_sink(sink)
    for i in range(150):
        em.emit("job_finished", i, status="downloaded", n=i)
    sink.close()
    files = sorted(tmp_path.glob("events.jsonl*"))
    assert [f.name for f in files] == [
        "events.jsonl",
        "events.jsonl.1",
        "events.jsonl.2",
        "events.jsonl.3",
    ]
    assert all(f.stat().st_size <= 2_000 for f in files)
    kept = [json.loads(line) for f in files for line in f.read_text().splitlines()]
    # keep=3 rotated files + the live one: the oldest lines fell off the end, none is torn.
    assert {e["fields"]["n"] for e in kept} == set(range(150 - len(kept), 150))
    assert len(kept) < 150


def test_urls_lose_credentials_and_secrets_are_dropped() -> None:
    seen: list[Event] = []
    em = Emitter("r1")
    em.add_sink(seen.append)
    em.emit(
        "http_request",
        1,
        url="https://u:p@api.x.org/w?api_key=K&email=a@b.c&q=1",
        mailto="a@b.c",
        api_key="K",
        host="api.x.org",
    )
    fields = seen[0].fields
    assert fields == {"url": "https://api.x.org/w?q=1", "host": "api.x.org"}


def test_a_failing_sink_is_disabled_and_never_raises(capsys: pytest.CaptureFixture[str]) -> None:
    good: list[Event] = []

    def broken(_e: Event) -> None:
        raise OSError("disk full")

    em = Emitter("r1")
    em.add_sink(broken)
    em.add_sink(good.append)
    em.emit("job_leased", 1)
    em.emit("job_finished", 1)
    assert [e.type for e in good] == ["job_leased", "job_finished"]
    assert capsys.readouterr().err.count("telemetry sink disabled") == 1


def test_ledger_sink_batches() -> None:
    batches: list[list[dict[str, object]]] = []
    sink = LedgerSink(batches.append, batch=3)
    em = Emitter("r1")
    em.add_sink(sink)
    for i in range(7):
        em.emit("job_planned", i)
    assert [len(b) for b in batches] == [3, 3]
    sink.flush()
    assert [len(b) for b in batches] == [3, 3, 1]
