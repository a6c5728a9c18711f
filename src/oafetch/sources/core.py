"""CORE (aggregator of repository full texts) v3 search: a download URL for a DOI.

`GET {base}/v3/search/works?q=doi:"…"&limit=5` with `Authorization: Bearer {api_key}` →
`{"totalHits": n, "results": [{"id", "doi", "title", "downloadUrl", "sourceFulltextUrls"
[...]}]}`. CORE refuses anonymous calls, so the source declares `requires_api_key` and
the cascade skips it (with one notice) when no key is configured. NO real recording of
this API exists: the parser follows CORE's documented v3 shape only.
"""

from __future__ import annotations

from typing import Any

from ..ids import WorkIds
from ..net.client import Role
from ._util import (
    as_dict,
    as_list,
    as_str,
    dedupe,
    ensure_ok,
    json_body,
    looks_like_pdf_url,
    norm_doi,
    not_found,
)
from .base import Candidate, HostType, Kind, SourceContext, SourceResult

NAME = "core"


def parse_search(payload: Any, doi: str) -> SourceResult:
    results = [as_dict(r) for r in as_list(as_dict(payload).get("results"))]
    # CORE's search is fuzzy: keep only works whose DOI is ours (or that carry none).
    results = [r for r in results if norm_doi(r.get("doi")) in (doi.lower(), None)]
    if not results:
        return not_found(NAME)
    candidates: list[Candidate] = []
    for work in results:
        download = as_str(work.get("downloadUrl"))
        if download:
            candidates.append(
                Candidate(
                    download, Kind.PDF, NAME, "core.download_url", host_type=HostType.REPOSITORY
                )
            )
        for url in (as_str(u) for u in as_list(work.get("sourceFulltextUrls"))):
            if url:
                kind = Kind.PDF if looks_like_pdf_url(url) else Kind.LANDING
                candidates.append(
                    Candidate(
                        url, kind, NAME, "core.source_fulltext_url", host_type=HostType.REPOSITORY
                    )
                )
    return SourceResult(
        source=NAME,
        candidates=dedupe(candidates),
        title=as_str(results[0].get("title")),
        is_oa=True if candidates else None,
    )


class CoreSource:
    name = NAME
    requires_api_key = True

    def applies(self, work: WorkIds) -> bool:
        return work.doi is not None

    async def resolve(self, work: WorkIds, ctx: SourceContext) -> SourceResult:
        if work.doi is None or not ctx.settings.api_key:
            return not_found(NAME)
        base = ctx.settings.base_url.rstrip("/")
        response = await ctx.http.get(
            f"{base}/v3/search/works",
            role=Role.METADATA,
            params={"q": f'doi:"{work.doi}"', "limit": "5"},
            headers={"Authorization": f"Bearer {ctx.settings.api_key}"},
        )
        if not ensure_ok(response, NAME):
            return not_found(NAME)
        return parse_search(json_body(response, NAME), work.doi)


SOURCE = CoreSource()
