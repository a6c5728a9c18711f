"""HAL (French national open archive) search API: the main file of a deposit.

`GET {base}/search/?q=doiId_s:"…"&fl=fileMain_s,uri_s,title_s,docType_s&wt=json` →
Solr JSON `{"response": {"numFound": n, "docs": [{"fileMain_s": url, "uri_s": url,
"title_s": [..], "docType_s": "ART"}]}}`. `fileMain_s` is the deposited PDF; `uri_s`
is the record's landing page. NO real recording of this API exists: the parser follows
HAL's documented Solr shape only.
"""

from __future__ import annotations

from typing import Any

from ..net.client import Role
from ._util import DoiSource, as_dict, as_list, as_str, dedupe, ensure_ok, json_body, not_found
from .base import Candidate, HostType, Kind, SourceContext, SourceResult

NAME = "hal"
FIELDS = "fileMain_s,uri_s,title_s,docType_s"


def _first(value: Any) -> str | None:
    """Solr returns multi-valued `_s` fields as lists; single ones as strings."""
    if isinstance(value, list):
        return as_str(value[0]) if value else None
    return as_str(value)


def parse_search(payload: Any) -> SourceResult:
    docs = [as_dict(d) for d in as_list(as_dict(as_dict(payload).get("response")).get("docs"))]
    if not docs:
        return not_found(NAME)
    candidates: list[Candidate] = []
    for doc in docs:
        pdf = _first(doc.get("fileMain_s"))
        if pdf:
            candidates.append(
                Candidate(pdf, Kind.PDF, NAME, "hal.file_main", host_type=HostType.REPOSITORY)
            )
        landing = _first(doc.get("uri_s"))
        if landing:
            candidates.append(
                Candidate(landing, Kind.LANDING, NAME, "hal.uri", host_type=HostType.REPOSITORY)
            )
    has_file = any(c.kind is Kind.PDF for c in candidates)
    return SourceResult(
        source=NAME,
        candidates=dedupe(candidates),
        title=_first(docs[0].get("title_s")),
        is_oa=True if has_file else None,
    )


class HalSource(DoiSource):
    name = NAME

    async def ask(self, doi: str, base: str, ctx: SourceContext) -> SourceResult:
        params = {"q": f'doiId_s:"{doi}"', "fl": FIELDS, "wt": "json"}
        response = await ctx.http.get(f"{base}/search/", role=Role.METADATA, params=params)
        if not ensure_ok(response, NAME):
            return not_found(NAME)
        return parse_search(json_body(response, NAME))


SOURCE = HalSource()
