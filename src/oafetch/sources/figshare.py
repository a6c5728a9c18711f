"""Figshare public API: PDF files of articles registered under a DOI.

`GET {base}/v2/articles?doi=…` lists matching articles (`[{id, doi, title, url,
url_public_html}]`; the list items carry no files), then `GET {base}/v2/articles/{id}`
gives `files[] {name, download_url, mimetype?, is_link_only}`. Files named `*.pdf`
become candidates. NO real recording of the Figshare API exists: the parser follows the
documented shape only.
"""

from __future__ import annotations

from typing import Any

from ..net.client import Role
from ._util import (
    DoiSource,
    as_dict,
    as_list,
    as_str,
    dedupe,
    ensure_ok,
    json_body,
    norm_doi,
    not_found,
)
from .base import Candidate, HostType, Kind, SourceContext, SourceResult

NAME = "figshare"
MAX_ARTICLES = 3


def article_candidates(article: dict[str, Any]) -> list[Candidate]:
    licence = as_str(as_dict(article.get("license")).get("name"))
    out: list[Candidate] = []
    for entry in (as_dict(f) for f in as_list(article.get("files"))):
        name = as_str(entry.get("name")) or ""
        url = as_str(entry.get("download_url"))
        mimetype = (as_str(entry.get("mimetype")) or "").lower()
        if url is None or not (name.lower().endswith(".pdf") or mimetype == "application/pdf"):
            continue
        out.append(
            Candidate(
                url,
                Kind.PDF,
                NAME,
                "figshare.article_file",
                host_type=HostType.REPOSITORY,
                license=licence,
                extra={"file_name": name, "article_id": as_str(article.get("id"))},
            )
        )
    return out


def matching_ids(payload: Any, doi: str) -> list[str]:
    """Article ids in a search list whose DOI is ours."""
    out: list[str] = []
    for item in (as_dict(x) for x in as_list(payload)):
        if norm_doi(item.get("doi")) == doi.lower() and (aid := as_str(item.get("id"))):
            out.append(aid)
    return out[:MAX_ARTICLES]


class FigshareSource(DoiSource):
    name = NAME

    async def ask(self, doi: str, base: str, ctx: SourceContext) -> SourceResult:
        response = await ctx.http.get(
            f"{base}/v2/articles", role=Role.METADATA, params={"doi": doi}
        )
        if not ensure_ok(response, NAME):
            return not_found(NAME)
        ids = matching_ids(json_body(response, NAME), doi)
        if not ids:
            return not_found(NAME)
        candidates: list[Candidate] = []
        title: str | None = None
        for aid in ids:
            detail = await ctx.http.get(f"{base}/v2/articles/{aid}", role=Role.METADATA)
            if not ensure_ok(detail, NAME):
                continue
            article = as_dict(json_body(detail, NAME))
            title = title or as_str(article.get("title"))
            candidates.extend(article_candidates(article))
        return SourceResult(
            source=NAME,
            candidates=dedupe(candidates),
            title=title,
            is_oa=True if candidates else None,
        )


SOURCE = FigshareSource()
