"""Semantic Scholar: every real single-paper recording; resolve over loopback."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from _realserver import context, serve

from oafetch.errors import RateLimited, TransientNetError
from oafetch.ids import WorkIds
from oafetch.sources.base import HostType, Kind, SourceSettings
from oafetch.sources.semantic_scholar import SOURCE, normalise_license, paper_id, parse_paper

S2 = "semanticscholar"


def _load(realdata: Path, prefix: str) -> object:
    (path,) = [p for p in (realdata / S2).glob(prefix + "*") if ".http" not in p.name][:1]
    return json.loads(path.read_bytes())


def test_every_paper_recording(realdata: Path) -> None:
    papers = 0
    for path in sorted((realdata / S2).glob("*.json")):
        body = json.loads(path.read_bytes())
        items = (
            body
            if isinstance(body, list)
            else body.get("data", [body])
            if isinstance(body, dict)
            else []
        )
        for paper in items:
            if not isinstance(paper, dict) or "paperId" not in paper:
                continue
            result = parse_paper(paper)
            oa = paper.get("openAccessPdf") or {}
            expected = {oa["url"]} if oa.get("url") else set()
            assert {c.url for c in result.candidates} == expected, path.name
            papers += 1
    assert papers > 100


def test_gold_pdf_with_cross_ids(realdata: Path) -> None:
    result = parse_paper(_load(realdata, "graph_v1_paper_DOI_10.1038_s42256-024-00832-8"))
    (cand,) = result.candidates
    assert cand.url == "https://www.nature.com/articles/s42256-024-00832-8.pdf"
    assert cand.kind is Kind.PDF and cand.host_type is HostType.PUBLISHER
    assert cand.license == "cc-by"
    assert result.ids == WorkIds(
        doi="10.1038/s42256-024-00832-8", arxiv="2304.05376", pmid="38799228", pmcid="PMC11116106"
    )
    assert result.is_oa is True


def test_doi_link_is_landing_and_empty_url_is_nothing(realdata: Path) -> None:
    hybrid = parse_paper(_load(realdata, "graph_v1_paper_DOI_10.1016_j.addr.2015.01.008"))
    (cand,) = hybrid.candidates
    assert cand.kind is Kind.LANDING and cand.url == "https://doi.org/10.1016/j.addr.2015.01.008"
    assert cand.license == "cc-by-nc-nd"
    closed = parse_paper(_load(realdata, "graph_v1_paper_DOI_10.1063_1.4938384"))
    assert closed.candidates == [] and closed.is_oa is False
    arxiv = parse_paper(
        _load(realdata, "graph_v1_paper_DOI_10.48550_arxiv.2312.07559__fields-externalIds")
    )
    assert arxiv.ids.arxiv == "2312.07559" and arxiv.title and arxiv.title.startswith("PaperQA")


async def test_resolve_sends_key_and_maps_statuses(realdata: Path) -> None:
    paper = next(
        p
        for p in (realdata / S2).glob("graph_v1_paper_DOI_10.1073_pnas.1414271111*")
        if ".http" not in p.name
    )
    missing = next((realdata / S2).glob("graph_v1_paper_DOI_10.1101_2024.04.01.587366*http404*"))
    with serve() as srv:
        srv.route("/graph/v1/paper/DOI:10.1073/pnas.1414271111", paper)
        srv.route("/graph/v1/paper/DOI:10.1101/2024.04.01.587366", missing, status=404)
        srv.route("/graph/v1/paper/DOI:10.1/busy", b'{"message": "Too Many Requests"}', status=429)
        async with context(SourceSettings(base_url=srv.url, api_key="k-123")) as ctx:
            result = await SOURCE.resolve(WorkIds(doi="10.1073/pnas.1414271111"), ctx)
            gone = await SOURCE.resolve(WorkIds(doi="10.1101/2024.04.01.587366"), ctx)
            with pytest.raises((TransientNetError, RateLimited)):
                await SOURCE.resolve(WorkIds(doi="10.1/busy"), ctx)
        (seen,) = srv.seen("/graph/v1/paper/DOI:10.1073/pnas.1414271111")
    assert seen.headers["x-api-key"] == "k-123"
    assert seen.query["fields"] == ["title,openAccessPdf,externalIds,isOpenAccess"]
    assert result.candidates[0].url == "https://www.pnas.org/content/pnas/111/45/E4832.full.pdf"
    assert result.ids.pmid == "25349395"
    assert gone.found is False


def test_id_forms_and_licences() -> None:
    assert paper_id(WorkIds(arxiv="1706.03762")) == "ARXIV:1706.03762"
    assert paper_id(WorkIds(pmcid="PMC123")) == "PMCID:123"
    assert paper_id(WorkIds(pmid="9")) == "PMID:9"
    assert paper_id(WorkIds(openalex="W1")) is None
    assert normalise_license("CCBYSA") == "cc-by-sa"
    assert normalise_license("publisher-specific") == "publisher-specific"
