"""Budgets end a work on time, and the first validated winner cancels everything else.

The sources here are tiny test classes that only *name* candidates; every request they and
the cascade make goes through the real client to the real simweb process, whose request
log shows what the server saw (including bodies cut off by our cancellation).
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from oafetch.cascade import Cascade
from oafetch.config import load_config
from oafetch.ids import WorkIds
from oafetch.net.client import ClientSettings, HttpClient, Role
from oafetch.outcomes import FailureClass
from oafetch.simweb import SimWeb
from oafetch.sources.base import Candidate, Kind, SourceContext, SourceResult
from oafetch.store import Store
from oafetch.telemetry.events import Emitter

DOI = "10.5555/budget.1"
TITLE = "A study of budgets in fallback cascades"


@pytest.fixture(scope="module")
def web(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    with SimWeb(tmp_path_factory.mktemp("web"), works=1, seed=1, profile="slice") as w:
        yield w


class SlowSource:
    """Asks the simulated web a question it answers only after `ms` milliseconds."""

    name = "slow"

    def __init__(self, url: str) -> None:
        self.url = url

    def applies(self, work: WorkIds) -> bool:
        return True

    async def resolve(self, work: WorkIds, ctx: SourceContext) -> SourceResult:
        await ctx.http.get(self.url, role=Role.METADATA)
        return SourceResult(source=self.name)


class TwoCandidates:
    """Proposes a slow (dripping) PDF and a fast one for the same work."""

    name = "two"

    def __init__(self, slow: str, fast: str) -> None:
        self.urls = (slow, fast)

    def applies(self, work: WorkIds) -> bool:
        return True

    async def resolve(self, work: WorkIds, ctx: SourceContext) -> SourceResult:
        cands = [Candidate(u, Kind.PDF, self.name, "test") for u in self.urls]
        return SourceResult(source=self.name, candidates=cands, title=TITLE)


def _cascade(
    tmp_path: Path, sources: dict[str, Any], **fallback: Any
) -> tuple[Cascade, HttpClient]:
    cfg = load_config(
        env={},
        overrides={
            "out": tmp_path,
            "allow_private_networks": True,
            "politeness": {"rates": {"*": "1000/s"}},
            "fallback": {
                **fallback,
                "tiers": [{"name": "only", "parallel": 2, "sources": list(sources)}],
            },
            "sources": {name: {"base_url": "http://unused"} for name in sources},
        },
    )
    http = HttpClient(ClientSettings.from_config(cfg), emit=Emitter("t").emit)
    cascade = Cascade(
        cfg, http=http, store=Store(tmp_path), sources=sources, emit=lambda *a, **k: None
    )
    return cascade, http


async def test_a_source_slower_than_the_budget_ends_the_work_on_time(
    web: Any, tmp_path: Path
) -> None:
    slow = SlowSource(web.url("faults", "/delay?ms=8000&size=10"))
    cascade, http = _cascade(tmp_path, {"slow": slow}, total_timeout_ms=1000)
    t0 = time.monotonic()
    try:
        result = await cascade.run(WorkIds(doi=DOI), job_key="k1")
    finally:
        await http.aclose()
    elapsed = time.monotonic() - t0
    assert result.winner is None
    assert result.failure is FailureClass.BUDGET_EXHAUSTED
    assert 0.9 <= elapsed < 2.0, f"the 1 s budget ended the work after {elapsed:.2f}s"


async def test_the_winner_cancels_the_slow_download(web: Any, tmp_path: Path) -> None:
    size = 400_000
    slow_url = web.url("faults", f"/drip?size={size}&bps=20000")  # would take 20 s
    fast_url = web.url(
        "faults", f"/pdf?size=30000&title={TITLE.replace(' ', '+')}&doi={DOI}&seed=4"
    )
    cascade, http = _cascade(
        tmp_path,
        {"two": TwoCandidates(slow_url, fast_url)},
        max_concurrent=2,
        total_timeout_ms=30_000,
    )
    t0 = time.monotonic()
    try:
        result = await cascade.run(WorkIds(doi=DOI), job_key="k2")
    finally:
        await http.aclose()
    elapsed = time.monotonic() - t0
    assert result.winner is not None and result.winner.candidate.url == fast_url
    assert elapsed < 5, f"the cascade waited {elapsed:.1f}s for a loser"
    await asyncio.sleep(0.5)  # let the server notice the closed connection and log it
    drips = [r for r in web.requests() if r["path"] == "/drip"]
    assert drips, "the slow candidate was started in parallel"
    assert all(r["bytes"] < size for r in drips), "the losing download ran to completion"
    # Nothing of the loser is left behind: only the winner's .part waits to be committed.
    parts = list((tmp_path / "store" / "tmp").glob("*.part"))
    assert parts == [result.winner.download.part_path]
