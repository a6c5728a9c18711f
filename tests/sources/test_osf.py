"""OSF: real JSON-API file recordings (OSF test server); preprints step is documented-only."""

from __future__ import annotations

import json
from pathlib import Path

from _realserver import context, serve

from oafetch.ids import WorkIds
from oafetch.sources.base import Kind, SourceSettings
from oafetch.sources.osf import SOURCE, file_candidates

LISTING = "osf/osfr_v2_nodes_y8t6r_files_osfstorage___page-1.json"


def test_every_recording_only_pdf_files(realdata: Path) -> None:
    found: dict[str, list[str]] = {}
    for path in sorted((realdata / "osf").glob("*.json")):
        found[path.name] = [c.url for c in file_candidates(json.loads(path.read_bytes()), "t")]
    assert found.pop("osfr_v2_nodes_y8t6r_files_osfstorage___page-1.json") == [
        "https://test.osf.io/download/bexrz/"
    ]
    # folders, nodes and the .txt file give nothing
    assert all(v == [] for v in found.values()), found
    assert len(found) == 8


async def test_node_doi_lists_storage(realdata: Path) -> None:
    with serve() as srv:
        srv.route("/v2/nodes/y8t6r/files/osfstorage/", realdata / LISTING)
        async with context(SourceSettings(base_url=srv.url)) as ctx:
            result = await SOURCE.resolve(WorkIds(doi="10.17605/osf.io/y8t6r"), ctx)
    (cand,) = result.candidates
    assert cand.kind is Kind.PDF and cand.extra["file_name"] == "image-file-01.pdf"


async def test_preprint_doi_follows_primary_file(realdata: Path) -> None:
    file_obj = json.loads(
        (realdata / "osf/osfr_v2_files_69967c90d957f4745b0cab28.json").read_bytes()
    )
    file_obj["data"]["attributes"]["name"] = "preprint.pdf"  # the recording is a .txt file
    with serve() as srv:
        preprints = {  # documented preprint shape (no real recording exists)
            "data": [
                {
                    "id": "abc12",
                    "type": "preprints",
                    "attributes": {"title": "A preprint"},
                    "links": {"html": "https://osf.io/preprints/socarxiv/abc12/"},
                    "relationships": {
                        "primary_file": {"links": {"related": {"href": f"{srv.url}/v2/files/f1/"}}}
                    },
                }
            ]
        }
        srv.route("/v2/preprints/", json.dumps(preprints), content_type="application/vnd.api+json")
        srv.route("/v2/files/f1/", json.dumps(file_obj), content_type="application/vnd.api+json")
        async with context(SourceSettings(base_url=srv.url)) as ctx:
            result = await SOURCE.resolve(WorkIds(doi="10.31235/osf.io/abc12"), ctx)
        (seen,) = srv.seen("/v2/preprints/")
    assert seen.query["filter[doi]"] == ["10.31235/osf.io/abc12"]
    assert [(c.kind, c.url) for c in result.candidates] == [
        (Kind.PDF, "https://test.osf.io/download/69967c90d957f4745b0cab28/"),
        (Kind.LANDING, "https://osf.io/preprints/socarxiv/abc12/"),
    ]
    assert result.title == "A preprint"
