"""Which sources exist, by name. Each module in `sources/` exposes `SOURCE`."""

from __future__ import annotations

import importlib
from functools import cache

from .base import Source

# Order is irrelevant here; tiers (config `[fallback]`) decide when each runs.
SOURCE_MODULES: tuple[str, ...] = (
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
    "landing",
    "wayback",
)


@cache
def all_sources() -> dict[str, Source]:
    found: dict[str, Source] = {}
    for module_name in SOURCE_MODULES:
        module = importlib.import_module(f"{__package__}.{module_name}")
        source: Source = module.SOURCE
        found[source.name] = source
    return found
