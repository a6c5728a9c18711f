"""CORE v3: NO real recording exists; these use CORE's documented search shape."""

from __future__ import annotations

import json

from _realserver import context, serve

from oafetch.ids import WorkIds
from oafetch.sources.base import Kind, SourceSettings
from oafetch.sources.core import SOURCE, parse_search

BODY = {
    "totalHits": 2,
    "results": [
        {
            "id": 1,
            "doi": "10.1/x",
            "title": "Ours",
            "downloadUrl": "https://core.ac.uk/download/1.pdf",
            "sourceFulltextUrls": ["https://repo.example/record/9"],
        },
        {"id": 2, "doi": "10.1/other", "downloadUrl": "https://core.ac.uk/download/2.pdf"},
    ],
}


def test_parse_keeps_only_our_doi() -> None:
    result = parse_search(BODY, "10.1/x")
    assert [(c.kind, c.url) for c in result.candidates] == [
        (Kind.PDF, "https://core.ac.uk/download/1.pdf"),
        (Kind.LANDING, "https://repo.example/record/9"),
    ]
    assert result.title == "Ours"


async def test_bearer_key_and_skip_without_key() -> None:
    assert SOURCE.requires_api_key is True
    with serve() as srv:
        srv.route("/v3/search/works", json.dumps(BODY), content_type="application/json")
        async with context(SourceSettings(base_url=srv.url)) as ctx:
            skipped = await SOURCE.resolve(WorkIds(doi="10.1/x"), ctx)
        assert srv.requests == []  # no key: no request at all
        async with context(SourceSettings(base_url=srv.url, api_key="sekrit")) as ctx:
            result = await SOURCE.resolve(WorkIds(doi="10.1/x"), ctx)
        (seen,) = srv.seen("/v3/search/works")
    assert skipped.found is False
    assert seen.headers["authorization"] == "Bearer sekrit"
    assert seen.query["q"] == ['doi:"10.1/x"']
    assert result.candidates[0].url == "https://core.ac.uk/download/1.pdf"
