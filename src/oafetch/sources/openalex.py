"""OpenAlex: one singleton call per work names every OA location it knows (DESIGN §3).

Why every location and not only `best_oa_location`: OpenAlex's pick is often a publisher
landing page while a repository holds a direct PDF; the cascade ranks candidates itself.
Locations marked ``is_oa: false`` are skipped (they are the paywalled copies OpenAlex
already judged closed). Field names are those of the live API as recorded in
``realdata/openalex`` (``locations[].source.type``, ``version`` = ``publishedVersion`` …);
``host_venue`` / ``alternate_host_venues`` only ever appear as ``null`` in the recordings,
so they are not read.

Singletons are free; `api_key` (required since 2026-02-13 for a useful allowance) and the
polite-pool `mailto` go in the query string (the client strips both from logs).
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any
from urllib.parse import quote

from ..errors import InvalidIdentifier, TransientNetError
from ..ids import (
    WorkIds,
    normalize_arxiv,
    normalize_doi,
    normalize_openalex,
    normalize_pmcid,
    normalize_pmid,
)
from ..net.client import Role
from ..net.urls import canonical_url
from ._util import ensure_ok
from .base import Candidate, HostType, Kind, SourceContext, SourceResult, Version

__all__ = ["SOURCE", "OpenAlexSource", "parse_work", "parse_works_page", "work_path"]

NAME = "openalex"
# Where OpenAlex keeps URLs, in the order we trust them.
_LOCATION_KEYS = ("best_oa_location", "primary_location")


def work_path(work: WorkIds) -> str | None:
    """The `/works/{id}` path segment OpenAlex accepts for these ids, best id first."""
    if work.openalex:
        return work.openalex
    if work.doi:
        return "doi:" + quote(work.doi, safe="/:")
    if work.arxiv:
        # arXiv's DataCite DOI; OpenAlex indexes arXiv preprints under it.
        return "doi:" + quote(f"10.48550/arxiv.{work.arxiv}", safe="/:")
    if work.pmid:
        return f"pmid:{work.pmid}"
    if work.pmcid:
        return f"pmcid:{work.pmcid}"
    return None


def _ids_from(data: Mapping[str, Any]) -> WorkIds:
    """OpenAlex gives ids as URLs (``https://doi.org/…``, ``…/pmc/articles/5815332``)."""
    raw = data.get("ids") or {}
    if not isinstance(raw, Mapping):
        raw = {}
    values: dict[str, str | None] = {}
    readers = {
        "doi": normalize_doi,
        "pmid": normalize_pmid,
        "pmcid": normalize_pmcid,
        "openalex": normalize_openalex,
    }
    for key, read in readers.items():
        value = raw.get(key) or (data.get(key) if key == "doi" else None)
        if key == "openalex" and not value:
            value = data.get("id")
        if isinstance(value, str) and value:
            try:
                values[key] = read(value)
            except InvalidIdentifier:
                values[key] = None
    return WorkIds(**values)


def _host_type(location: Mapping[str, Any]) -> HostType:
    source = location.get("source")
    if not isinstance(source, Mapping):
        return HostType.UNKNOWN
    kind = source.get("type")
    if kind == "repository":
        return HostType.REPOSITORY
    return HostType.PUBLISHER if kind else HostType.UNKNOWN


def _locations(data: Mapping[str, Any]) -> Iterator[tuple[str, Mapping[str, Any]]]:
    for key in _LOCATION_KEYS:
        loc = data.get(key)
        if isinstance(loc, Mapping):
            yield key, loc
    for loc in data.get("locations") or []:
        if isinstance(loc, Mapping):
            yield "locations", loc


def _arxiv_in(url: str | None) -> str | None:
    if not url or "arxiv.org/" not in url:
        return None
    try:
        return normalize_arxiv(url)
    except InvalidIdentifier:
        return None


def parse_work(data: Mapping[str, Any]) -> SourceResult:
    """A `/works/{id}` JSON object → candidates, ids, title and OA status (pure)."""
    candidates: list[Candidate] = []
    seen: set[str] = set()
    arxiv: str | None = None

    def add(url: Any, kind: Kind, technique: str, loc: Mapping[str, Any]) -> None:
        if not isinstance(url, str) or not url.strip():
            return
        key = canonical_url(url)
        if key in seen:
            return
        seen.add(key)
        source = loc.get("source")
        extra = {"location": technique.split(".")[1]}
        if isinstance(source, Mapping) and source.get("display_name"):
            extra["host"] = str(source["display_name"])
        candidates.append(
            Candidate(
                url=url.strip(),
                kind=kind,
                source=NAME,
                technique=technique,
                version=Version.parse(loc.get("version")),
                host_type=_host_type(loc),
                license=loc.get("license"),
                extra=extra,
            )
        )

    for where, loc in _locations(data):
        arxiv = arxiv or _arxiv_in(loc.get("landing_page_url")) or _arxiv_in(loc.get("pdf_url"))
        if loc.get("is_oa") is False:
            continue
        add(loc.get("pdf_url"), Kind.PDF, f"{NAME}.{where}.pdf_url", loc)
        add(loc.get("landing_page_url"), Kind.LANDING, f"{NAME}.{where}.landing_page_url", loc)

    open_access = data.get("open_access")
    is_oa: bool | None = None
    if isinstance(open_access, Mapping):
        is_oa = open_access.get("is_oa") if isinstance(open_access.get("is_oa"), bool) else None
        # oa_url repeats a location's URL almost always; when it does not, it is still an
        # OpenAlex-vetted free copy of unknown kind, so it goes to the landing scraper.
        add(open_access.get("oa_url"), Kind.LANDING, f"{NAME}.open_access.oa_url", {})

    ids = _ids_from(data)
    if arxiv and not ids.arxiv:
        ids = ids.merged(WorkIds(arxiv=arxiv))
    title = data.get("title") or data.get("display_name")
    return SourceResult(
        source=NAME,
        candidates=candidates,
        ids=ids,
        title=title if isinstance(title, str) else None,
        is_oa=is_oa,
        found=True,
    )


def parse_works_page(data: Mapping[str, Any]) -> list[SourceResult]:
    """A `/works?filter=…` list page → one result per work (for batch and query inputs)."""
    results = data.get("results") or []
    return [parse_work(item) for item in results if isinstance(item, Mapping)]


class OpenAlexSource:
    name = NAME
    requires_mailto = False

    def applies(self, work: WorkIds) -> bool:
        return work_path(work) is not None

    async def resolve(self, work: WorkIds, ctx: SourceContext) -> SourceResult:
        path = work_path(work)
        if path is None:
            return SourceResult(source=NAME, found=False)
        params: dict[str, Any] = {}
        if ctx.settings.api_key:
            params["api_key"] = ctx.settings.api_key
        if ctx.mailto:
            params["mailto"] = ctx.mailto
        url = f"{ctx.settings.base_url.rstrip('/')}/works/{path}"
        response = await ctx.http.get(url, role=Role.METADATA, params=params or None)
        if not ensure_ok(response, NAME):
            return SourceResult(source=NAME, found=False)
        try:
            data = response.json()
        except ValueError as exc:
            raise TransientNetError(f"{NAME} sent a body that is not JSON: {exc}", url=url) from exc
        if not isinstance(data, Mapping):
            raise TransientNetError(f"{NAME} sent JSON that is not an object", url=url)
        return parse_work(data)


SOURCE = OpenAlexSource()
