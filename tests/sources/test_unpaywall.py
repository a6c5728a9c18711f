"""Unpaywall: contract tests on every recorded record, and resolve() over loopback HTTP."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from oafetch.errors import NetError
from oafetch.ids import WorkIds
from oafetch.net.client import HttpClient
from oafetch.sources.base import HostType, Kind, SourceContext, SourceSettings, Version
from oafetch.sources.unpaywall import SOURCE, parse_work

ReplayServer = Any  # the `replay_server` fixture of tests/sources/conftest.py

CORTEX = "unpaywall/ezunpaywall_v2_10.1016_j.cortex.2017.07.021.json"
NATURE = "unpaywall/unpywall_v2_10.1038_nature12373.json"


def _load(realdata: Path, name: str) -> Any:
    return json.loads((realdata / name).read_bytes())


def _records(manifest: list[dict[str, Any]]) -> list[str]:
    return [
        m["file"]
        for m in manifest
        if m["service"] == "unpaywall" and m["status"] == 200 and "/v2/search" not in m["url"]
    ]


def test_every_recorded_record_yields_exactly_its_location_urls(
    realdata: Path, manifest: list[dict[str, Any]]
) -> None:
    files = _records(manifest)
    assert len(files) >= 50
    for name in files:
        data = _load(realdata, name)
        result = parse_work(data)
        assert result.found and result.is_oa is data["is_oa"], name
        assert result.ids.doi == data["doi"].lower(), name
        expected_pdfs = {
            loc["url_for_pdf"] for loc in data.get("oa_locations") or [] if loc.get("url_for_pdf")
        }
        got_pdfs = {c.url for c in result.candidates if c.kind is Kind.PDF}
        assert got_pdfs == expected_pdfs, name
        expected_all = expected_pdfs | {
            loc["url_for_landing_page"]
            for loc in data.get("oa_locations") or []
            if loc.get("url_for_landing_page")
        }
        assert {c.url for c in result.candidates} == expected_all, name
        assert len(result.candidates) == len(expected_all)  # each URL once
        for c in result.candidates:
            assert c.technique in ("unpaywall.url_for_pdf", "unpaywall.url_for_landing_page")
            assert c.host_type in (HostType.PUBLISHER, HostType.REPOSITORY)
            assert "evidence" in c.extra
        if data["is_oa"] is False:
            assert result.candidates == []


def test_cortex_locations_versions_licences_evidence(realdata: Path) -> None:
    result = parse_work(_load(realdata, CORTEX))
    assert result.title is not None and result.title.startswith("Processing speed")
    by_url = {c.url: c for c in result.candidates}
    pure = by_url["https://www.pure.ed.ac.uk/ws/files/44539901/1_s2.0_S0010945217302460_main.pdf"]
    assert (pure.kind, pure.version, pure.host_type, pure.license) == (
        Kind.PDF,
        Version.PUBLISHED,
        HostType.REPOSITORY,
        "cc-by",
    )
    assert pure.extra["evidence"] == "oa repository (via OAI-PMH doi match)"
    assert pure.extra["repository_institution"] == (
        "University of Edinburgh - Edinburgh Research Explorer"
    )
    glasgow = by_url["http://eprints.gla.ac.uk/186757/1/186757.pdf"]
    assert glasgow.version is Version.ACCEPTED
    best = result.candidates[0]
    assert (best.url, best.kind, best.host_type, best.extra["is_best"]) == (
        "https://doi.org/10.1016/j.cortex.2017.07.021",
        Kind.LANDING,
        HostType.PUBLISHER,
        True,
    )
    assert result.ids.pmcid == "PMC5637162"


def test_nature_arxiv_copy_is_submitted_and_fills_the_arxiv_id(realdata: Path) -> None:
    result = parse_work(_load(realdata, NATURE))
    arxiv = [c for c in result.candidates if c.url == "http://arxiv.org/pdf/1304.1068"]
    assert len(arxiv) == 1 and arxiv[0].version is Version.SUBMITTED
    assert result.ids == WorkIds(doi="10.1038/nature12373", arxiv="1304.1068", pmcid="PMC4221854")


def test_closed_record_has_no_candidates(realdata: Path) -> None:
    result = parse_work(_load(realdata, "unpaywall/v2_10.1023_a_1007154515475.json"))
    assert result.found and result.is_oa is False and result.candidates == []


def test_needs_a_doi_and_says_it_needs_a_mailto() -> None:
    assert SOURCE.requires_mailto is True
    assert SOURCE.applies(WorkIds(doi="10.1038/nature12373"))
    assert not SOURCE.applies(WorkIds(arxiv="1304.1068", pmid="1"))


# --- resolve over real loopback HTTP -----------------------------------------------------


def _ctx(server: ReplayServer, http: HttpClient, mailto: str | None) -> SourceContext:
    return SourceContext(http=http, settings=SourceSettings(base_url=server.url), mailto=mailto)


async def test_resolve_sends_the_email(
    realdata: Path, replay_server: ReplayServer, http_client: HttpClient
) -> None:
    replay_server.route("/v2/10.1038/nature12373", realdata / NATURE)
    result = await SOURCE.resolve(
        WorkIds(doi="10.1038/nature12373"), _ctx(replay_server, http_client, "me@example.org")
    )
    assert result.candidates[0].url.startswith("https://dash.harvard.edu/")
    assert replay_server.requests == [("/v2/10.1038/nature12373", {"email": ["me@example.org"]})]


async def test_resolve_without_email_asks_nothing(
    replay_server: ReplayServer, http_client: HttpClient
) -> None:
    result = await SOURCE.resolve(
        WorkIds(doi="10.1038/nature12373"), _ctx(replay_server, http_client, None)
    )
    assert result.found is False and replay_server.requests == []


async def test_resolve_404_is_not_found(
    replay_server: ReplayServer, http_client: HttpClient
) -> None:
    replay_server.route(
        "/v2/10.1234/missing", b'{"HTTP_status_code": 404, "error": true}', status=404
    )
    result = await SOURCE.resolve(
        WorkIds(doi="10.1234/missing"), _ctx(replay_server, http_client, "me@example.org")
    )
    assert result.found is False and result.candidates == []
    assert replay_server.requests[0][0] == "/v2/10.1234/missing"


async def test_resolve_5xx_raises_without_leaking_the_email(
    replay_server: ReplayServer, http_client: HttpClient
) -> None:
    replay_server.route("/v2/10.1234/busy", b"oops", status=503)
    with pytest.raises(NetError) as info:
        await SOURCE.resolve(
            WorkIds(doi="10.1234/busy"), _ctx(replay_server, http_client, "secret@example.org")
        )
    assert info.value.status == 503
    assert "secret@example.org" not in f"{info.value} {info.value.url}"
