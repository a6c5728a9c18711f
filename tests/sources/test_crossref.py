"""Crossref: parse every real recorded work; resolve over a real loopback server."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from _realserver import context, serve

from oafetch.errors import TransientNetError
from oafetch.ids import WorkIds
from oafetch.sources.base import Kind, SourceSettings, Version
from oafetch.sources.crossref import SOURCE, parse_work


def _messages(realdata: Path) -> list[tuple[str, dict[str, Any]]]:
    """Every work object in every Crossref recording (single envelopes and list pages)."""
    out: list[tuple[str, dict[str, Any]]] = []
    for path in sorted((realdata / "crossref").glob("*.json")):
        body = json.loads(path.read_bytes())
        message = body.get("message")
        if not isinstance(message, dict):
            continue  # error envelopes carry a list of problems
        for item in message.get("items", [message]):
            out.append((path.name, item))
    return out


def test_every_recorded_work_parses_to_typed_publisher_links(realdata: Path) -> None:
    works = _messages(realdata)
    assert len(works) > 80
    with_links = 0
    for name, message in works:
        result = parse_work(message)
        declared = {
            ln["URL"]
            for ln in message.get("link", [])
            if ln.get("content-type") in {"application/pdf", "application/xml", "text/xml"}
        }
        assert {c.url for c in result.candidates} == declared, name
        for cand in result.candidates:
            assert cand.kind in {Kind.PDF, Kind.XML}
            assert cand.source == "crossref" and cand.technique.startswith("crossref.link.")
        with_links += bool(result.candidates)
    assert with_links >= 20


def test_hindawi_text_mining_pdf_and_xml(realdata: Path) -> None:
    body = json.loads((realdata / "crossref/fulltext_works_10.1155_2011_868426.json").read_bytes())
    result = parse_work(body["message"])
    pdf, xml = result.candidates
    assert pdf.url == "http://downloads.hindawi.com/journals/ijecol/2011/868426.pdf"
    assert pdf.kind is Kind.PDF and pdf.technique == "crossref.link.text-mining"
    assert pdf.version is Version.PUBLISHED
    assert pdf.license == "http://creativecommons.org/licenses/by/3.0/"
    assert xml.url == "http://downloads.hindawi.com/journals/ijecol/2011/868426.xml"
    assert xml.kind is Kind.XML
    assert (
        result.title
        == "The Humpbacked Species Richness-Curve: A Contingent Rule for Community Ecology"
    )
    assert result.is_oa is True


def test_accepted_manuscript_link_is_marked_accepted(realdata: Path) -> None:
    name = (
        "works__query.title-PaperQA_Retrieval-Augmented_Generative_Agent_for_Scientific_Research"
        "_rows-1.json"
    )
    item = json.loads((realdata / "crossref" / name).read_bytes())["message"]["items"][0]
    by_url = {c.url: c for c in parse_work(item).candidates}
    am = by_url[
        "https://academic.oup.com/jamiaopen/advance-article-pdf/doi/10.1093/jamiaopen/ooae021/56732770/ooae021.pdf"
    ]
    vor = by_url["https://academic.oup.com/jamiaopen/article-pdf/7/1/ooae021/56904263/ooae021.pdf"]
    assert am.version is Version.ACCEPTED
    assert vor.version is Version.PUBLISHED
    assert vor.license == "https://creativecommons.org/licenses/by/4.0/"


def test_similarity_checking_only_records_give_nothing(realdata: Path) -> None:
    body = json.loads((realdata / "crossref/works_10.1101_2024.04.01.587366.json").read_bytes())
    result = parse_work(body["message"])
    assert result.candidates == []
    assert result.ids.doi == "10.1101/2024.04.01.587366"


def test_elsevier_xml_link_kept_text_plain_dropped(realdata: Path) -> None:
    body = json.loads((realdata / "crossref/works_10.1016_j.addr.2015.01.008.json").read_bytes())
    (cand,) = parse_work(body["message"]).candidates
    assert cand.kind is Kind.XML
    assert cand.url.startswith("https://api.elsevier.com/content/article/PII:S0169409X15000101")
    assert "text/xml" in cand.url


async def test_resolve_over_loopback_sends_mailto(realdata: Path) -> None:
    with serve() as srv:
        srv.route(
            "/works/10.1038/s42256-024-00832-8",
            realdata / "crossref/works_10.1038_s42256-024-00832-8.json",
        )
        async with context(SourceSettings(base_url=srv.url)) as ctx:
            result = await SOURCE.resolve(WorkIds(doi="10.1038/s42256-024-00832-8"), ctx)
        (seen,) = srv.seen("/works/10.1038/s42256-024-00832-8")
    assert seen.query["mailto"] == ["oafetch-tests@example.org"]
    assert result.found
    assert result.candidates[0].url == "https://www.nature.com/articles/s42256-024-00832-8.pdf"
    assert result.title == "Augmenting large language models with chemistry tools"


async def test_resolve_404_400_and_5xx(realdata: Path) -> None:
    with serve() as srv:
        srv.route(
            "/works/10.48550/arxiv.2312.07559",
            realdata / "crossref/works_10.48550_arxiv.2312.07559.http404.txt",
            status=404,
        )
        srv.route(
            "/works/10.1/bad",
            realdata
            / "crossref"
            / (
                "habanero_works_10.1371_journal.pone.0033693"
                "__query.author-carl_boettiger.http400.json"
            ),
            status=400,
        )
        srv.route("/works/10.1/down", b"oops", status=503)
        async with context(SourceSettings(base_url=srv.url)) as ctx:
            missing = await SOURCE.resolve(WorkIds(doi="10.48550/arxiv.2312.07559"), ctx)
            bad = await SOURCE.resolve(WorkIds(doi="10.1/bad"), ctx)
            with pytest.raises(TransientNetError):
                await SOURCE.resolve(WorkIds(doi="10.1/down"), ctx)
    assert missing.found is False and bad.found is False
    assert SOURCE.applies(WorkIds(pmid="123")) is False
