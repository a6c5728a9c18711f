"""Europe PMC: every real search recording; resolve over a real loopback server."""

from __future__ import annotations

import json
from pathlib import Path

from _realserver import context, serve

from oafetch.ids import WorkIds
from oafetch.sources.base import HostType, Kind, SourceSettings
from oafetch.sources.europepmc import SOURCE, parse_search, query_for

CORE = "europepmc/pyepmc_search_query-cancer_core.json"
BASE = "https://www.ebi.ac.uk/europepmc/webservices/rest"


def test_every_json_recording_parses(realdata: Path) -> None:
    """Each recorded result, looked up by its own DOI, yields only free links."""
    checked = 0
    for path in sorted((realdata / "europepmc").glob("*.json")):
        body = json.loads(path.read_bytes())
        for record in body.get("resultList", {}).get("result", []):
            if not record.get("doi"):
                continue
            result = parse_search(body, WorkIds(doi=record["doi"].lower()), BASE)
            assert result.found
            for cand in result.candidates:
                assert cand.kind in {Kind.PDF, Kind.LANDING, Kind.XML}
                assert cand.extra.get("availability", "open access") in {"open access", "free"}
            checked += 1
    assert checked > 50


def test_open_access_record_gives_pdf_landing_and_jats(realdata: Path) -> None:
    body = json.loads((realdata / CORE).read_bytes())
    result = parse_search(body, WorkIds(doi="10.1002/hpja.70059"), BASE)
    assert [(c.kind, c.url) for c in result.candidates] == [
        (Kind.LANDING, "https://europepmc.org/articles/PMC12120539"),
        (Kind.PDF, "https://europepmc.org/articles/PMC12120539?pdf=render"),
        (Kind.XML, f"{BASE}/PMC12120539/fullTextXML"),
    ]
    assert all(c.host_type is HostType.REPOSITORY for c in result.candidates)
    assert result.ids == WorkIds(doi="10.1002/hpja.70059", pmid="40437959", pmcid="PMC12120539")
    assert result.is_oa is True
    assert result.title and result.title.startswith("Co-Designed Culturally Tailored Cancer")


def test_free_but_not_oa_and_subscription_only(realdata: Path) -> None:
    body = json.loads((realdata / CORE).read_bytes())
    free = parse_search(body, WorkIds(doi="10.1016/s0140-6736(24)02716-8"), BASE)
    assert "https://europepmc.org/articles/PMC12124214?pdf=render" in {
        c.url for c in free.candidates
    }
    assert free.is_oa is None
    closed = parse_search(body, WorkIds(doi="10.1111/bjhp.12807"), BASE)
    assert closed.candidates == [] and closed.is_oa is False
    other = parse_search(body, WorkIds(doi="10.9999/not-in-page"), BASE)
    assert other.found is False


def test_no_results_recording(realdata: Path) -> None:
    body = json.loads((realdata / "europepmc/pyepmc_search_no_results.json").read_bytes())
    assert parse_search(body, WorkIds(doi="10.1/x"), BASE).found is False


async def test_resolve_over_loopback(realdata: Path) -> None:
    with serve() as srv:
        srv.route("/rest/search", realdata / CORE)
        async with context(SourceSettings(base_url=f"{srv.url}/rest")) as ctx:
            result = await SOURCE.resolve(WorkIds(doi="10.1007/s12672-025-02412-7"), ctx)
        (seen,) = srv.seen("/rest/search")
    assert seen.query["query"] == ['DOI:"10.1007/s12672-025-02412-7"']
    assert seen.query["resultType"] == ["core"] and seen.query["format"] == ["json"]
    assert f"{srv.url}/rest/PMC12170467/fullTextXML" in {c.url for c in result.candidates}
    assert query_for(WorkIds(pmid="1")) == "EXT_ID:1 AND SRC:MED"
    assert query_for(WorkIds(pmcid="PMC9", doi="10.1/a")) == "PMCID:PMC9"
