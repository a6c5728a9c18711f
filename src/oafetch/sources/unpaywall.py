"""Unpaywall: every `oa_locations[]` entry for a DOI (DESIGN §3).

Why it needs a contact email: Unpaywall refuses anonymous calls (``?email=`` is part of its
terms), so without `ctx.mailto` the source is skipped; `requires_mailto` lets the cascade
skip it with one notice instead of one failure per work.

Each location yields ``url_for_pdf`` as a pdf candidate and ``url_for_landing_page`` as a
landing candidate, with its version, host_type and licence; Unpaywall's `evidence` and
repository details go into `extra` as provenance. Older data-standard records that only
carry `url` still give one (landing) candidate. `oa_locations_embargoed` is ignored: those
copies are not readable yet.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any
from urllib.parse import quote

from ..errors import InvalidIdentifier, TransientNetError
from ..ids import WorkIds, normalize_arxiv, normalize_pmcid, parse_identifier
from ..net.client import Role
from ..net.urls import canonical_url
from ._util import ensure_ok
from .base import Candidate, HostType, Kind, SourceContext, SourceResult, Version

__all__ = ["SOURCE", "UnpaywallSource", "parse_work"]

NAME = "unpaywall"
_EXTRA_KEYS = ("evidence", "is_best", "repository_institution", "pmh_id", "endpoint_id", "oa_date")


def _host_type(value: Any) -> HostType:
    if value == "publisher":
        return HostType.PUBLISHER
    if value == "repository":
        return HostType.REPOSITORY
    return HostType.UNKNOWN


def _locations(data: Mapping[str, Any]) -> Iterator[Mapping[str, Any]]:
    best = data.get("best_oa_location")
    if isinstance(best, Mapping):
        yield best
    for loc in data.get("oa_locations") or []:
        if isinstance(loc, Mapping):
            yield loc


def _ids_in(url: Any) -> WorkIds:
    """arXiv and PMC copies name their work's other ids in the URL itself."""
    if not isinstance(url, str):
        return WorkIds()
    lowered = url.lower()
    try:
        if "arxiv.org/" in lowered:
            return WorkIds(arxiv=normalize_arxiv(url))
        if "/pmc/articles/pmc" in lowered or "europepmc.org/articles/pmc" in lowered:
            return WorkIds(pmcid=normalize_pmcid(url))
    except InvalidIdentifier:
        pass
    return WorkIds()


def parse_work(data: Mapping[str, Any]) -> SourceResult:
    """A `/v2/{doi}` JSON object → candidates, ids, title and OA status (pure)."""
    candidates: list[Candidate] = []
    seen: set[str] = set()

    def add(url: Any, kind: Kind, technique: str, loc: Mapping[str, Any]) -> None:
        if not isinstance(url, str) or not url.strip():
            return
        key = canonical_url(url)
        if key in seen:
            return
        seen.add(key)
        extra = {k: loc[k] for k in _EXTRA_KEYS if loc.get(k) is not None}
        candidates.append(
            Candidate(
                url=url.strip(),
                kind=kind,
                source=NAME,
                technique=technique,
                version=Version.parse(loc.get("version")),
                host_type=_host_type(loc.get("host_type")),
                license=loc.get("license"),
                extra=extra,
            )
        )

    found_ids = WorkIds()
    for loc in _locations(data):
        pdf, landing = loc.get("url_for_pdf"), loc.get("url_for_landing_page")
        found_ids = found_ids.merged(_ids_in(landing)).merged(_ids_in(pdf))
        add(pdf, Kind.PDF, f"{NAME}.url_for_pdf", loc)
        add(landing, Kind.LANDING, f"{NAME}.url_for_landing_page", loc)
        if not pdf and not landing:
            add(loc.get("url"), Kind.LANDING, f"{NAME}.url", loc)

    ids = WorkIds()
    doi = data.get("doi")
    if isinstance(doi, str):
        try:
            ids = parse_identifier(doi)
        except InvalidIdentifier:
            ids = WorkIds()
    ids = ids.merged(found_ids)
    title = data.get("title")
    is_oa = data.get("is_oa")
    return SourceResult(
        source=NAME,
        candidates=candidates,
        ids=ids,
        title=title if isinstance(title, str) else None,
        is_oa=is_oa if isinstance(is_oa, bool) else None,
        found=True,
    )


class UnpaywallSource:
    name = NAME
    # Unpaywall's terms require ?email=; the cascade skips this source without ctx.mailto.
    requires_mailto = True

    def applies(self, work: WorkIds) -> bool:
        return bool(work.doi)

    async def resolve(self, work: WorkIds, ctx: SourceContext) -> SourceResult:
        if not work.doi or not ctx.mailto:
            return SourceResult(source=NAME, found=False)
        url = f"{ctx.settings.base_url.rstrip('/')}/v2/{quote(work.doi, safe='/:')}"
        response = await ctx.http.get(url, role=Role.METADATA, params={"email": ctx.mailto})
        if not ensure_ok(response, NAME):
            return SourceResult(source=NAME, found=False)
        try:
            data = response.json()
        except ValueError as exc:
            raise TransientNetError(f"{NAME} sent a body that is not JSON: {exc}", url=url) from exc
        if not isinstance(data, Mapping):
            raise TransientNetError(f"{NAME} sent JSON that is not an object", url=url)
        return parse_work(data)


SOURCE = UnpaywallSource()
