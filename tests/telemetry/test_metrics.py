"""Prometheus metrics: a sink fed the real events of a simweb run, scraped over real HTTP."""

from __future__ import annotations

import sqlite3
from collections import Counter
from collections.abc import Iterator

import httpx
import pytest
from prometheus_client import CollectorRegistry
from prometheus_client.parser import text_string_to_metric_families

from oafetch.ledger import open_ledger
from oafetch.telemetry.events import Emitter, Event
from oafetch.telemetry.metrics import (
    BREAKER_LEVELS,
    LedgerStateCollector,
    MetricsServer,
    MetricsSink,
    install_metrics,
    start_metrics_server,
)

from .conftest import SimRun


def _samples(text: str) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    out = {}
    for fam in text_string_to_metric_families(text):
        for s in fam.samples:
            out[(s.name, tuple(sorted(s.labels.items())))] = s.value
    return out


def _sum(samples: dict, name: str, **labels: str) -> float:
    return sum(v for (n, lab), v in samples.items()
               if n == name and all(dict(lab).get(k) == val for k, val in labels.items()))


@pytest.fixture
def served(sim_run: SimRun) -> Iterator[tuple[MetricsServer, SimRun]]:
    registry = CollectorRegistry()
    sink = MetricsSink(registry)
    for e in sim_run.events:  # replay the run's real event stream into the sink
        sink(Event(e["run_id"], e["type"], e["ts"], e["job_id"], e["fields"]))
    ledger = open_ledger(sim_run.out / "ledger.sqlite3")
    registry.register(LedgerStateCollector(ledger.counts))
    server = start_metrics_server(0, registry)
    try:
        yield server, sim_run
    finally:
        server.close()
        ledger.close()


def test_scrape_counts_match_the_run(served: tuple[MetricsServer, SimRun]) -> None:
    server, run = served
    resp = httpx.get(f"http://127.0.0.1:{server.port}/metrics", timeout=10)
    assert resp.status_code == 200
    samples = _samples(resp.text)

    rows = run.results
    for status, n in Counter(r["status"] for r in rows).items():
        assert _sum(samples, "oafetch_jobs_finished_total", status=status) == n
    for cls, n in Counter(r["class"] for r in rows if r["class"]).items():
        assert _sum(samples, "oafetch_jobs_finished_total", outcome_class=cls) == n

    requests = [e for e in run.events if e["type"] == "http_request"]
    assert _sum(samples, "oafetch_http_requests_total") == len(requests)
    network = [e for e in requests if not e["fields"]["from_cache"]]
    assert _sum(samples, "oafetch_http_request_duration_seconds_count") == len(network)
    hosts = Counter(e["fields"]["host"] for e in network)
    for host, n in hosts.items():
        assert _sum(samples, "oafetch_http_request_duration_seconds_count", host=host) == n

    stored = [e for e in run.events
              if e["type"] == "artifact_stored" and not e["fields"]["deduped"]]
    assert _sum(samples, "oafetch_artifact_bytes_total") == sum(e["fields"]["size"] for e in stored)
    leases = sum(1 for e in run.events if e["type"] == "job_leased")
    assert _sum(samples, "oafetch_lease_claim_seconds_count") == leases

    # Jobs by state: read at scrape time from the ledger, compared with plain SQL.
    with sqlite3.connect(run.out / "ledger.sqlite3") as db:
        by_state = dict(db.execute("SELECT state, COUNT(*) FROM artifact_jobs GROUP BY state"))
    scraped = {dict(lab)["state"]: v for (n, lab), v in samples.items() if n == "oafetch_jobs"}
    assert {state: v for state, v in scraped.items() if v} == by_state


def test_breaker_and_rate_limit_events_reach_the_gauges() -> None:
    emitter = Emitter("r1", clock=lambda: 100.0)
    sink, server = install_metrics(emitter, 0)
    assert server is not None
    try:
        emitter.emit("breaker_transition", None, host="slow.example", from_state="closed",
                     to_state="open", failures=5)
        emitter.emit("http_request", 1, host="slow.example", role="artifact", status=429,
                     bytes=0, ms=12.0, from_cache=False, retry=0, rate_wait_ms=1500.0)
        emitter.emit("rate_limited", 1, host="slow.example", status=429)
        text = httpx.get(f"http://127.0.0.1:{server.port}/metrics", timeout=10).text
    finally:
        server.close()
    samples = _samples(text)
    assert _sum(samples, "oafetch_breaker_state", host="slow.example") == BREAKER_LEVELS["open"]
    assert _sum(samples, "oafetch_rate_limit_wait_seconds_total", host="slow.example") == 1.5
    assert _sum(samples, "oafetch_rate_limited_total", host="slow.example") == 1
    assert _sum(samples, "oafetch_http_requests_total", status="429") == 1
    assert sink.registry is server.registry


def test_a_failing_ledger_does_not_break_the_scrape() -> None:
    def broken() -> dict[str, int]:
        raise RuntimeError("database went away")

    registry = CollectorRegistry()
    registry.register(LedgerStateCollector(broken))
    server = start_metrics_server(0, registry)
    try:
        resp = httpx.get(f"http://127.0.0.1:{server.port}/metrics", timeout=10)
    finally:
        server.close()
    assert resp.status_code == 200 and "oafetch_jobs" in resp.text
