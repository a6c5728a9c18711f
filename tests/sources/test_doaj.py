"""DOAJ: every real article record (API v2 and the bulk dump); resolve over loopback."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from _realserver import context, serve

from oafetch.ids import WorkIds
from oafetch.sources.base import Kind, SourceSettings
from oafetch.sources.doaj import SOURCE, parse_search, record_candidates, record_doi


def _records(realdata: Path) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    for path in sorted((realdata / "doaj").iterdir()):
        if path.suffix == ".jsonl":
            out += [json.loads(line) for line in path.read_text().splitlines() if line.strip()]
        else:
            body = json.loads(path.read_bytes())
            out += body.get("results", [body])
    return out


def test_every_record(realdata: Path) -> None:
    records = _records(realdata)
    assert len(records) > 40
    for record in records:
        links = [ln for ln in record["bibjson"].get("link", []) if ln.get("type") == "fulltext"]
        cands = record_candidates(record)
        assert [c.url for c in cands] == [ln["url"] for ln in links]
        assert all(c.kind in {Kind.PDF, Kind.LANDING} for c in cands)


def test_declared_pdf_that_is_a_page_stays_landing(realdata: Path) -> None:
    dump = (realdata / "doaj/fatcat_example_doaj_articles.jsonl").read_text().splitlines()
    mdpi = next(json.loads(x) for x in dump if "10.3390/cancers9080107" in x)
    assert record_doi(mdpi) == "10.3390/cancers9080107"
    (cand,) = record_candidates(mdpi)
    assert cand.url == "https://www.mdpi.com/2072-6694/9/8/107"
    assert cand.kind is Kind.LANDING and cand.extra["declared_content_type"] == "pdf"
    upper = next(json.loads(x) for x in dump if "10.1016/j.matdes.2016.06.110" in x)
    assert record_doi(upper) == "10.1016/j.matdes.2016.06.110"  # identifier type "DOI"


async def test_resolve_over_loopback(realdata: Path) -> None:
    article = realdata / "doaj/jaod_api_v2_articles_0005e11ec616453f854070069385e057.json"
    search = json.dumps({"total": 1, "results": [json.loads(article.read_bytes())]}).encode()
    with serve() as srv:
        srv.route(
            '/api/search/articles/doi:"10.3389/neuro.11.009.2007"',
            search,
            content_type="application/json",
        )
        async with context(SourceSettings(base_url=srv.url)) as ctx:
            result = await SOURCE.resolve(WorkIds(doi="10.3389/neuro.11.009.2007"), ctx)
            absent = await SOURCE.resolve(WorkIds(doi="10.1/none"), ctx)
    (cand,) = result.candidates
    assert cand.url == "http://journal.frontiersin.org/Journal/10.3389/neuro.11.009.2007/full"
    assert cand.kind is Kind.LANDING
    assert result.title == "Where in the brain are the genes expressed" and result.is_oa is True
    assert absent.found is False
    assert parse_search(search, "10.9/other").found is False
