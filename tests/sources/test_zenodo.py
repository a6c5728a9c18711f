"""Zenodo: both real record recordings; resolve over loopback (search and list shapes)."""

from __future__ import annotations

import json
from pathlib import Path

from _realserver import context, serve

from oafetch.ids import WorkIds
from oafetch.sources.base import Kind, SourceSettings
from oafetch.sources.zenodo import SOURCE, parse_records, record_candidates

DRYAD = "zenodo/papis_api_records_10794563.json"
SOFTWARE = "zenodo/papis_api_records_7391177.json"


def test_every_recorded_record(realdata: Path) -> None:
    dryad = json.loads((realdata / DRYAD).read_bytes())
    (pdf,) = record_candidates(dryad)
    assert pdf.url == (
        "https://zenodo.org/api/records/10794563/files/Reciprocal_line-cross_explanation.pdf/content"
    )
    assert pdf.kind is Kind.PDF and pdf.license == "cc-zero"
    software = json.loads((realdata / SOFTWARE).read_bytes())
    assert record_candidates(software) == []  # a .zip is not a paper
    assert parse_records(software, "10.5281/zenodo.7391177").title == (
        "Transformers: State-of-the-Art Natural Language Processing"
    )
    assert len(list((realdata / "zenodo").iterdir())) == 2


def test_legacy_files_entries_shape(realdata: Path) -> None:
    """Same record with `files` as `{entries: {key: {links: {content}}}}`."""
    record = json.loads((realdata / DRYAD).read_bytes())
    record["files"] = {
        "entries": {
            f["key"]: {"key": f["key"], "links": {"content": f["links"]["self"]}}
            for f in record["files"]
        }
    }
    (pdf,) = record_candidates(record)
    assert pdf.url.endswith("/Reciprocal_line-cross_explanation.pdf/content")


async def test_resolve_search_over_loopback(realdata: Path) -> None:
    record = json.loads((realdata / DRYAD).read_bytes())
    search = json.dumps({"hits": {"hits": [record], "total": 1}}).encode()
    with serve() as srv:
        srv.route("/api/records", search, content_type="application/json")
        async with context(SourceSettings(base_url=srv.url)) as ctx:
            result = await SOURCE.resolve(WorkIds(doi="10.5061/dryad.66t1g1k7m"), ctx)
            other = await SOURCE.resolve(WorkIds(doi="10.1/other"), ctx)
        seen = srv.seen("/api/records")[0]
    assert seen.query["q"] == ['doi:"10.5061/dryad.66t1g1k7m"']
    assert [c.technique for c in result.candidates] == ["zenodo.record_file"]
    assert result.is_oa is True
    assert other.found is False  # a hit for another DOI is not ours
