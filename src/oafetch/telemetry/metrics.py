"""Prometheus metrics (DESIGN §9): the event stream counted into a dedicated registry.

Why a sink and not calls sprinkled through the code: the events already say everything that
happened, so metrics are one more subscriber of the Emitter — nothing in the pipeline knows
Prometheus exists, and a metrics bug can only disable this sink, never fail a job.

Why a dedicated `CollectorRegistry`: several runs (tests, the Python API) may live in one
process; the global registry would refuse the second set of metric names.

Label cardinality: `host` is bounded by the hosts a run talks to (tens, not millions);
no metric is labelled by URL, work or job.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from threading import Thread
from typing import Any
from wsgiref.simple_server import WSGIServer

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, start_http_server
from prometheus_client.core import GaugeMetricFamily, Metric

from .events import Emitter, Event, EventType

__all__ = [
    "BREAKER_LEVELS",
    "LedgerStateCollector",
    "MetricsServer",
    "MetricsSink",
    "install_metrics",
    "start_metrics_server",
]

# Seconds: HTTP requests span from a cached answer (<1 ms) to a slow 200 MB PDF (minutes).
_HTTP_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0, 300.0)
_CLAIM_BUCKETS = (0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 5.0)
_TTFP_BUCKETS = (0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0, 120.0, 300.0, 900.0)

# A gauge needs a number: closed is healthy, half-open is probing, open refuses requests.
BREAKER_LEVELS: Mapping[str, float] = {"closed": 0.0, "half_open": 1.0, "open": 2.0}


def _label(value: Any, default: str = "none") -> str:
    return default if value is None or value == "" else str(value)


class MetricsSink:
    """An Emitter sink: each event updates counters, histograms and gauges in `registry`."""

    def __init__(self, registry: CollectorRegistry) -> None:
        self.registry = registry
        r = registry
        self.events = Counter("oafetch_events", "Events emitted, by type.", ["type"], registry=r)
        self.jobs = Counter(
            "oafetch_jobs_finished", "Jobs finished, by status, outcome class and winning source.",
            ["status", "outcome_class", "source"], registry=r,
        )
        self.stored_bytes = Counter(
            "oafetch_artifact_bytes", "Bytes of artifacts stored (dedupes excluded), by format.",
            ["format"], registry=r,
        )
        self.artifacts = Counter(
            "oafetch_artifacts_stored", "Artifacts committed to the store, by format and dedupe.",
            ["format", "deduped"], registry=r,
        )
        self.attempts = Counter(
            "oafetch_attempts", "Download attempts, by source and failure class ('ok' on success).",
            ["source", "result"], registry=r,
        )
        self.requests = Counter(
            "oafetch_http_requests",
            "HTTP requests, by host, role and status ('error': no answer).",
            ["host", "role", "status"], registry=r,
        )
        self.http_bytes = Counter(
            "oafetch_http_bytes", "Response bytes received, by host and role.", ["host", "role"],
            registry=r,
        )
        self.latency = Histogram(
            "oafetch_http_request_duration_seconds", "HTTP request latency (cache hits excluded).",
            ["host", "role"], buckets=_HTTP_BUCKETS, registry=r,
        )
        self.rate_wait = Counter(
            "oafetch_rate_limit_wait_seconds", "Time spent waiting for a host's rate limit.",
            ["host"], registry=r,
        )
        self.rate_limited = Counter(
            "oafetch_rate_limited", "Answers asking us to slow down (429/503 + Retry-After).",
            ["host"], registry=r,
        )
        self.breaker = Gauge(
            "oafetch_breaker_state", "Circuit breaker per host: 0 closed, 1 half-open, 2 open.",
            ["host"], registry=r,
        )
        self.renewals = Counter(
            "oafetch_lease_renewals", "Lease heartbeats that succeeded.", registry=r,
        )
        self.releases = Counter(
            "oafetch_lease_releases", "Leases given up, by reason.", ["reason"], registry=r,
        )
        self.claim = Histogram(
            "oafetch_lease_claim_seconds", "Time of one claim statement (lease acquisition).",
            buckets=_CLAIM_BUCKETS, registry=r,
        )
        self.replays = Counter(
            "oafetch_idempotency_replays", "Ops answered from the ledger instead of re-run.",
            ["op"], registry=r,
        )
        self.recoveries = Counter(
            "oafetch_crash_recoveries", "Reconciler repairs, by kind.", ["kind"], registry=r,
        )
        self.ttfp = Histogram(
            "oafetch_time_to_first_pdf_seconds", "From a job's lease to its PDF being stored.",
            buckets=_TTFP_BUCKETS, registry=r,
        )
        self._leased_at: dict[int, float] = {}

    def __call__(self, event: Event) -> None:
        f = event.fields
        self.events.labels(event.type).inc()
        handler = self._handlers.get(event.type)
        if handler is not None:
            handler(self, event, f)

    # -- one handler per event type ---------------------------------------------------------

    def _job_leased(self, event: Event, f: Mapping[str, Any]) -> None:
        if isinstance(f.get("claim_ms"), int | float):
            self.claim.observe(float(f["claim_ms"]) / 1000.0)
        if event.job_id is not None:
            self._leased_at[event.job_id] = event.ts

    def _job_finished(self, event: Event, f: Mapping[str, Any]) -> None:
        self.jobs.labels(_label(f.get("status")), _label(f.get("failure_class")),
                         _label(f.get("source"))).inc()
        if event.job_id is not None:
            self._leased_at.pop(event.job_id, None)

    def _artifact_stored(self, event: Event, f: Mapping[str, Any]) -> None:
        fmt = _label(f.get("format"))
        deduped = bool(f.get("deduped"))
        self.artifacts.labels(fmt, "true" if deduped else "false").inc()
        if not deduped:
            self.stored_bytes.labels(fmt).inc(max(0, int(f.get("size") or 0)))
        start = self._leased_at.get(event.job_id) if event.job_id is not None else None
        if fmt == "pdf" and start is not None:
            self.ttfp.observe(max(0.0, event.ts - start))

    def _attempt_finished(self, event: Event, f: Mapping[str, Any]) -> None:
        result = "ok" if f.get("ok") else _label(f.get("failure_class"), "failed")
        self.attempts.labels(_label(f.get("source")), result).inc()

    def _http_request(self, event: Event, f: Mapping[str, Any]) -> None:
        host, role = _label(f.get("host")), _label(f.get("role"))
        status = f.get("status")
        self.requests.labels(host, role, "error" if status is None else str(status)).inc()
        self.http_bytes.labels(host, role).inc(max(0, int(f.get("bytes") or 0)))
        if not f.get("from_cache") and isinstance(f.get("ms"), int | float):
            self.latency.labels(host, role).observe(float(f["ms"]) / 1000.0)
        wait = f.get("rate_wait_ms")
        if isinstance(wait, int | float) and wait > 0:
            self.rate_wait.labels(host).inc(float(wait) / 1000.0)

    def _rate_limited(self, event: Event, f: Mapping[str, Any]) -> None:
        self.rate_limited.labels(_label(f.get("host"))).inc()

    def _breaker_transition(self, event: Event, f: Mapping[str, Any]) -> None:
        level = BREAKER_LEVELS.get(str(f.get("to_state")))
        if level is not None:
            self.breaker.labels(_label(f.get("host"))).set(level)

    def _lease_renewed(self, event: Event, f: Mapping[str, Any]) -> None:
        self.renewals.inc()

    def _lease_released(self, event: Event, f: Mapping[str, Any]) -> None:
        self.releases.labels(_label(f.get("reason"))).inc()

    def _replay(self, event: Event, f: Mapping[str, Any]) -> None:
        self.replays.labels(_label(f.get("op"))).inc()

    def _crash_recovery(self, event: Event, f: Mapping[str, Any]) -> None:
        for kind, n in f.items():
            if isinstance(n, int) and n > 0:
                self.recoveries.labels(kind).inc(n)

    _handlers: Mapping[str, Callable[[MetricsSink, Event, Mapping[str, Any]], None]] = {
        EventType.JOB_LEASED: _job_leased,
        EventType.JOB_FINISHED: _job_finished,
        EventType.ARTIFACT_STORED: _artifact_stored,
        EventType.ATTEMPT_FINISHED: _attempt_finished,
        EventType.HTTP_REQUEST: _http_request,
        EventType.RATE_LIMITED: _rate_limited,
        EventType.BREAKER_TRANSITION: _breaker_transition,
        EventType.LEASE_RENEWED: _lease_renewed,
        EventType.LEASE_RELEASED: _lease_released,
        EventType.IDEMPOTENCY_REPLAY: _replay,
        EventType.CRASH_RECOVERY: _crash_recovery,
    }


class LedgerStateCollector:
    """`oafetch_jobs{state=…}` read from the ledger at scrape time.

    Why at scrape time: the ledger is the truth for queue depth (other workers, other
    machines change it); counting it from our own events would only show our share.
    `counts` is typically `ledger.counts`; a failing ledger yields no sample, not an error page.
    """

    def __init__(self, counts: Callable[[], Mapping[Any, int]]) -> None:
        self._counts = counts

    def collect(self) -> Iterable[Metric]:
        family = GaugeMetricFamily(
            "oafetch_jobs", "Jobs in the ledger, by state.", labels=["state"]
        )
        try:
            counts = self._counts()
        except Exception:  # the scrape must answer even while the database is away
            counts = {}
        for state, n in sorted(counts.items(), key=lambda kv: str(kv[0])):
            family.add_metric([str(getattr(state, "value", state))], float(n))
        yield family


@dataclass(slots=True)
class MetricsServer:
    """A running `/metrics` endpoint; `close()` stops it."""

    server: WSGIServer
    thread: Thread
    registry: CollectorRegistry

    @property
    def port(self) -> int:
        return int(self.server.server_port)

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()
        self.thread.join(timeout=5)


def start_metrics_server(
    port: int, registry: CollectorRegistry, *, addr: str = "127.0.0.1"
) -> MetricsServer:
    """Serve `registry` on http://addr:port/metrics from a daemon thread (port 0: any free)."""
    server, thread = start_http_server(port, addr=addr, registry=registry)
    return MetricsServer(server, thread, registry)


def install_metrics(
    emitter: Emitter,
    port: int | None,
    *,
    ledger_counts: Callable[[], Mapping[Any, int]] | None = None,
    addr: str = "127.0.0.1",
) -> tuple[MetricsSink, MetricsServer | None]:
    """Wire metrics into a run: a fresh registry, the sink on `emitter`, a server if `port`."""
    registry = CollectorRegistry()
    sink = MetricsSink(registry)
    emitter.add_sink(sink)
    if ledger_counts is not None:
        registry.register(LedgerStateCollector(ledger_counts))
    server = start_metrics_server(port, registry, addr=addr) if port is not None else None
    return sink, server
