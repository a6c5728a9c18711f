"""arXiv: a known arXiv id needs no API call — ``{base_url}/pdf/{id}`` is the PDF (DESIGN §3).

The id-less path (find an arXiv id for a DOI through the export API) exists but is OFF by
default (`ArxivSource.lookup_by_doi`), for three reasons: arXiv allows one API request every
3 s, so a lookup for every DOI-only work would throttle the whole first tier; the API has no
DOI search field, so the query is a full-text search whose hits must be confirmed by an exact
``<arxiv:doi>`` match (most return nothing); and OpenAlex/Unpaywall already name arXiv copies
of DOI works (``arxiv.org/abs/…`` locations). Turn it on only for small, arXiv-heavy runs.

`parse_atom` reads export API Atom feeds (defusedxml: the feed is untrusted XML).
"""

from __future__ import annotations

from typing import Any

import defusedxml.ElementTree as SafeET

from ..errors import InvalidIdentifier, TransientNetError
from ..ids import WorkIds, normalize_arxiv, normalize_doi
from ..net.client import Role
from ..net.urls import strip_credentials
from .base import Candidate, HostType, Kind, SourceContext, SourceResult, Version

__all__ = ["SOURCE", "ArxivSource", "parse_atom", "pdf_candidate"]

NAME = "arxiv"
_ATOM = "{http://www.w3.org/2005/Atom}"
_ARXIV = "{http://arxiv.org/schemas/atom}"


def parse_atom(xml_bytes: bytes) -> list[dict[str, str | None]]:
    """Entries of an export API feed as ``{id, versioned_id, title, doi, pdf}`` (pure).

    `id` is the bare versionless id; error entries (``…/api/errors#…``) are left out.
    Raises `ValueError` for a body that is not XML.
    """
    try:
        root = SafeET.fromstring(xml_bytes)
    except SafeET.ParseError as exc:
        raise ValueError(f"not an Atom feed: {exc}") from exc
    entries: list[dict[str, str | None]] = []
    for entry in root.iter(f"{_ATOM}entry"):
        raw_id = (entry.findtext(f"{_ATOM}id") or "").strip()
        try:
            arxiv_id = normalize_arxiv(raw_id)
        except InvalidIdentifier:
            continue
        title = " ".join((entry.findtext(f"{_ATOM}title") or "").split()) or None
        doi_text = (entry.findtext(f"{_ARXIV}doi") or "").strip()
        try:
            doi = normalize_doi(doi_text) if doi_text else None
        except InvalidIdentifier:
            doi = None
        pdf = None
        for link in entry.iter(f"{_ATOM}link"):
            if link.get("title") == "pdf" or link.get("type") == "application/pdf":
                pdf = link.get("href")
                break
        entries.append(
            {
                "id": arxiv_id,
                "versioned_id": raw_id.rsplit("/abs/", 1)[-1] or None,
                "title": title,
                "doi": doi,
                "pdf": pdf,
            }
        )
    return entries


def pdf_candidate(arxiv_id: str, base_url: str, technique: str = f"{NAME}.id") -> Candidate:
    """The versionless PDF URL (always the latest version) as a submitted-version candidate."""
    return Candidate(
        url=f"{base_url.rstrip('/')}/pdf/{arxiv_id}",
        kind=Kind.PDF,
        source=NAME,
        technique=technique,
        version=Version.SUBMITTED,
        host_type=HostType.REPOSITORY,
    )


class ArxivSource:
    name = NAME
    requires_mailto = False

    def __init__(self, *, lookup_by_doi: bool = False) -> None:
        self.lookup_by_doi = lookup_by_doi

    def applies(self, work: WorkIds) -> bool:
        return bool(work.arxiv) or (self.lookup_by_doi and bool(work.doi))

    async def resolve(self, work: WorkIds, ctx: SourceContext) -> SourceResult:
        if work.arxiv:
            return SourceResult(
                source=NAME,
                candidates=[pdf_candidate(work.arxiv, ctx.settings.base_url)],
                ids=WorkIds(arxiv=work.arxiv),
                is_oa=True,
            )
        api_url: Any = getattr(ctx.settings, "api_url", None)
        if not (self.lookup_by_doi and work.doi and isinstance(api_url, str) and api_url):
            return SourceResult(source=NAME, found=False)
        return await self._lookup(work.doi, api_url, ctx)

    async def _lookup(self, doi: str, api_url: str, ctx: SourceContext) -> SourceResult:
        params = {"search_query": f'all:"{doi}"', "start": "0", "max_results": "5"}
        response = await ctx.http.get(api_url, role=Role.METADATA, params=params)
        status = response.status_code
        if status == 429 or status >= 500:
            raise TransientNetError(
                f"{NAME} answered HTTP {status}",
                url=strip_credentials(str(response.url)),
                status=status,
            )
        if not 200 <= status < 300:
            return SourceResult(source=NAME, found=False)
        try:
            entries = parse_atom(response.content)
        except ValueError:  # not XML, or a forbidden DTD: asking again will not help
            return SourceResult(source=NAME, found=False)
        for entry in entries:
            if entry["doi"] == doi and entry["id"]:
                return SourceResult(
                    source=NAME,
                    candidates=[pdf_candidate(entry["id"], ctx.settings.base_url, f"{NAME}.doi")],
                    ids=WorkIds(arxiv=entry["id"]),
                    title=entry["title"],
                    is_oa=True,
                )
        return SourceResult(source=NAME, found=False)


SOURCE = ArxivSource()
