"""Issue 5, proof 2: fencing at the RUNNER level, with an injected clock.

Worker A (a real `Runner` with a real cascade, store and HTTP client against simweb) claims
a job. The moment A starts streaming, the fake clock jumps past the lease TTL and worker B
claims the same job. A's next fenced write (finishing the STREAM op) changes zero rows, so
`LeaseLost` must unwind A's `_run_job`: no results line, no state change, no blob. B then
finishes the job. Also: a replayed op finished `done` again is not mistaken for a lost
lease (that mistake made every later holder abandon the job: a livelock).
"""

from __future__ import annotations

import hashlib
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from integration.helpers import read_jsonl
from oafetch.api import client_settings
from oafetch.cascade import Cascade
from oafetch.config import Config, load_config
from oafetch.inputs import iter_inputs
from oafetch.ledger import open_ledger
from oafetch.ledger.base import Ledger, OpStatus, OpType, State
from oafetch.ledger.keys import op_key
from oafetch.ledger.sqlite import SqliteLedger
from oafetch.net.client import HttpClient
from oafetch.runner import ResultsWriter, Runner
from oafetch.simweb import SimWeb
from oafetch.sources.registry import all_sources
from oafetch.store import Store
from oafetch.telemetry.events import Emitter, Event, EventType

TTL = 60.0  # the heartbeat (TTL/3 of real time) never fires during the test


class FakeClock:
    """The database clock both ledgers read: only the test moves it."""

    def __init__(self) -> None:
        self.t = time.time()

    def __call__(self) -> float:
        return self.t

    def advance(self, seconds: float) -> None:
        self.t += seconds


@pytest.fixture(scope="module")
def web(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    with SimWeb(tmp_path_factory.mktemp("web"), works=1, seed=4, profile="bench") as w:
        yield w


def _config(web: Any, out: Path) -> Config:
    return load_config(
        web.config_path,
        env={},
        overrides={
            "out": out,
            "mailto": "tester@example.org",
            "allow_private_networks": True,
            "lease_ttl_s": TTL,
            "workers": 1,
        },
    )


def _runner(cfg: Config, ledger: Ledger, name: str, events: list[Event]) -> Runner:
    emitter = Emitter(f"run-{name}")
    emitter.add_sink(events.append)
    store = Store(cfg.out)
    http = HttpClient(client_settings(cfg), emit=emitter.emit)
    cascade = Cascade(cfg, http=http, store=store, sources=all_sources(), emit=emitter.emit)
    results = ResultsWriter(cfg.out / f"results-{name}.jsonl")
    return Runner(
        cfg,
        cascade=cascade,
        store=store,
        ledger=ledger,
        emitter=emitter,
        results=results,
        owner=f"worker-{name}",
    )


async def test_lease_taken_over_mid_stream_stops_worker_a(web: Any, tmp_path: Path) -> None:
    out = tmp_path / "out"
    cfg = _config(web, out)
    clock = FakeClock()
    out.mkdir(parents=True)
    ledger_a = SqliteLedger(out / "ledger.sqlite3", clock=clock)
    ledger_a.migrate()
    ledger_b = SqliteLedger(out / "ledger.sqlite3", clock=clock)
    events_a: list[Event] = []
    events_b: list[Event] = []
    runner_a = _runner(cfg, ledger_a, "a", events_a)
    runner_b = _runner(cfg, ledger_b, "b", events_b)
    try:
        assert runner_a.plan(iter_inputs([web.world[0].input], None)) == 1
        (job_a,) = ledger_a.claim(runner_a.owner, TTL)
        taken: list[Any] = []

        def take_over(event: Event) -> None:
            """When A starts streaming: the TTL passes and B claims the job."""
            if event.type == EventType.OPERATION_STARTED and event.fields.get("op") == "STREAM":
                clock.advance(TTL + 1)
                taken.extend(ledger_b.claim(runner_b.owner, TTL))

        runner_a.emit.add_sink(take_over)
        await runner_a._run_job(job_a)

        assert len(taken) == 1, "B must be able to claim the expired lease"
        job_b = taken[0]
        assert job_b.job_id == job_a.job_id and job_b.lease_epoch == job_a.lease_epoch + 1
        assert job_b.state is State.STREAMING, "a takeover keeps the job's progress"
        # A noticed at its next fenced write and stopped: nothing recorded, nothing moved.
        assert runner_a.summary.lease_lost == 1
        assert runner_a.summary.total == 0
        assert read_jsonl(out / "results-a.jsonl") == []
        stream_key = op_key(job_a.idempotency_key, OpType.STREAM.value, _stream_url(events_a))
        op = ledger_b.get_op(stream_key)
        assert op is not None and op.status is OpStatus.STARTED, "A could not finish the op"
        after = [e.type for e in events_a[_index_of_stream_start(events_a) :]]
        assert EventType.JOB_STATE_CHANGED not in after and EventType.JOB_FINISHED not in after
        row = ledger_b.job(job_a.job_id)
        assert row is not None
        assert (row.state, row.lease_owner, row.lease_epoch) == (
            State.STREAMING,
            runner_b.owner,
            job_b.lease_epoch,
        )
        assert not list((out / "store" / "sha256").rglob("*.*")), "A committed a blob"

        # B owns the job now and finishes it exactly once.
        await runner_b._run_job(job_b)
        done = ledger_b.job(job_a.job_id)
        assert done is not None and done.state is State.INDEXED, done
        lines = read_jsonl(out / "results-b.jsonl")
        assert [r["status"] for r in lines] == ["downloaded"]
        blob = out / "store" / "sha256" / done.sha256[:2] / f"{done.sha256}.{done.format}"
        assert hashlib.sha256(blob.read_bytes()).hexdigest() == done.sha256
        assert runner_b.summary.lease_lost == 0
    finally:
        await runner_a.cascade.http.aclose()
        await runner_b.cascade.http.aclose()
        ledger_a.close()
        ledger_b.close()


def _index_of_stream_start(events: list[Event]) -> int:
    return next(
        i
        for i, e in enumerate(events)
        if e.type == EventType.OPERATION_STARTED and e.fields.get("op") == "STREAM"
    )


def _stream_url(events: list[Event]) -> str:
    return str(events[_index_of_stream_start(events)].fields["ctx"])


@pytest.mark.parametrize("backend", ["sqlite", "postgres"])
def test_replayed_done_op_is_not_a_lost_lease(
    backend: str, tmp_path: Path, request: pytest.FixtureRequest
) -> None:
    target = (
        request.getfixturevalue("pg_url") if backend == "postgres" else tmp_path / "l.sqlite3"
    )
    ledger = open_ledger(target)
    try:
        ledger.plan([("k1", {"doi": "10.1/x"})])
        (a,) = ledger.claim("A", 30)
        key = op_key(a.idempotency_key, OpType.STREAM.value, "https://h/x.pdf")
        assert ledger.start_op(a.lease, key, OpType.STREAM)
        assert ledger.finish_op(a.lease, key, OpStatus.DONE, "ok", {"sha256": "1" * 64})
        # The holder replays the op and finishes it done again: success, first result kept.
        assert ledger.finish_op(a.lease, key, OpStatus.DONE, "ok", {"sha256": "2" * 64})
        op = ledger.get_op(key)
        assert op is not None and op.result == {"sha256": "1" * 64}
        # Once the job is released, the same call is a lost lease again.
        assert ledger.release(a.lease)
        assert not ledger.finish_op(a.lease, key, OpStatus.DONE, "ok", {"sha256": "3" * 64})
    finally:
        ledger.close()
