"""PubMed Central: map DOI/PMID to a PMCID, then propose PMC's PDF and Europe PMC's JATS.

Three documented endpoints:

1. NCBI ID converter `{base}/pmc/utils/idconv/v1.0/?ids=…&format=json&tool=oafetch&email=…`
   → `records[]` with `pmcid`, `pmid`, `doi` (a record without `pmcid`, or with
   `status: "error"`, means "not in PMC"). Tested against real recordings.
2. PMC OA web service `{base}/pmc/utils/oa/oa.fcgi?id=PMC…` → XML
   `<OA><records><record id=… license=…><link format="pdf" href=…/></record></records></OA>`
   or `<OA><error code="idIsNotOpenAccess">…</error></OA>`. Its hrefs are `ftp://` URLs on
   ftp.ncbi.nlm.nih.gov, which also serves the same paths over HTTPS; we rewrite them.
   NO real recording of this service exists: the parser follows the documentation only.
3. The article PDF `{base}/pmc/articles/{PMCID}/pdf/` and JATS XML from Europe PMC
   `{europepmc}/{PMCID}/fullTextXML` (Europe PMC base: `api_url` of this source).

The OA-service PDF comes first: the www article PDF now sits behind a proof-of-work
interstitial for robots (see realdata/fake_pdfs).
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from dataclasses import dataclass
from typing import Any

from defusedxml import ElementTree as SafeET

from ..errors import TransientNetError
from ..ids import WorkIds
from ..net.client import Role
from ._util import api_url, as_dict, as_list, as_str, dedupe, ensure_ok, json_body, not_found
from .base import Candidate, HostType, Kind, SourceContext, SourceResult

NAME = "pmc"
EUROPEPMC_REST = "https://www.ebi.ac.uk/europepmc/webservices/rest"
_FTP_PREFIX = "ftp://ftp.ncbi.nlm.nih.gov/"


def parse_idconv(payload: Any) -> WorkIds | None:
    """The first idconv record that has a PMCID, as WorkIds; None when PMC lacks it."""
    body = as_dict(payload)
    if as_str(body.get("status")) == "error":
        return None
    for record in (as_dict(r) for r in as_list(body.get("records"))):
        pmcid = as_str(record.get("pmcid"))
        if as_str(record.get("status")) == "error" or pmcid is None:
            continue
        doi = as_str(record.get("doi"))
        return WorkIds(
            pmcid=pmcid.upper(),
            pmid=as_str(record.get("pmid")),
            doi=doi.lower() if doi else None,
        )
    return None


@dataclass(frozen=True, slots=True)
class OaRecord:
    """What the PMC OA service says about one PMCID."""

    is_oa: bool
    license: str | None = None
    pdf_urls: tuple[str, ...] = ()
    error_code: str | None = None


def _https(href: str) -> str:
    return (
        "https://ftp.ncbi.nlm.nih.gov/" + href[len(_FTP_PREFIX) :]
        if href.startswith(_FTP_PREFIX)
        else href
    )


def parse_oa_service(xml_text: str | bytes) -> OaRecord:
    """Parse an oa.fcgi response (documented shape; untested against real data)."""
    try:
        # defusedxml: the body comes from the network; no entity expansion, no DTDs.
        root: ET.Element = SafeET.fromstring(xml_text)
    except (ET.ParseError, ValueError) as exc:
        raise TransientNetError(f"pmc: OA service returned malformed XML ({exc})") from exc
    error = root.find("error")
    if error is not None:
        return OaRecord(is_oa=False, error_code=error.get("code"))
    record = root.find("records/record")
    if record is None:
        return OaRecord(is_oa=False)
    pdfs = tuple(
        _https(href)
        for link in record.findall("link")
        if link.get("format") == "pdf" and (href := link.get("href"))
    )
    return OaRecord(is_oa=True, license=record.get("license"), pdf_urls=pdfs)


class PmcSource:
    name = NAME

    def applies(self, work: WorkIds) -> bool:
        return bool(work.pmcid or work.doi or work.pmid)

    async def _pmcid(self, work: WorkIds, ctx: SourceContext) -> WorkIds | None:
        if work.pmcid:
            return WorkIds(pmcid=work.pmcid)
        ident = work.doi or work.pmid
        if ident is None:
            return None
        base = ctx.settings.base_url.rstrip("/")
        params = {"ids": ident, "format": "json", "tool": "oafetch"}
        if ctx.mailto:
            params["email"] = ctx.mailto
        response = await ctx.http.get(
            f"{base}/pmc/utils/idconv/v1.0/", role=Role.METADATA, params=params
        )
        if not ensure_ok(response, NAME):
            return None
        return parse_idconv(json_body(response, NAME))

    async def resolve(self, work: WorkIds, ctx: SourceContext) -> SourceResult:
        found = await self._pmcid(work, ctx)
        if found is None or found.pmcid is None:
            return not_found(NAME)
        pmcid = found.pmcid
        base = ctx.settings.base_url.rstrip("/")
        response = await ctx.http.get(
            f"{base}/pmc/utils/oa/oa.fcgi", role=Role.METADATA, params={"id": pmcid}
        )
        oa = (
            parse_oa_service(response.content)
            if ensure_ok(response, NAME)
            else OaRecord(is_oa=False)
        )
        licence = oa.license
        candidates = [
            Candidate(
                pdf,
                Kind.PDF,
                NAME,
                "pmc.oa_service",
                host_type=HostType.REPOSITORY,
                license=licence,
            )
            for pdf in oa.pdf_urls
        ]
        candidates.append(
            Candidate(
                f"{base}/pmc/articles/{pmcid}/pdf/",
                Kind.PDF,
                NAME,
                "pmc.article_pdf",
                host_type=HostType.REPOSITORY,
                license=licence,
            )
        )
        candidates.append(
            Candidate(
                f"{api_url(ctx, EUROPEPMC_REST)}/{pmcid}/fullTextXML",
                Kind.XML,
                NAME,
                "pmc.europepmc_jats",
                host_type=HostType.REPOSITORY,
                license=licence,
            )
        )
        return SourceResult(
            source=NAME,
            candidates=dedupe(candidates),
            ids=found,
            is_oa=True if oa.is_oa else None,
        )


SOURCE = PmcSource()
