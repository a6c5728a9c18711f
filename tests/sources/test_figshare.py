"""Figshare: NO real recording exists; these use the documented v2 shapes."""

from __future__ import annotations

import json

from _realserver import context, serve

from oafetch.ids import WorkIds
from oafetch.sources.base import Kind, SourceSettings
from oafetch.sources.figshare import SOURCE

LIST = [
    {"id": 111, "doi": "10.6084/m9.figshare.111", "title": "Ours"},
    {"id": 222, "doi": "10.6084/m9.figshare.222", "title": "Not ours"},
]
DETAIL = {
    "id": 111,
    "title": "Ours",
    "license": {"name": "CC BY 4.0"},
    "files": [
        {"name": "data.csv", "download_url": "https://ndownloader.figshare.com/files/1"},
        {"name": "Paper.PDF", "download_url": "https://ndownloader.figshare.com/files/2"},
    ],
}


async def test_resolve_lists_then_reads_matching_article() -> None:
    with serve() as srv:
        srv.route("/v2/articles", json.dumps(LIST), content_type="application/json")
        srv.route("/v2/articles/111", json.dumps(DETAIL), content_type="application/json")
        async with context(SourceSettings(base_url=srv.url)) as ctx:
            result = await SOURCE.resolve(WorkIds(doi="10.6084/m9.figshare.111"), ctx)
            none = await SOURCE.resolve(WorkIds(doi="10.1/absent"), ctx)
        assert srv.seen("/v2/articles/222") == []
        assert srv.seen("/v2/articles")[0].query["doi"] == ["10.6084/m9.figshare.111"]
    (cand,) = result.candidates
    assert cand.url == "https://ndownloader.figshare.com/files/2" and cand.kind is Kind.PDF
    assert cand.license == "CC BY 4.0" and result.title == "Ours"
    assert none.found is False
