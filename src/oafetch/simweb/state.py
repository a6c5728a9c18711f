"""Shared state of one simweb process: the world, the ports, options, counters, body cache.

Why a byte-bounded LRU for bodies: PDFs are generated lazily from the world (deterministic,
so regenerating is always correct) but generating one per request would cap throughput;
big crash-test PDFs must not pin hundreds of MB either.
"""

from __future__ import annotations

import random
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from .bodies import Blob
from .pdfgen import make_pdf
from .world import Resource, WorkSpec, World, make_title

__all__ = ["HOSTS", "Options", "SimState"]

# Every simulated host, one port each. API hosts carry the names of oafetch's sources.
HOSTS = (
    "openalex",
    "unpaywall",
    "arxiv",
    "crossref",
    "pmc",
    "europepmc",
    "semantic_scholar",
    "doaj",
    "zenodo",
    "hal",
    "core",
    "osf",
    "figshare",
    "doi",
    "wayback",
    "publisher1",
    "publisher2",
    "repository",
    "overloaded",
    "throttled",
    "faults",
)

JOURNALS = {
    "publisher1": "Journal of Simulated Results",
    "publisher2": "Simulated Letters",
    "repository": "Simulated Institutional Repository",
    "overloaded": "Journal of Overloaded Servers",
    "throttled": "Journal of Strict Rate Limits",
}


@dataclass(slots=True)
class Options:
    works: int = 40
    seed: int = 0
    profile: str = "demo"
    dir: Path = Path(".")
    pdf_min_bytes: int = 8_000
    pdf_max_bytes: int = 60_000
    throttle_bps: float | None = None
    big_pdf_bytes: int = 20_000_000
    robots_5xx: bool = False
    cache_bytes: int = 256 * 1024 * 1024


@dataclass(slots=True)
class SimState:
    world: World
    opts: Options
    ports: dict[str, int] = field(default_factory=dict)
    counters: dict[str, int] = field(default_factory=dict)
    flush: Callable[[], None] | None = None
    _cache: OrderedDict[object, Blob] = field(default_factory=OrderedDict)
    _cache_size: int = 0

    def url(self, host: str, path: str) -> str:
        return f"http://127.0.0.1:{self.ports[host]}{path}"

    def host_of_port(self, port: int) -> str | None:
        for name, p in self.ports.items():
            if p == port:
                return name
        return None

    def hit(self, key: str) -> int:
        """Count a request against `key`; returns how many came before this one."""
        n = self.counters.get(key, 0)
        self.counters[key] = n + 1
        return n

    def reset(self) -> None:
        self.counters.clear()

    def cached(self, key: object, make: Callable[[], Blob]) -> Blob:
        blob = self._cache.get(key)
        if blob is not None:
            self._cache.move_to_end(key)
            return blob
        blob = make()
        self._cache[key] = blob
        self._cache_size += len(blob.data)
        while self._cache_size > self.opts.cache_bytes and len(self._cache) > 1:
            _, old = self._cache.popitem(last=False)
            self._cache_size -= len(old.data)
        return blob

    # --- artifacts of works --------------------------------------------------------------

    def mtime(self, spec: WorkSpec) -> float:
        return 1_600_000_000.0 + spec.sim.index * 3600.0 + self.world.seed * 17.0

    def pdf(self, res: Resource) -> Blob:
        """The PDF a resource serves (cached); deterministic in (world, resource)."""
        spec = self.world.works[res.work]
        variant = res.variant
        key: object = ("pdf", res.work, variant)
        if (
            variant == "dup"
            and res.partner is not None
            and 0 <= res.partner < len(self.world.works)
        ):
            key = ("pdf-dup", min(res.work, res.partner), max(res.work, res.partner))
        return self.cached(
            key, lambda: Blob(self._make_pdf(spec, res), "application/pdf", self.mtime(spec))
        )

    def _make_pdf(self, spec: WorkSpec, res: Resource) -> bytes:
        seed = self.world.seed * 1_000_003 + spec.sim.index
        ident = spec.doi
        body = None
        if spec.doi is None and "arxiv" in spec.sim.ids:
            body = (
                f"arXiv:{spec.sim.ids['arxiv']} This preprint is part of a simulated "
                "scholarly web. Introduction. Methods. Results. Discussion. References. "
            ) * 2
        if res.variant == "truncated":
            full = make_pdf(spec.sim.title, ident, pages=3, size=spec.size, seed=seed)
            return full[: int(len(full) * 0.6)]
        if res.variant == "other":
            other_title = make_title(random.Random(f"other:{seed}"), 100_000 + spec.sim.index)
            return make_pdf(
                other_title,
                f"10.5555/other.{self.world.seed}.{spec.sim.index}",
                pages=3,
                size=spec.size,
                seed=seed + 7,
            )
        if res.variant == "abstract":
            return make_pdf(
                spec.sim.title,
                ident,
                pages=1,
                size=2_500,
                seed=seed,
                body=(
                    "Abstract. A short summary of the study. The full text of this article is "
                    "available to subscribers only."
                ),
            )
        if (
            res.variant == "dup"
            and res.partner is not None
            and 0 <= res.partner < len(self.world.works)
        ):
            a, b = sorted((spec.sim.index, res.partner))
            wa, wb = self.world.works[a], self.world.works[b]
            text = (
                f"This article is also published as: {wb.sim.title} https://doi.org/{wb.doi} "
                "Introduction. Methods. Results. Discussion. References. "
            )
            return make_pdf(
                wa.sim.title,
                wa.doi,
                pages=3,
                size=wa.size,
                seed=self.world.seed * 1_000_003 + a,
                body=text,
            )
        return make_pdf(spec.sim.title, ident, pages=3, size=spec.size, seed=seed, body=body)
