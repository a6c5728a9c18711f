"""PMC: real idconv recordings; the OA service is documented-shape only (no recording)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from _realserver import SettingsWithApi, context, serve

from oafetch.errors import TransientNetError
from oafetch.ids import WorkIds
from oafetch.sources.base import Kind, SourceSettings
from oafetch.sources.pmc import SOURCE, parse_idconv, parse_oa_service

IDCONV = "ncbi_idconv/rcrossref_pmc_utils_idconv_v1.0___ids-10.1038_ng.590_format-json.json"
IDCONV_404 = (
    "ncbi_idconv/rcrossref_pmc_utils_idconv_v1.0___ids-28371833_idtype-doi_format-json.http404.json"
)

# Documented oa.fcgi answers (https://www.ncbi.nlm.nih.gov/pmc/tools/oa-service/); NOT recorded.
OA_RECORD = b"""<?xml version="1.0" encoding="UTF-8"?>
<OA><responseDate>2024-01-01 00:00:00</responseDate>
<request id="PMC2883744">https://www.ncbi.nlm.nih.gov/pmc/utils/oa/oa.fcgi?id=PMC2883744</request>
<records returned-count="1" total-count="1">
<record id="PMC2883744" citation="Nat Genet. 2010" license="CC BY" retracted="no">
<link format="tgz" updated="2020-01-01" href="ftp://ftp.ncbi.nlm.nih.gov/pub/pmc/oa_package/aa/bb/PMC2883744.tar.gz"/>
<link format="pdf" updated="2020-01-01" href="ftp://ftp.ncbi.nlm.nih.gov/pub/pmc/oa_pdf/aa/bb/nihms198092.pdf"/>
</record></records></OA>"""
OA_NOT_OA = b"""<OA><responseDate>2024-01-01</responseDate><request id="PMC1">x</request>
<error code="idIsNotOpenAccess">identifier 'PMC1' is not Open Access</error></OA>"""


def test_every_idconv_recording(realdata: Path) -> None:
    ok = parse_idconv(json.loads((realdata / IDCONV).read_bytes()))
    assert ok == WorkIds(doi="10.1038/ng.590", pmid="20495566", pmcid="PMC2883744")
    assert parse_idconv(json.loads((realdata / IDCONV_404).read_bytes())) is None
    assert len(list((realdata / "ncbi_idconv").iterdir())) == 2  # both covered above


def test_oa_service_documented_shapes() -> None:
    record = parse_oa_service(OA_RECORD)
    assert record.is_oa and record.license == "CC BY"
    # ftp:// hrefs are rewritten to the same path over https.
    assert record.pdf_urls == ("https://ftp.ncbi.nlm.nih.gov/pub/pmc/oa_pdf/aa/bb/nihms198092.pdf",)
    closed = parse_oa_service(OA_NOT_OA)
    assert not closed.is_oa and closed.error_code == "idIsNotOpenAccess"
    with pytest.raises(TransientNetError):
        parse_oa_service(b"<OA><records>")
    with pytest.raises(TransientNetError):  # entity tricks are refused, not expanded
        parse_oa_service(b'<!DOCTYPE OA [<!ENTITY a "b">]><OA>&a;</OA>')


async def test_resolve_doi_via_idconv(realdata: Path) -> None:
    with serve() as srv:
        srv.route("/pmc/utils/idconv/v1.0/", realdata / IDCONV)
        srv.route("/pmc/utils/oa/oa.fcgi", OA_RECORD, content_type="text/xml")
        settings = SettingsWithApi(base_url=srv.url, api_url="https://epmc.example/rest")
        async with context(settings) as ctx:
            result = await SOURCE.resolve(WorkIds(doi="10.1038/ng.590"), ctx)
        (conv,) = srv.seen("/pmc/utils/idconv/v1.0/")
        (oa,) = srv.seen("/pmc/utils/oa/oa.fcgi")
    assert conv.query["ids"] == ["10.1038/ng.590"] and conv.query["tool"] == ["oafetch"]
    assert conv.query["email"] == ["oafetch-tests@example.org"]
    assert oa.query["id"] == ["PMC2883744"]
    assert result.ids.pmcid == "PMC2883744" and result.ids.pmid == "20495566"
    assert [(c.kind, c.technique, c.url) for c in result.candidates] == [
        (
            Kind.PDF,
            "pmc.oa_service",
            "https://ftp.ncbi.nlm.nih.gov/pub/pmc/oa_pdf/aa/bb/nihms198092.pdf",
        ),
        (Kind.PDF, "pmc.article_pdf", f"{srv.url}/pmc/articles/PMC2883744/pdf/"),
        (Kind.XML, "pmc.europepmc_jats", "https://epmc.example/rest/PMC2883744/fullTextXML"),
    ]
    assert result.is_oa is True


async def test_resolve_not_in_pmc_and_known_pmcid(realdata: Path) -> None:
    with serve() as srv:
        srv.route("/pmc/utils/idconv/v1.0/", realdata / IDCONV_404, status=404)
        srv.route("/pmc/utils/oa/oa.fcgi", OA_NOT_OA, content_type="text/xml")
        async with context(SourceSettings(base_url=srv.url)) as ctx:
            missing = await SOURCE.resolve(WorkIds(pmid="28371833"), ctx)
            known = await SOURCE.resolve(WorkIds(pmcid="PMC1"), ctx)
        assert len(srv.seen("/pmc/utils/idconv/v1.0/")) == 1  # a known PMCID skips idconv
    assert missing.found is False
    assert known.is_oa is None  # free-to-read PDFs may still exist outside the OA subset
    assert [c.technique for c in known.candidates] == ["pmc.article_pdf", "pmc.europepmc_jats"]
    assert known.candidates[1].url.startswith(
        "https://www.ebi.ac.uk/europepmc/webservices/rest/PMC1/"
    )
