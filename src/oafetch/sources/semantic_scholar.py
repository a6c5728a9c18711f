"""Semantic Scholar Graph API: an open-access PDF link and cross-ids for one paper.

`GET {base}/graph/v1/paper/{DOI:…|ARXIV:…|PMID:…|PMCID:…}`
`?fields=title,openAccessPdf,externalIds,isOpenAccess` with header `x-api-key` when a key
is configured (without one the shared pool is heavily rate limited). Real responses
(realdata/semanticscholar) show that
`openAccessPdf` can be absent, null, or `{"url": "", "status": "CLOSED"}`, and that its
`url` is sometimes a `doi.org` link rather than a PDF: that one is proposed as a landing
page. `externalIds` uses the keys `ArXiv`, `PubMed`, `PubMedCentral` (digits only), `DOI`.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import quote, urlsplit

from ..ids import WorkIds
from ..net.client import Role
from ._util import as_dict, as_str, ensure_ok, json_body, norm_doi, not_found
from .base import Candidate, HostType, Kind, SourceContext, SourceResult, Version

NAME = "semantic_scholar"
FIELDS = "title,openAccessPdf,externalIds,isOpenAccess"
_DOI_HOSTS = {"doi.org", "dx.doi.org", "www.doi.org"}
# Unpaywall-style OA colours: where the copy is hosted.
_HOST_BY_STATUS = {
    "GOLD": HostType.PUBLISHER,
    "HYBRID": HostType.PUBLISHER,
    "BRONZE": HostType.PUBLISHER,
    "GREEN": HostType.REPOSITORY,
}


def paper_id(work: WorkIds) -> str | None:
    """The Graph API's prefixed id for the most specific identifier we have."""
    if work.doi:
        return f"DOI:{work.doi}"
    if work.arxiv:
        return f"ARXIV:{work.arxiv}"
    if work.pmcid:
        return f"PMCID:{work.pmcid.removeprefix('PMC')}"
    if work.pmid:
        return f"PMID:{work.pmid}"
    return None


def normalise_license(value: str | None) -> str | None:
    """`CCBYNCND` → `cc-by-nc-nd`; other spellings pass through lower-cased."""
    if value is None:
        return None
    upper = value.upper()
    if upper.startswith("CC"):
        rest = upper[2:]
        parts = ["cc"]
        for token in ("BY", "NC", "ND", "SA", "0"):
            if rest.startswith(token):
                parts.append(token.lower())
                rest = rest[len(token) :]
        if not rest:
            return "-".join(parts)
    return value.lower()


def parse_paper(payload: Any) -> SourceResult:
    paper = as_dict(payload)
    if not paper.get("paperId") and not paper.get("title"):
        return not_found(NAME)
    ext = as_dict(paper.get("externalIds"))
    pmcid = as_str(ext.get("PubMedCentral"))
    arxiv = as_str(ext.get("ArXiv"))
    ids = WorkIds(
        doi=norm_doi(ext.get("DOI")),
        arxiv=arxiv.lower() if arxiv else None,
        pmid=as_str(ext.get("PubMed")),
        pmcid=f"PMC{pmcid}" if pmcid and not pmcid.upper().startswith("PMC") else pmcid,
    )
    candidates: list[Candidate] = []
    oa_pdf = as_dict(paper.get("openAccessPdf"))
    url = as_str(oa_pdf.get("url"))
    status = (as_str(oa_pdf.get("status")) or "").upper()
    if url is not None:
        is_doi = urlsplit(url).hostname in _DOI_HOSTS
        candidates.append(
            Candidate(
                url=url,
                kind=Kind.LANDING if is_doi else Kind.PDF,
                source=NAME,
                technique="semantic_scholar.open_access_pdf",
                version=Version.PUBLISHED
                if status in {"GOLD", "HYBRID", "BRONZE"}
                else Version.UNKNOWN,
                host_type=_HOST_BY_STATUS.get(status, HostType.UNKNOWN),
                license=normalise_license(as_str(oa_pdf.get("license"))),
                extra={"oa_status": status} if status else {},
            )
        )
    is_oa = paper.get("isOpenAccess")
    return SourceResult(
        source=NAME,
        candidates=candidates,
        ids=ids,
        title=as_str(paper.get("title")),
        is_oa=is_oa if isinstance(is_oa, bool) else (True if candidates else None),
    )


class SemanticScholarSource:
    name = NAME

    def applies(self, work: WorkIds) -> bool:
        return paper_id(work) is not None

    async def resolve(self, work: WorkIds, ctx: SourceContext) -> SourceResult:
        pid = paper_id(work)
        if pid is None:
            return not_found(NAME)
        base = ctx.settings.base_url.rstrip("/")
        headers = {"x-api-key": ctx.settings.api_key} if ctx.settings.api_key else None
        response = await ctx.http.get(
            f"{base}/graph/v1/paper/{quote(pid, safe=':/')}",
            role=Role.METADATA,
            params={"fields": FIELDS},
            headers=headers,
        )
        if not ensure_ok(response, NAME):
            return not_found(NAME)
        return parse_paper(json_body(response, NAME))


SOURCE = SemanticScholarSource()
