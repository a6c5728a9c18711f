"""Crossref REST API: the publisher-deposited full-text links of a DOI.

`GET {base}/works/{doi}?mailto=` → `message.link[]`. Each link carries `URL`,
`content-type`, `content-version` (`vor` / `am`) and `intended-application`
(`text-mining`, `similarity-checking`, `syndication`, `unspecified`). Real records
(see realdata/crossref) show most links are `unspecified` content types meant for
Similarity Check crawlers, so only links that declare `application/pdf` or an XML type
become candidates; text-mining links are listed first because publishers intend them
for machine retrieval. Crossref says nothing about OA status, except through a Creative
Commons licence.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

from ..ids import WorkIds
from ..net.client import Role
from ._util import DoiSource, as_dict, as_list, as_str, dedupe, ensure_ok, json_body, not_found
from .base import Candidate, HostType, Kind, SourceContext, SourceResult, Version

NAME = "crossref"

_KIND_BY_TYPE = {
    "application/pdf": Kind.PDF,
    "application/xml": Kind.XML,
    "text/xml": Kind.XML,
}
_VERSION = {"vor": Version.PUBLISHED, "am": Version.ACCEPTED, "tdm": Version.UNKNOWN}
# Lower sorts first: text-mining links are meant for us, similarity-checking ones are not.
_APPLICATION_RANK = {"text-mining": 0, "syndication": 1, "unspecified": 2, "similarity-checking": 3}


def _license_for(message: dict[str, Any], content_version: str | None) -> str | None:
    """The licence URL matching the link's content-version, else an `unspecified` one."""
    licences = [as_dict(x) for x in as_list(message.get("license"))]
    for wanted in (content_version, "unspecified", "vor"):
        for lic in licences:
            if wanted and lic.get("content-version") == wanted and as_str(lic.get("URL")):
                return as_str(lic.get("URL"))
    return None


def parse_work(message: dict[str, Any]) -> SourceResult:
    """Turn one Crossref `message` (a work) into a SourceResult."""
    links = [as_dict(x) for x in as_list(message.get("link"))]
    links.sort(key=lambda ln: _APPLICATION_RANK.get(str(ln.get("intended-application")), 2))
    candidates: list[Candidate] = []
    for link in links:
        url = as_str(link.get("URL"))
        ctype = (as_str(link.get("content-type")) or "").lower().split(";")[0]
        kind = _KIND_BY_TYPE.get(ctype)
        if url is None or kind is None:
            continue
        cversion = as_str(link.get("content-version"))
        application = as_str(link.get("intended-application")) or "unspecified"
        candidates.append(
            Candidate(
                url=url,
                kind=kind,
                source=NAME,
                technique=f"crossref.link.{application}",
                version=_VERSION.get(cversion or "", Version.UNKNOWN),
                host_type=HostType.PUBLISHER,
                license=_license_for(message, cversion),
                extra={"intended_application": application, "content_type": ctype},
            )
        )
    titles = as_list(message.get("title"))
    title = as_str(titles[0]) if titles else as_str(message.get("title"))
    licence_urls = [as_str(as_dict(x).get("URL")) or "" for x in as_list(message.get("license"))]
    is_oa = True if any("creativecommons.org" in u for u in licence_urls) else None
    doi = as_str(message.get("DOI"))
    return SourceResult(
        source=NAME,
        candidates=dedupe(candidates),
        ids=WorkIds(doi=doi.lower() if doi else None),
        title=" ".join(title.split()) if title else None,
        is_oa=is_oa,
    )


class CrossrefSource(DoiSource):
    name = NAME

    async def ask(self, doi: str, base: str, ctx: SourceContext) -> SourceResult:
        params = {"mailto": ctx.mailto} if ctx.mailto else None
        url = f"{base}/works/{quote(doi, safe='/:;()')}"
        response = await ctx.http.get(url, role=Role.METADATA, params=params)
        if not ensure_ok(response, NAME):
            return not_found(NAME)
        message = as_dict(as_dict(json_body(response, NAME)).get("message"))
        if not message or "items" in message:
            return not_found(NAME)
        return parse_work(message)


SOURCE = CrossrefSource()
