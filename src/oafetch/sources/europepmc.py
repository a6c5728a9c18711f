"""Europe PMC REST search: full-text links and PMC ids for a DOI, PMID or PMCID.

`GET {base}/search?query=DOI:"…"&resultType=core&format=json` →
`resultList.result[]`, each with `doi`, `pmid`, `pmcid`, `title`, `isOpenAccess` ("Y"/"N"),
`inEPMC` and `fullTextUrlList.fullTextUrl[]` entries of `availability` ("Open access",
"Free", "Subscription required"), `availabilityCode` (OA / F / S), `documentStyle`
(pdf / html / doi) and `site` (Europe_PMC, DOI, PubMedCentral ...). Subscription links
are dropped: they lead to paywalls. A record in Europe PMC's own full-text collection
(`inEPMC` "Y") also gets its JATS XML from `{base}/{PMCID}/fullTextXML`.
"""

from __future__ import annotations

from typing import Any

from ..ids import WorkIds
from ..net.client import Role
from ._util import as_dict, as_list, as_str, dedupe, ensure_ok, json_body, norm_doi, not_found
from .base import Candidate, HostType, Kind, SourceContext, SourceResult

NAME = "europepmc"

_FREE_CODES = {"OA", "F"}
_FREE_TEXT = {"open access", "free"}
_KIND = {"pdf": Kind.PDF, "html": Kind.LANDING}


def query_for(work: WorkIds) -> str | None:
    """Europe PMC query syntax for the most specific id we have."""
    if work.pmcid:
        return f"PMCID:{work.pmcid}"
    if work.doi:
        return f'DOI:"{work.doi}"'
    if work.pmid:
        return f"EXT_ID:{work.pmid} AND SRC:MED"
    return None


def _matches(record: dict[str, Any], work: WorkIds) -> bool:
    if work.pmcid and as_str(record.get("pmcid")):
        return str(record["pmcid"]).upper() == work.pmcid.upper()
    if work.doi and norm_doi(record.get("doi")):
        return norm_doi(record.get("doi")) == work.doi.lower()
    if work.pmid and as_str(record.get("pmid")):
        return as_str(record.get("pmid")) == work.pmid
    return False


def _record_candidates(record: dict[str, Any], base: str) -> list[Candidate]:
    out: list[Candidate] = []
    urls = as_list(as_dict(record.get("fullTextUrlList")).get("fullTextUrl"))
    for entry in (as_dict(x) for x in urls):
        url = as_str(entry.get("url"))
        code = (as_str(entry.get("availabilityCode")) or "").upper()
        availability = (as_str(entry.get("availability")) or "").lower()
        style = (as_str(entry.get("documentStyle")) or "").lower()
        kind = _KIND.get(style)
        if url is None or kind is None:
            continue
        if code not in _FREE_CODES and availability not in _FREE_TEXT:
            continue
        site = as_str(entry.get("site")) or "unknown"
        host = HostType.REPOSITORY if site in {"Europe_PMC", "PubMedCentral"} else HostType.UNKNOWN
        out.append(
            Candidate(
                url=url,
                kind=kind,
                source=NAME,
                technique=f"europepmc.fulltext_url.{style}",
                host_type=host,
                extra={"availability": availability, "site": site},
            )
        )
    pmcid = as_str(record.get("pmcid"))
    if pmcid and as_str(record.get("inEPMC")) == "Y":
        out.append(
            Candidate(
                url=f"{base}/{pmcid}/fullTextXML",
                kind=Kind.XML,
                source=NAME,
                technique="europepmc.fulltext_xml",
                host_type=HostType.REPOSITORY,
            )
        )
    return out


def parse_search(payload: Any, work: WorkIds, base: str) -> SourceResult:
    """Read a `resultType=core` search response; only records matching the work count."""
    results = as_list(as_dict(as_dict(payload).get("resultList")).get("result"))
    records = [as_dict(r) for r in results if _matches(as_dict(r), work)]
    if not records:
        return not_found(NAME)
    first = records[0]
    pmcid = as_str(first.get("pmcid"))
    ids = WorkIds(
        doi=norm_doi(first.get("doi")),
        pmid=as_str(first.get("pmid")),
        pmcid=pmcid.upper() if pmcid else None,
    )
    candidates = [c for r in records for c in _record_candidates(r, base)]
    oa_flag = as_str(first.get("isOpenAccess"))
    # "N" with free links means free-to-read without an open licence: say nothing.
    is_oa = True if oa_flag == "Y" else (False if oa_flag == "N" and not candidates else None)
    return SourceResult(
        source=NAME,
        candidates=dedupe(candidates),
        ids=ids,
        title=as_str(first.get("title")),
        is_oa=is_oa,
    )


class EuropePmcSource:
    name = NAME

    def applies(self, work: WorkIds) -> bool:
        return bool(work.doi or work.pmid or work.pmcid)

    async def resolve(self, work: WorkIds, ctx: SourceContext) -> SourceResult:
        query = query_for(work)
        if query is None:
            return not_found(NAME)
        base = ctx.settings.base_url.rstrip("/")
        params = {"query": query, "resultType": "core", "format": "json", "pageSize": "5"}
        if ctx.mailto:
            params["email"] = ctx.mailto
        response = await ctx.http.get(f"{base}/search", role=Role.METADATA, params=params)
        if not ensure_ok(response, NAME):
            return not_found(NAME)
        return parse_search(json_body(response, NAME), work, base)


SOURCE = EuropePmcSource()
