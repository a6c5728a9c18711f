"""OpenAlex: contract tests on every recorded response, and resolve() over loopback HTTP."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from oafetch.errors import NetError
from oafetch.ids import WorkIds
from oafetch.net.client import HttpClient
from oafetch.net.urls import canonical_url
from oafetch.sources.base import HostType, Kind, SourceContext, SourceSettings, Version
from oafetch.sources.openalex import SOURCE, parse_work, parse_works_page, work_path

ReplayServer = Any  # the `replay_server` fixture of tests/sources/conftest.py

PEERJ = "openalex/openalexpy_works_W2741809807_peerj.4375.json"
PNAS = "openalex/works_https_doi.org_10.1073_pnas.1414271111.json"


def _load(realdata: Path, name: str) -> Any:
    return json.loads((realdata / name).read_bytes())


def _recorded_ok(manifest: list[dict[str, Any]]) -> list[str]:
    return [
        m["file"]
        for m in manifest
        if m["service"] == "openalex" and m["status"] == 200 and m["file"].endswith(".json")
    ]


def test_every_recorded_work_and_page_parses(
    realdata: Path, manifest: list[dict[str, Any]]
) -> None:
    files = _recorded_ok(manifest)
    assert len(files) >= 25
    works = 0
    for name in files:
        data = _load(realdata, name)
        results = parse_works_page(data) if "results" in data else [parse_work(data)]
        if "results" in data:
            assert len(results) == len(data["results"]), name
        for result in results:
            works += 1
            assert result.source == "openalex" and result.found
            keys = [canonical_url(c.url) for c in result.candidates]
            assert len(keys) == len(set(keys)), f"duplicate URL in {name}"
            for c in result.candidates:
                assert c.url.startswith("http"), (name, c.url)
                assert c.technique.startswith("openalex.") and c.source == "openalex"
            if result.is_oa is False:
                # a closed work yields no candidates from closed locations
                assert all(c.technique != "openalex.locations.pdf_url" for c in result.candidates)
    assert works >= 30


def test_peerj_every_oa_location_with_version_licence_and_host(realdata: Path) -> None:
    result = parse_work(_load(realdata, PEERJ))
    assert result.ids == WorkIds(
        doi="10.7717/peerj.4375", pmid="29456894", pmcid="PMC5815332", openalex="W2741809807"
    )
    assert result.title is not None and result.title.startswith("The state of OA")
    assert result.is_oa is True
    first = result.candidates[0]
    assert (first.url, first.kind, first.technique) == (
        "https://peerj.com/articles/4375.pdf",
        Kind.PDF,
        "openalex.best_oa_location.pdf_url",
    )
    assert (first.version, first.host_type, first.license) == (
        Version.PUBLISHED,
        HostType.PUBLISHER,
        "cc-by",
    )
    by_url = {c.url: c for c in result.candidates}
    epmc = by_url["https://europepmc.org/articles/pmc5815332?pdf=render"]
    assert (epmc.kind, epmc.host_type, epmc.technique) == (
        Kind.PDF,
        HostType.REPOSITORY,
        "openalex.locations.pdf_url",
    )
    papyrus = by_url["https://papyrus.bib.umontreal.ca/xmlui/bitstream/1866/23242/1/peerj-06-4375.pdf"]
    assert papyrus.version is Version.SUBMITTED
    # pdf_url == landing_page_url for Digital Commons: one candidate, as a pdf
    dc = "https://digitalcommons.unl.edu/cgi/viewcontent.cgi?article=1143&context=scholcom"
    assert by_url[dc].kind is Kind.PDF
    # the primary location repeats best_oa_location: not proposed twice
    assert [c.url for c in result.candidates].count("https://peerj.com/articles/4375.pdf") == 1
    # is_oa: false locations (DOAJ index page, PubMed) are not proposed
    assert "https://pubmed.ncbi.nlm.nih.gov/29456894" not in by_url
    assert "https://doaj.org/article/13b0006802e745a6973c19b2ecb9b97a" not in by_url
    assert len(result.candidates) == 8


def test_closed_work_is_found_but_not_oa(realdata: Path) -> None:
    name = "openalex/works_https_doi.org_10.1023_a_1007154515475.json"
    result = parse_work(_load(realdata, name))
    assert result.found and result.is_oa is False and result.candidates == []
    assert result.ids.doi == "10.1023/a:1007154515475" and result.ids.pmid == "11330823"


def test_select_open_access_response_gives_oa_url(realdata: Path) -> None:
    name = "openalex/works_https_doi.org_10.1093_nar_gkw1164__select-open_access_doi.json"
    result = parse_work(_load(realdata, name))
    assert result.ids == WorkIds(doi="10.1093/nar/gkw1164")
    assert [(c.url, c.technique) for c in result.candidates] == [
        (
            "https://academic.oup.com/nar/article-pdf/45/1/311/9249485/gkw1164.pdf",
            "openalex.open_access.oa_url",
        )
    ]


def test_arxiv_location_fills_the_arxiv_id(realdata: Path) -> None:
    name = (
        "openalex/works__filter-title.search_PaperQA_Retrieval-Augmented_Generative_Agent"
        "_for_Scientific_Research.json"
    )
    (result, *_) = parse_works_page(_load(realdata, name))
    assert result.ids.arxiv == "2312.07559"
    assert result.ids.openalex == "W4389761608"


def test_work_path_prefers_the_openalex_id_then_doi() -> None:
    assert work_path(WorkIds(doi="10.1/x", openalex="W1")) == "W1"
    assert work_path(WorkIds(doi="10.1000/a(b);c", pmid="1")) == "doi:10.1000/a%28b%29%3Bc"
    assert work_path(WorkIds(arxiv="1706.03762")) == "doi:10.48550/arxiv.1706.03762"
    assert work_path(WorkIds(pmid="123")) == "pmid:123"
    assert work_path(WorkIds(pmcid="PMC9")) == "pmcid:PMC9"
    assert not SOURCE.applies(WorkIds())


# --- resolve over real loopback HTTP -----------------------------------------------------


def _ctx(server: ReplayServer, http: HttpClient, **kw: Any) -> SourceContext:
    api_key = kw.pop("api_key", None)
    return SourceContext(
        http=http, settings=SourceSettings(base_url=server.url, api_key=api_key), **kw
    )


async def test_resolve_by_openalex_id_sends_key_and_mailto(
    realdata: Path, replay_server: ReplayServer, http_client: HttpClient
) -> None:
    replay_server.route("/works/W2741809807", realdata / PEERJ)
    ctx = _ctx(replay_server, http_client, api_key="k-123", mailto="me@example.org")
    result = await SOURCE.resolve(WorkIds(openalex="W2741809807"), ctx)
    assert result.candidates[0].url == "https://peerj.com/articles/4375.pdf"
    assert result.ids.pmcid == "PMC5815332"
    ((path, query),) = replay_server.requests
    assert path == "/works/W2741809807"
    assert query == {"api_key": ["k-123"], "mailto": ["me@example.org"]}


async def test_resolve_by_doi(
    realdata: Path, replay_server: ReplayServer, http_client: HttpClient
) -> None:
    replay_server.route("/works/doi:10.1073/pnas.1414271111", realdata / PNAS)
    ctx = _ctx(replay_server, http_client)
    result = await SOURCE.resolve(WorkIds(doi="10.1073/pnas.1414271111"), ctx)
    assert result.found and result.ids.openalex == "W2109415576"
    assert "https://escholarship.org/content/qt4ws805f2/qt4ws805f2.pdf?t=rt3n16" in {
        c.url for c in result.candidates
    }
    assert replay_server.requests[0][1] == {}  # no key, no mailto configured


async def test_resolve_404_and_other_4xx_are_not_found(
    realdata: Path, replay_server: ReplayServer, http_client: HttpClient
) -> None:
    replay_server.route(
        "/works/doi:10.1046/j.1365-2699.2003.00795",
        realdata / "openalex/works_https_doi.org_10.1046_j.1365-2699.2003.00795"
        "__select-open_access_doi.http404.html",
        status=404,
    )
    replay_server.route(
        "/works/W1775749144",
        realdata / "openalex/oapro_works_W1775749144__select-DOESNTEXIST.http400.json",
        status=400,
    )
    ctx = _ctx(replay_server, http_client)
    missing = await SOURCE.resolve(WorkIds(doi="10.1046/j.1365-2699.2003.00795"), ctx)
    bad = await SOURCE.resolve(WorkIds(openalex="W1775749144"), ctx)
    for result in (missing, bad):
        assert result.found is False and result.candidates == []


@pytest.mark.parametrize("status", [429, 500, 503])
async def test_resolve_retryable_statuses_raise_transient(
    status: int, replay_server: ReplayServer, http_client: HttpClient
) -> None:
    replay_server.route("/works/W1", b'{"error": "busy"}', status=status)
    ctx = _ctx(replay_server, http_client, api_key="secret-key")
    # the client (or the source, if the client hands the answer back) raises a NetError
    with pytest.raises(NetError) as info:
        await SOURCE.resolve(WorkIds(openalex="W1"), ctx)
    assert info.value.status == status
    assert "secret-key" not in str(info.value) and "secret-key" not in (info.value.url or "")
