"""HAL search: NO real recording exists; these use HAL's documented Solr JSON shape."""

from __future__ import annotations

import json

from _realserver import context, serve

from oafetch.ids import WorkIds
from oafetch.sources.base import Kind, SourceSettings
from oafetch.sources.hal import SOURCE, parse_search

DOC = {
    "response": {
        "numFound": 1,
        "start": 0,
        "docs": [
            {
                "fileMain_s": "https://hal.science/hal-01234567/document",
                "uri_s": "https://hal.science/hal-01234567",
                "title_s": ["A title"],
                "docType_s": "ART",
            }
        ],
    }
}


def test_parse_documented_shape() -> None:
    result = parse_search(DOC)
    assert [(c.kind, c.url) for c in result.candidates] == [
        (Kind.PDF, "https://hal.science/hal-01234567/document"),
        (Kind.LANDING, "https://hal.science/hal-01234567"),
    ]
    assert result.title == "A title" and result.is_oa is True
    assert parse_search({"response": {"numFound": 0, "docs": []}}).found is False


async def test_resolve_query() -> None:
    with serve() as srv:
        srv.route("/search/", json.dumps(DOC), content_type="application/json")
        async with context(SourceSettings(base_url=srv.url)) as ctx:
            result = await SOURCE.resolve(WorkIds(doi="10.1/x"), ctx)
        (seen,) = srv.seen("/search/")
    assert seen.query["q"] == ['doiId_s:"10.1/x"'] and seen.query["wt"] == ["json"]
    assert "fileMain_s" in seen.query["fl"][0]
    assert result.candidates[0].technique == "hal.file_main"
