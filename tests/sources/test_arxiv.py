"""arXiv: the no-call PDF candidate, the Atom parser on every recorded feed, DOI lookup."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from oafetch.ids import WorkIds, normalize_arxiv
from oafetch.net.client import HttpClient
from oafetch.sources.arxiv import SOURCE, ArxivSource, parse_atom
from oafetch.sources.base import HostType, Kind, SourceContext, SourceSettings, Version

ReplayServer = Any  # the `replay_server` fixture of tests/sources/conftest.py

OLD_1111 = "arxiv/arxivpy_old_id_list-1111.2011v2.atom.xml"


@dataclass(frozen=True, slots=True)
class _SettingsWithApi(SourceSettings):
    """SourceSettings plus the `api_url` that config carries for arXiv (see report)."""

    api_url: str | None = None


def _atoms(manifest: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [m for m in manifest if m["service"] == "arxiv" and m["file"].endswith(".atom.xml")]


def test_every_recorded_feed_parses(realdata: Path, manifest: list[dict[str, Any]]) -> None:
    feeds = _atoms(manifest)
    assert len(feeds) >= 25
    total = 0
    for m in feeds:
        entries = parse_atom((realdata / m["file"]).read_bytes())
        if m["status"] != 200:
            assert entries == [], m["file"]  # the error feed has no real entry
        for e in entries:
            total += 1
            assert e["id"] == normalize_arxiv(e["id"] or "")
            assert e["pdf"] is not None and e["pdf"].endswith("/pdf/" + (e["versioned_id"] or ""))
            assert e["title"] and "\n" not in e["title"]
    assert total >= 250


def test_specific_entries(realdata: Path) -> None:
    (entry,) = parse_atom((realdata / OLD_1111).read_bytes())
    assert entry == {
        "id": "1111.2011",
        "versioned_id": "1111.2011v2",
        "title": "Quantum Criticality for Extended Nodes on a Bethe Lattice in the Large "
        "Connectivity Limit",
        "doi": "10.1103/physrevb.85.115117",
        "pdf": "http://arxiv.org/pdf/1111.2011v2",
    }
    old = parse_atom(
        (realdata / "arxiv/arxivpy_id_hep-ex_0406020v1_s0_m100_84b15d66c0ce.atom.xml").read_bytes()
    )
    assert [(e["id"], e["pdf"]) for e in old] == [
        ("hep-ex/0406020", "https://arxiv.org/pdf/hep-ex/0406020v1")
    ]
    two = parse_atom(
        (realdata / "arxiv/arxivpy_id_0808.05394_1707.08567_s0_m100_42e5aa0ec3af.atom.xml")
        .read_bytes()
    )
    assert [e["id"] for e in two] == ["1707.08567"]  # 0808.05394 does not exist
    error_feed = realdata / "arxiv/arxivpy_id_abc_s0_m100_b79c8dcf6bc3.atom.xml"
    assert parse_atom(error_feed.read_bytes()) == []


def test_not_xml_is_a_value_error() -> None:
    with pytest.raises(ValueError, match="not an Atom feed"):
        parse_atom(b"<html><body>oops")


def test_entity_expansion_is_refused() -> None:
    bomb = (
        b'<?xml version="1.0"?><!DOCTYPE f [<!ENTITY a "aaaaaaaaaa">'
        b'<!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;">]>'
        b'<feed xmlns="http://www.w3.org/2005/Atom"><title>&b;</title></feed>'
    )
    with pytest.raises(ValueError) as info:
        parse_atom(bomb)
    assert type(info.value).__name__ == "EntitiesForbidden"


async def test_known_id_needs_no_request(
    replay_server: ReplayServer, http_client: HttpClient
) -> None:
    ctx = SourceContext(http=http_client, settings=SourceSettings(base_url="https://arxiv.org/"))
    result = await SOURCE.resolve(WorkIds(arxiv="hep-th/9901001", doi="10.1/x"), ctx)
    (c,) = result.candidates
    assert (c.url, c.kind, c.version, c.host_type, c.technique) == (
        "https://arxiv.org/pdf/hep-th/9901001",
        Kind.PDF,
        Version.SUBMITTED,
        HostType.REPOSITORY,
        "arxiv.id",
    )
    assert result.is_oa is True and replay_server.requests == []


async def test_doi_lookup_is_off_by_default(
    replay_server: ReplayServer, http_client: HttpClient
) -> None:
    work = WorkIds(doi="10.1103/physrevb.85.115117")
    assert not SOURCE.applies(work)
    settings = _SettingsWithApi(
        base_url="https://arxiv.org", api_url=replay_server.url + "/api/query"
    )
    result = await SOURCE.resolve(work, SourceContext(http=http_client, settings=settings))
    assert result.found is False and replay_server.requests == []


async def test_doi_lookup_confirms_the_exact_doi(
    realdata: Path, replay_server: ReplayServer, http_client: HttpClient
) -> None:
    replay_server.route("/api/query", realdata / OLD_1111)
    source = ArxivSource(lookup_by_doi=True)
    settings = _SettingsWithApi(
        base_url="https://arxiv.org", api_url=replay_server.url + "/api/query"
    )
    ctx = SourceContext(http=http_client, settings=settings)
    work = WorkIds(doi="10.1103/physrevb.85.115117")
    assert source.applies(work)
    result = await source.resolve(work, ctx)
    assert result.ids.arxiv == "1111.2011"
    assert [(c.url, c.technique) for c in result.candidates] == [
        ("https://arxiv.org/pdf/1111.2011", "arxiv.doi")
    ]
    ((path, query),) = replay_server.requests
    assert path == "/api/query" and query["search_query"] == ['all:"10.1103/physrevb.85.115117"']
    # the same feed does not confirm a different DOI
    other = await source.resolve(WorkIds(doi="10.1103/physrevb.99.000001"), ctx)
    assert other.found is False and other.candidates == []
