"""The tiered fallback orchestrator (DESIGN §4).

For one work: run each tier's sources (at most `parallel` at once), merge and rank their
candidates, try them (at most `max_concurrent` downloads at once), and stop at the first
validated artifact of the most wanted format, cancelling everything else still running for
that work. Budgets (total time, download attempts started) never raise: a spent budget ends
the work with the most informative failure class seen, or `budget_exhausted`.

Every side effect that costs a request is journalled (`Journal`): a source's answer
(`RESOLVE`) and a completed, validated download (`STREAM`) are replayed on a later attempt
instead of being asked again. The journal is the ledger in normal runs and a no-op with
`--disable-idempotency`.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, Protocol

from .config import Config, TierConfig
from .errors import (
    CircuitOpen,
    DownloadDeadline,
    DownloadTooLarge,
    NetError,
    PolicySkip,
    RateLimited,
    RedirectPathology,
    TransientNetError,
)
from .fetch.classify import BodyKind, classify
from .fetch.download import DownloadResult, download
from .fetch.validate import Verdict, validate_file
from .ids import WorkIds
from .ledger.base import OpType, State
from .net.client import HttpClient
from .net.urls import canonical_url
from .outcomes import FailureClass, Format
from .sources.base import (
    Candidate,
    HostType,
    Kind,
    Source,
    SourceContext,
    SourceResult,
    SourceSettings,
    Version,
)
from .store import Store
from .telemetry.events import EventType

__all__ = [
    "Attempt",
    "Cascade",
    "CascadeResult",
    "Journal",
    "NullJournal",
    "Winner",
    "candidate_from_dict",
    "candidate_to_dict",
    "classify_exception",
    "rank_candidates",
]

# Sources the cascade drives itself instead of calling `resolve(work)`.
LANDING = "landing"
WAYBACK = "wayback"

_KIND_FORMAT = {Kind.PDF: Format.PDF, Kind.XML: Format.XML, Kind.HTML: Format.HTML}
_VERSION_RANK = {
    Version.PUBLISHED: 0,
    Version.ACCEPTED: 1,
    Version.SUBMITTED: 2,
    Version.UNKNOWN: 3,
}
_HOST_RANK = {HostType.PUBLISHER: 0, HostType.REPOSITORY: 1, HostType.UNKNOWN: 2}


class Journal(Protocol):
    """Where the cascade records and replays its side effects (the op ledger)."""

    def replay(self, op_type: OpType, ctx: str) -> dict[str, Any] | None: ...

    def started(self, op_type: OpType, ctx: str) -> None: ...

    def done(self, op_type: OpType, ctx: str, result: dict[str, Any], code: str = "ok") -> None: ...

    def failed(
        self, op_type: OpType, ctx: str, code: str, result: dict[str, Any] | None = None
    ) -> None: ...

    def state(self, to_state: State, **fields: Any) -> None: ...

    def check(self) -> None:
        """Raise LeaseLost unless the job is still ours (before deleting shared files)."""
        ...


class NullJournal:
    """The journal of `--disable-idempotency`: remembers nothing, writes nothing."""

    def replay(self, op_type: OpType, ctx: str) -> dict[str, Any] | None:
        return None

    def started(self, op_type: OpType, ctx: str) -> None:
        return None

    def done(self, op_type: OpType, ctx: str, result: dict[str, Any], code: str = "ok") -> None:
        return None

    def failed(
        self, op_type: OpType, ctx: str, code: str, result: dict[str, Any] | None = None
    ) -> None:
        return None

    def state(self, to_state: State, **fields: Any) -> None:
        return None

    def check(self) -> None:
        return None


def candidate_to_dict(c: Candidate) -> dict[str, Any]:
    return {
        "url": c.url,
        "kind": c.kind.value,
        "source": c.source,
        "technique": c.technique,
        "version": c.version.value,
        "host_type": c.host_type.value,
        "license": c.license,
        "also_from": list(c.also_from),
        "extra": dict(c.extra),
    }


def candidate_from_dict(d: dict[str, Any]) -> Candidate:
    return Candidate(
        url=d["url"],
        kind=Kind(d["kind"]),
        source=d["source"],
        technique=d["technique"],
        version=Version(d.get("version", "unknown")),
        host_type=HostType(d.get("host_type", "unknown")),
        license=d.get("license"),
        also_from=tuple(d.get("also_from", ())),
        extra=d.get("extra") or {},
    )


def _result_to_dict(r: SourceResult) -> dict[str, Any]:
    return {
        "source": r.source,
        "candidates": [candidate_to_dict(c) for c in r.candidates],
        "ids": r.ids.as_dict(),
        "title": r.title,
        "is_oa": r.is_oa,
        "found": r.found,
    }


def _result_from_dict(d: dict[str, Any]) -> SourceResult:
    return SourceResult(
        source=d["source"],
        candidates=[candidate_from_dict(c) for c in d.get("candidates", [])],
        ids=WorkIds.from_dict(d.get("ids") or {}),
        title=d.get("title"),
        is_oa=d.get("is_oa"),
        found=bool(d.get("found", True)),
    )


def classify_exception(exc: BaseException) -> FailureClass:
    """Map a network exception to exactly one failure class (DESIGN §8)."""
    if isinstance(exc, PolicySkip):
        return FailureClass.POLICY_SKIP
    if isinstance(exc, RateLimited):
        return FailureClass.RATE_LIMITED
    if isinstance(exc, RedirectPathology):
        return FailureClass.REDIRECT_PATHOLOGY
    if isinstance(exc, DownloadTooLarge):
        return FailureClass.POLICY_SKIP
    if isinstance(exc, CircuitOpen | DownloadDeadline | TransientNetError):
        return FailureClass.TRANSIENT
    if isinstance(exc, NetError):
        status = exc.status or 0
        if exc.head:
            kind = classify(exc.head, url=exc.url)
            if kind is BodyKind.BOT_WALL:
                return FailureClass.BOT_WALL
            if kind is BodyKind.LOGIN:
                return FailureClass.LOGIN_OR_PAYWALL
        if status == 429:
            return FailureClass.RATE_LIMITED
        if status in (401, 402, 403, 407, 451):
            return FailureClass.LOGIN_OR_PAYWALL
        if 400 <= status < 500:
            return FailureClass.LINK_DEAD
        return FailureClass.TRANSIENT
    return FailureClass.TRANSIENT


def rank_candidates(
    candidates: Iterable[Candidate],
    prefer: Sequence[Format],
    source_yield: Callable[[str], float] | None = None,
) -> list[Candidate]:
    """Order by kind (per --prefer), version, host type, source yield, then order found."""
    pref = {fmt: i for i, fmt in enumerate(prefer)}
    yield_of = source_yield or (lambda _s: 0.0)
    indexed = list(enumerate(candidates))

    def key(item: tuple[int, Candidate]) -> tuple[float, ...]:
        order, c = item
        fmt = _KIND_FORMAT.get(c.kind)
        kind_rank = pref.get(fmt, len(pref)) if fmt is not None else len(pref) + 1
        return (
            kind_rank,
            _VERSION_RANK[c.version],
            _HOST_RANK[c.host_type],
            -yield_of(c.source),
            order,
        )

    return [c for _, c in sorted(indexed, key=key)]


def merge_candidates(existing: list[Candidate], new: Iterable[Candidate]) -> list[Candidate]:
    """One candidate per canonical URL; later proposers are recorded in `also_from`."""
    by_url = {canonical_url(c.url): i for i, c in enumerate(existing)}
    out = list(existing)
    for c in new:
        key = canonical_url(c.url)
        if key in by_url:
            i = by_url[key]
            old = out[i]
            if c.source != old.source and c.source not in old.also_from:
                out[i] = replace(
                    old, license=old.license or c.license, also_from=(*old.also_from, c.source)
                )
        else:
            by_url[key] = len(out)
            out.append(c)
    return out


@dataclass(frozen=True, slots=True)
class Attempt:
    """One try to turn a candidate into an artifact."""

    candidate: Candidate
    ok: bool
    failure: FailureClass | None = None
    reason: str = ""
    status: int | None = None
    bytes: int = 0
    ms: float = 0.0
    download: DownloadResult | None = None
    verdict: Verdict | None = None


@dataclass(frozen=True, slots=True)
class Winner:
    candidate: Candidate
    download: DownloadResult
    verdict: Verdict
    tier: str


@dataclass(slots=True)
class CascadeResult:
    ids: WorkIds
    title: str | None
    winner: Winner | None = None
    failure: FailureClass | None = None
    reason: str = ""
    retry_at: float | None = None
    attempts: list[Attempt] = field(default_factory=list)


@dataclass(slots=True)
class _WorkState:
    """What the cascade has learnt about one work so far."""

    ids: WorkIds
    title: str | None
    job_key: str
    journal: Journal
    job_id: int | None
    candidates: list[Candidate] = field(default_factory=list)
    tried: set[str] = field(default_factory=set)
    landing_seen: set[str] = field(default_factory=set)
    rescue_urls: list[str] = field(default_factory=list)
    failures: list[tuple[FailureClass, str]] = field(default_factory=list)
    attempts: list[Attempt] = field(default_factory=list)
    parts: set[Path] = field(default_factory=set)
    attempts_left: int = 0
    any_oa_signal: bool = False
    known_closed: bool = False
    retry_at: float | None = None
    streaming: bool = False
    held: Winner | None = None
    # `oafetch resolve` wants every source's answer, not just enough to pick a winner.
    exhaustive: bool = False

    def fail(self, cls: FailureClass, reason: str) -> None:
        self.failures.append((cls, reason))


class Cascade:
    """Runs the tiers for one work at a time; one instance serves every worker of a run."""

    def __init__(
        self,
        config: Config,
        *,
        http: HttpClient,
        store: Store,
        sources: dict[str, Source],
        emit: Callable[..., None],
        notice: Callable[[str], None] | None = None,
        source_yield: Callable[[str], float] | None = None,
    ) -> None:
        self.config = config
        self.http = http
        self.store = store
        self.sources = sources
        self.emit = emit
        self._notice = notice or (lambda _m: None)
        self._noticed: set[str] = set()
        self._source_yield = source_yield
        self._contexts: dict[str, SourceContext] = {}
        self.tiers = self._effective_tiers()

    # -- configuration -------------------------------------------------------------------

    def _effective_tiers(self) -> list[TierConfig]:
        tiers: list[TierConfig] = []
        for tier in self.config.fallback.tiers:
            names = [n for n in tier.sources if self._usable(n)]
            if names:
                tiers.append(TierConfig(name=tier.name, parallel=tier.parallel, sources=names))
        return tiers

    def _usable(self, name: str) -> bool:
        if name == WAYBACK and self.config.fallback.disable_wayback:
            return False
        if not self.config.source_active(name):
            return False
        source = self.sources.get(name)
        if source is None:
            return False
        if getattr(source, "requires_mailto", False) and not self.config.mailto:
            self._notice_once(
                name,
                f"source '{name}' skipped: it needs a contact email (--mailto or OAFETCH_MAILTO)",
            )
            return False
        if getattr(source, "requires_api_key", False) and not self._settings(name).api_key:
            self._notice_once(
                name,
                f"source '{name}' skipped: it needs an API key "
                f"(OAFETCH_SOURCE_{name.upper()}_API_KEY or [sources.{name}] api_key)",
            )
            return False
        return True

    def _notice_once(self, key: str, message: str) -> None:
        if key not in self._noticed:
            self._noticed.add(key)
            self._notice(message)

    def _settings(self, name: str) -> SourceSettings:
        cfg = self.config.source(name)
        return SourceSettings(
            base_url=cfg.base_url.rstrip("/"),
            timeout_s=cfg.timeout_s,
            api_key=cfg.api_key.get_secret_value() if cfg.api_key else None,
            enabled=cfg.enabled,
            api_url=cfg.api_url,
        )

    def context(self, name: str) -> SourceContext:
        """The context a source runs with (settings, polite client, contact) — also used by
        inputs that page a source's API, such as the OpenAlex query."""
        return self._ctx(name)

    def _ctx(self, name: str, job_id: int | None = None) -> SourceContext:
        ctx = self._contexts.get(name)
        if ctx is None:
            ctx = SourceContext(
                http=self.http,
                settings=self._settings(name),
                mailto=self.config.mailto,
                emit=self.emit,
            )
            self._contexts[name] = ctx
        if job_id is None:
            return ctx
        # Same settings, but the client tags each request's event with the job.
        return replace(ctx, http=self.http.for_job(job_id))

    # -- the cascade ---------------------------------------------------------------------

    async def run(
        self,
        ids: WorkIds,
        *,
        job_key: str,
        journal: Journal | None = None,
        job_id: int | None = None,
        title: str | None = None,
    ) -> CascadeResult:
        fb = self.config.fallback
        st = _WorkState(
            ids=ids,
            title=title,
            job_key=job_key,
            journal=journal or NullJournal(),
            job_id=job_id,
            attempts_left=fb.max_attempts,
        )
        winner: Winner | None = None
        try:
            async with asyncio.timeout(fb.total_timeout_ms / 1000):
                winner = await self._run_tiers(st)
        except TimeoutError:
            st.fail(FailureClass.BUDGET_EXHAUSTED, f"time budget of {fb.total_timeout_ms} ms spent")
            winner = st.held
        result = CascadeResult(ids=st.ids, title=st.title, winner=winner, attempts=st.attempts)
        if winner is None:
            result.failure, result.reason = self._final_failure(st)
            result.retry_at = st.retry_at
        # Parts are kept for a resume only while the work may still be tried again.
        if winner is not None or (result.failure is not None and not result.failure.retryable):
            self._cleanup_parts(st, keep=winner.download.part_path if winner else None)
        return result

    async def resolve_only(self, ids: WorkIds) -> tuple[WorkIds, str | None, list[Candidate]]:
        """Every candidate the tiers would try, ranked; nothing is downloaded or recorded.

        Landing pages are scraped (that is how their links are found); the archive tier is
        skipped, since it only answers for URLs that failed.
        """
        st = _WorkState(
            ids=ids, title=None, job_key="", journal=NullJournal(), job_id=None, exhaustive=True
        )
        for tier in self.tiers:
            if tier.sources == [WAYBACK]:
                continue
            await self._gather_tier(tier, st)
        direct = [c for c in st.candidates if c.kind is not Kind.LANDING]
        landing = [c for c in st.candidates if c.kind is Kind.LANDING]
        return (
            st.ids,
            st.title,
            rank_candidates(direct, self.config.prefer, self._source_yield) + landing,
        )

    async def _run_tiers(self, st: _WorkState) -> Winner | None:
        for tier in self.tiers:
            if st.attempts_left <= 0:
                st.fail(
                    FailureClass.BUDGET_EXHAUSTED,
                    f"{self.config.fallback.max_attempts} attempts spent",
                )
                break
            new = await self._gather_tier(tier, st)
            if not st.streaming:
                st.journal.state(State.HEAD_DONE)
            fresh = [c for c in new if canonical_url(c.url) not in st.tried]
            winner = await self._try_candidates(tier.name, fresh, st)
            if winner is not None and self._is_best(winner):
                return winner
            if winner is not None:
                st.held = winner
            if st.held is not None:
                # A lesser format already won; finish this tier's chances, don't go deeper.
                return st.held
        return st.held

    def _is_best(self, w: Winner) -> bool:
        return w.verdict.format == self.config.prefer[0]

    async def _gather_tier(self, tier: TierConfig, st: _WorkState) -> list[Candidate]:
        sem = asyncio.Semaphore(tier.parallel)
        found: list[Candidate] = []

        async def one(name: str) -> None:
            async with sem:
                if not st.exhaustive and any(self._unbeatable(c) for c in found):
                    # Nothing this source could say would rank higher: spare its API quota
                    # (sources already asking finish normally; nothing is half-journalled).
                    return
                if name == LANDING:
                    found.extend(await self._scrape_landings(st))
                elif name == WAYBACK:
                    found.extend(await self._rescue(st))
                else:
                    found.extend(await self._resolve(name, st))

        async with asyncio.TaskGroup() as tg:
            for name in tier.sources:
                tg.create_task(one(name))
        st.candidates = merge_candidates(st.candidates, found)
        return [c for c in merge_candidates([], found) if c.kind is not Kind.LANDING]

    def _unbeatable(self, c: Candidate) -> bool:
        """No candidate can rank above this one (the first three keys of rank_candidates)."""
        return (
            _KIND_FORMAT.get(c.kind) == self.config.prefer[0]
            and c.version is Version.PUBLISHED
            and c.host_type is HostType.PUBLISHER
        )

    async def _resolve(self, name: str, st: _WorkState) -> list[Candidate]:
        source = self.sources[name]
        if not source.applies(st.ids):
            return []
        t0 = time.monotonic()
        cached = st.journal.replay(OpType.RESOLVE, name)
        if cached is not None:
            result = _result_from_dict(cached)
        else:
            st.journal.started(OpType.RESOLVE, name)
            try:
                result = await source.resolve(st.ids, self._ctx(name, st.job_id))
            except NetError as exc:
                cls = classify_exception(exc)
                st.fail(cls, f"{name}: {exc}")
                if isinstance(exc, RateLimited):
                    st.retry_at = max(st.retry_at or 0.0, exc.retry_at)
                st.journal.failed(OpType.RESOLVE, name, cls.value, {"error": str(exc)})
                self.emit(
                    EventType.SOURCE_QUERIED,
                    st.job_id,
                    source=name,
                    error=cls.value,
                    ms=round((time.monotonic() - t0) * 1000, 1),
                )
                return []
            st.journal.done(OpType.RESOLVE, name, _result_to_dict(result))
        self.emit(
            EventType.SOURCE_QUERIED,
            st.job_id,
            source=name,
            replay=cached is not None,
            found=result.found,
            candidates=len(result.candidates),
            ms=round((time.monotonic() - t0) * 1000, 1),
        )
        return self._absorb(result, st)

    def _absorb(self, result: SourceResult, st: _WorkState) -> list[Candidate]:
        st.ids = st.ids.merged(result.ids)
        if st.title is None and result.title:
            st.title = result.title
        if result.is_oa:
            st.any_oa_signal = True
        if result.is_oa is False and not result.candidates:
            st.known_closed = True
        for c in result.candidates:
            st.any_oa_signal = True
            self._emit_candidate(st, c)
        return list(result.candidates)

    def _emit_candidate(self, st: _WorkState, c: Candidate) -> None:
        self.emit(
            EventType.CANDIDATE_FOUND,
            st.job_id,
            source=c.source,
            url=c.url,
            kind=c.kind.value,
            technique=c.technique,
            version=c.version.value,
        )

    async def _scrape_landings(self, st: _WorkState) -> list[Candidate]:
        from .sources import landing

        out: list[Candidate] = []
        for c in [c for c in st.candidates if c.kind is Kind.LANDING]:
            key = canonical_url(c.url)
            if key in st.landing_seen:
                continue
            st.landing_seen.add(key)
            try:
                found = await landing.scrape(c.url, self._ctx(LANDING, st.job_id))
            except NetError as exc:
                cls = classify_exception(exc)
                st.fail(cls, f"landing page {exc.url or c.url}: {exc}")
                if cls in (FailureClass.LINK_DEAD, FailureClass.BOT_WALL):
                    st.rescue_urls.append(c.url)
                continue
            if not found:
                st.fail(FailureClass.LANDING_NO_LINK, f"no full-text link on landing page {c.url}")
                if Format.HTML in self.config.prefer:
                    # The "landing page" may itself be the article's full text (Europe PMC,
                    # OJS galleys): let validation decide; a mere landing page stays
                    # landing_no_link (see _note_failure).
                    found = [
                        Candidate(
                            c.url,
                            Kind.HTML,
                            c.source,
                            "landing.self_fulltext",
                            c.version,
                            c.host_type,
                            c.license,
                            c.also_from,
                            {"landing_self": True},
                        )
                    ]
            self.emit(
                EventType.SOURCE_QUERIED,
                st.job_id,
                source=LANDING,
                url=c.url,
                candidates=len(found),
            )
            for f in found:
                self._emit_candidate(st, f)
            out.extend(found)
        return out

    async def _rescue(self, st: _WorkState) -> list[Candidate]:
        from .sources import wayback

        out: list[Candidate] = []
        for url in dict.fromkeys(st.rescue_urls):
            try:
                found = await wayback.rescue(url, self._ctx(WAYBACK, st.job_id))
            except NetError as exc:
                st.fail(classify_exception(exc), f"wayback for {url}: {exc}")
                continue
            self.emit(
                EventType.SOURCE_QUERIED, st.job_id, source=WAYBACK, url=url, candidates=len(found)
            )
            for f in found:
                self._emit_candidate(st, f)
            out.extend(found)
        return out

    async def _try_candidates(
        self, tier: str, cands: list[Candidate], st: _WorkState
    ) -> Winner | None:
        pending = rank_candidates(cands, self.config.prefer, self._source_yield)
        running: dict[asyncio.Task[Attempt], Candidate] = {}
        best_fmt = self.config.prefer[0]
        held: Winner | None = None
        try:
            while pending or running:
                while pending and len(running) < self.config.fallback.max_concurrent:
                    if st.attempts_left <= 0:
                        pending.clear()
                        st.fail(
                            FailureClass.BUDGET_EXHAUSTED,
                            f"{self.config.fallback.max_attempts} download attempts spent",
                        )
                        break
                    c = pending.pop(0)
                    key = canonical_url(c.url)
                    if key in st.tried:
                        continue
                    st.tried.add(key)
                    st.attempts_left -= 1
                    running[asyncio.create_task(self._attempt(c, st))] = c
                if not running:
                    break
                done, _ = await asyncio.wait(running, return_when=asyncio.FIRST_COMPLETED)
                for task in done:
                    running.pop(task)
                    attempt = task.result()
                    st.attempts.append(attempt)
                    if attempt.ok and attempt.download and attempt.verdict:
                        w = Winner(attempt.candidate, attempt.download, attempt.verdict, tier)
                        if attempt.verdict.format == best_fmt:
                            return w
                        if held is None or self._format_rank(w) < self._format_rank(held):
                            held = w
                    else:
                        self._note_failure(attempt, st)
            return held
        finally:
            for task in running:
                task.cancel()
            if running:
                await asyncio.gather(*running, return_exceptions=True)

    def _format_rank(self, w: Winner) -> int:
        fmt = w.verdict.format
        return (
            self.config.prefer.index(fmt) if fmt in self.config.prefer else len(self.config.prefer)
        )

    def _note_failure(self, a: Attempt, st: _WorkState) -> None:
        assert a.failure is not None
        if a.candidate.extra.get("landing_self") and a.failure is FailureClass.WRONG_TYPE:
            return  # a landing page that is not full text: landing_no_link already says it
        st.fail(a.failure, a.reason)
        if a.failure is FailureClass.BOT_WALL:
            # A wall is host-wide: give the host a rest; other candidates go on meanwhile.
            self.http.cool_down(a.candidate.url, self.config.politeness.bot_wall_cooldown_s)
        if a.failure in (
            FailureClass.LINK_DEAD,
            FailureClass.BOT_WALL,
            FailureClass.LOGIN_OR_PAYWALL,
        ):
            st.rescue_urls.append(a.candidate.url)

    async def _attempt(self, c: Candidate, st: _WorkState) -> Attempt:
        part = self.store.part_path(st.job_key, c.url)
        st.parts.add(part)
        t0 = time.monotonic()
        if not st.streaming:
            if part.exists():
                st.journal.state(State.RESUME_OK)
            st.journal.state(State.STREAMING)
            st.streaming = True
        replayed = st.journal.replay(OpType.STREAM, c.url)
        dl: DownloadResult | None = None
        reused = (
            replayed is not None and part.exists() and part.stat().st_size == replayed.get("size")
        )
        if reused:
            assert replayed is not None
            dl = DownloadResult(
                part_path=part,
                sha256=replayed["sha256"],
                size=replayed["size"],
                status=replayed.get("status", 200),
                content_type=replayed.get("content_type"),
                final_url=replayed.get("final_url", c.url),
                resumed=False,
                head=b"",
                etag=replayed.get("etag"),
                last_modified=replayed.get("last_modified"),
            )
        else:
            st.journal.started(OpType.STREAM, c.url)
            try:
                dl = await download(
                    self.http.for_job(st.job_id),
                    c.url,
                    part,
                    max_bytes=self.config.download.max_bytes,
                    deadline_s=self.config.download.deadline_s,
                )
            except NetError as exc:
                cls = classify_exception(exc)
                if isinstance(exc, RateLimited):
                    st.retry_at = max(st.retry_at or 0.0, exc.retry_at)
                status = exc.status
                reason = f"{exc.url or c.url} " + (
                    f"answered {status}" if status else f"failed: {exc}"
                )
                return self._finish(c, st, t0, ok=False, failure=cls, reason=reason, status=status)
        verdict = await asyncio.to_thread(
            validate_file, part, ids=st.ids, title=st.title, url=dl.final_url
        )
        if not verdict.ok:
            assert verdict.failure is not None
            st.journal.check()  # a worker that lost the job must not delete the new owner's .part
            with contextlib.suppress(OSError):
                part.unlink()
            return self._finish(
                c,
                st,
                t0,
                ok=False,
                failure=verdict.failure,
                reason=f"{dl.final_url} ({dl.status}): {verdict.reason}",
                status=dl.status,
                dl=dl,
                verdict=verdict,
            )
        if not reused:  # a reused download was journalled by the attempt that made it
            st.journal.done(
                OpType.STREAM,
                c.url,
                {
                    "sha256": dl.sha256,
                    "size": dl.size,
                    "status": dl.status,
                    "url": c.url,
                    "source": c.source,
                    "final_url": dl.final_url,
                    "content_type": dl.content_type,
                    "etag": dl.etag,
                    "last_modified": dl.last_modified,
                    "format": verdict.format.value if verdict.format else None,
                },
            )
        return self._finish(c, st, t0, ok=True, status=dl.status, dl=dl, verdict=verdict)

    def _finish(
        self,
        c: Candidate,
        st: _WorkState,
        t0: float,
        *,
        ok: bool,
        failure: FailureClass | None = None,
        reason: str = "",
        status: int | None = None,
        dl: DownloadResult | None = None,
        verdict: Verdict | None = None,
    ) -> Attempt:
        ms = round((time.monotonic() - t0) * 1000, 1)
        if not ok:
            st.journal.failed(
                OpType.STREAM, c.url, failure.value if failure else "failed", {"reason": reason}
            )
        self.emit(
            EventType.ATTEMPT_FINISHED,
            st.job_id,
            url=c.url,
            source=c.source,
            technique=c.technique,
            status=status,
            bytes=dl.size if dl else 0,
            ms=ms,
            ok=ok,
            failure_class=failure.value if failure else None,
            reason=reason or None,
        )
        return Attempt(c, ok, failure, reason, status, dl.size if dl else 0, ms, dl, verdict)

    def _final_failure(self, st: _WorkState) -> tuple[FailureClass, str]:
        if st.failures:
            cls, reason = max(st.failures, key=lambda f: f[0].severity)
            return cls, reason
        if st.known_closed and not st.candidates:
            return (
                FailureClass.NO_OA_LOCATION,
                "sources know the work and report no open-access copy",
            )
        if any(c.kind is Kind.LANDING for c in st.candidates):
            return (
                FailureClass.LANDING_NO_LINK,
                "only landing pages were found, with no full-text link",
            )
        return FailureClass.NO_OA_LOCATION, "no source knows an open-access location"

    def _cleanup_parts(self, st: _WorkState, keep: Path | None) -> None:
        """Parts of losing candidates are useless once the work is decided."""
        for part in st.parts:
            if part != keep:
                for p in (part, part.with_name(part.name + ".json")):
                    with contextlib.suppress(OSError):
                        p.unlink()
