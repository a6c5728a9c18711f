"""DOAJ article search: the full-text link a fully-OA journal registered for a DOI.

`GET {base}/api/search/articles/doi:{doi}` → `results[]`, each `{id, bibjson: {title,
identifier[] {type: "doi"|"DOI"|"eissn"…, id}, link[] {type: "fulltext", url,
content_type}}}` (same record shape in API v2, v3 and the bulk dump; see realdata/doaj).

Real records declare `content_type` "PDF" for OJS viewer pages and MDPI landing pages,
so a link becomes a PDF candidate only when its URL also looks like a PDF; otherwise it
is a landing page for the landing scraper. Every DOAJ article is OA by definition.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

from ..net.client import Role
from ._util import (
    DoiSource,
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
from .base import Candidate, HostType, Kind, SourceContext, SourceResult, Version

NAME = "doaj"


def record_doi(record: dict[str, Any]) -> str | None:
    for ident in (as_dict(x) for x in as_list(as_dict(record.get("bibjson")).get("identifier"))):
        if (as_str(ident.get("type")) or "").lower() == "doi":
            return norm_doi(ident.get("id"))
    return None


def record_candidates(record: dict[str, Any]) -> list[Candidate]:
    out: list[Candidate] = []
    for link in (as_dict(x) for x in as_list(as_dict(record.get("bibjson")).get("link"))):
        url = as_str(link.get("url"))
        if url is None or (as_str(link.get("type")) or "fulltext").lower() != "fulltext":
            continue
        declared = (as_str(link.get("content_type")) or "").lower()
        is_pdf = "pdf" in declared and looks_like_pdf_url(url)
        out.append(
            Candidate(
                url=url,
                kind=Kind.PDF if is_pdf else Kind.LANDING,
                source=NAME,
                technique="doaj.fulltext_link",
                version=Version.PUBLISHED,
                host_type=HostType.PUBLISHER,
                extra={"declared_content_type": declared} if declared else {},
            )
        )
    return out


def parse_search(payload: Any, doi: str) -> SourceResult:
    records = [as_dict(r) for r in as_list(as_dict(payload).get("results"))]
    matching = [r for r in records if record_doi(r) == doi.lower()]
    if not matching:
        return not_found(NAME)
    return SourceResult(
        source=NAME,
        candidates=dedupe(c for r in matching for c in record_candidates(r)),
        title=as_str(as_dict(matching[0].get("bibjson")).get("title")),
        is_oa=True,
    )


class DoajSource(DoiSource):
    name = NAME

    async def ask(self, doi: str, base: str, ctx: SourceContext) -> SourceResult:
        # The query is Elasticsearch syntax in the path: a quoted phrase keeps "/" literal.
        query = 'doi:"' + doi + '"'
        url = f"{base}/api/search/articles/{quote(query, safe=':')}"
        response = await ctx.http.get(url, role=Role.METADATA)
        if not ensure_ok(response, NAME):
            return not_found(NAME)
        return parse_search(json_body(response, NAME), doi)


SOURCE = DoajSource()
