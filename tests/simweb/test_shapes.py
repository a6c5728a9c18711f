"""simweb's response shapes may not drift from the real services'.

For every service with recordings in shared/realdata, every key path that a simweb answer
uses must occur in at least one real recording of that service (read in place). Paths are
dotted keys with `[]` for list items; dict keys that are data (ids, words) are not generated.
"""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import quote

import httpx
import pytest

from oafetch.simweb import SimWeb, SimWork


def key_paths(obj: Any, prefix: str = "") -> set[str]:
    out: set[str] = set()
    if isinstance(obj, dict):
        for k, v in obj.items():
            p = f"{prefix}.{k}" if prefix else str(k)
            out.add(p)
            out |= key_paths(v, p)
    elif isinstance(obj, list):
        for v in obj:
            out |= key_paths(v, prefix + "[]")
    return out


def real_paths(
    realdata: Path, service: str, pattern: str = "*.json", unwrap: str | None = None
) -> set[str]:
    paths: set[str] = set()
    for f in sorted((realdata / service).glob(pattern)):
        try:
            data = json.loads(f.read_text("utf-8"))
        except ValueError:
            continue
        if unwrap and isinstance(data, dict):
            data = data.get(unwrap, {})
        paths |= key_paths(data)
    assert paths, f"no real {service} recordings matched {pattern}"
    return paths


def assert_subset(ours: set[str], real: set[str], service: str) -> None:
    assert ours, f"simweb produced nothing to compare for {service}"
    missing = sorted(ours - real)
    assert not missing, f"{service}: key paths not seen in any real recording: {missing}"


@pytest.fixture(scope="module")
def client() -> Iterator[httpx.Client]:
    with httpx.Client(timeout=10) as c:
        yield c


def _with(web: SimWeb, source: str) -> list[SimWork]:
    known = {w["index"]: w["known_to"] for w in web.world_data()["works"]}
    return [w for w in web.world if source in known[w.index]]


def test_openalex(cascade_web: SimWeb, client: httpx.Client, realdata: Path) -> None:
    ours: set[str] = set()
    for w in _with(cascade_web, "openalex"):
        ours |= key_paths(
            client.get(cascade_web.url("openalex", f"/works/{w.ids['openalex']}")).json()
        )
    single = (
        real_paths(realdata, "openalex", "works_https*.json")
        | real_paths(realdata, "openalex", "oapro_works_W*.json")
        | real_paths(realdata, "openalex", "openalexpy_*.json")
    )
    assert_subset(ours, single, "openalex")
    # A list page: the envelope as recorded; each result as a recorded work (list or single).
    page = client.get(
        cascade_web.url("openalex", "/works"),
        params={"filter": "is_oa:true", "cursor": "*", "per-page": "2"},
    ).json()
    lists = real_paths(realdata, "openalex", "oapro_*works__*.json")
    envelope = {p for p in key_paths(page) if not p.startswith("results[].")}
    assert_subset(envelope, lists, "openalex list envelope")
    in_lists = {p.removeprefix("results[].") for p in lists if p.startswith("results[].")}
    results: set[str] = set()
    for item in page["results"]:
        results |= key_paths(item)
    assert_subset(results, single | in_lists, "openalex list results")


def test_openalex_404_is_the_real_page(
    cascade_web: SimWeb, client: httpx.Client, realdata: Path
) -> None:
    real = next((realdata / "openalex").glob("*.http404.html")).read_text("utf-8")
    r = client.get(cascade_web.url("openalex", "/works/doi:10.5555/none"))
    assert r.status_code == 404 and r.text.split() == real.split()


def test_unpaywall(cascade_web: SimWeb, client: httpx.Client, realdata: Path) -> None:
    ours: set[str] = set()
    for w in _with(cascade_web, "unpaywall"):
        ours |= key_paths(
            client.get(
                cascade_web.url("unpaywall", f"/v2/{w.ids['doi']}"),
                params={"email": "t@example.org"},
            ).json()
        )
    assert_subset(ours, real_paths(realdata, "unpaywall", "*v2_10.*.json"), "unpaywall")


def test_crossref(cascade_web: SimWeb, client: httpx.Client, realdata: Path) -> None:
    ours: set[str] = set()
    for w in cascade_web.world:
        if "doi" in w.ids and w.scenario != "unknown":
            ours |= key_paths(
                client.get(cascade_web.url("crossref", f"/works/{w.ids['doi']}")).json()
            )
    assert_subset(ours, real_paths(realdata, "crossref"), "crossref")
    real404 = (realdata / "crossref" / "works_10.48550_arxiv.2312.07559.http404.txt").read_text()
    miss = client.get(cascade_web.url("crossref", "/works/10.5555/none"))
    assert miss.status_code == 404 and miss.text == real404.strip()


def test_europepmc(cascade_web: SimWeb, client: httpx.Client, realdata: Path) -> None:
    ours: set[str] = set()
    for w in _with(cascade_web, "europepmc"):
        ours |= key_paths(
            client.get(
                cascade_web.url("europepmc", "/search"),
                params={"query": f'DOI:"{w.ids["doi"]}"', "resultType": "core", "format": "json"},
            ).json()
        )
    ours |= key_paths(
        client.get(
            cascade_web.url("europepmc", "/search"), params={"query": 'DOI:"10.1/none"'}
        ).json()
    )
    assert_subset(ours, real_paths(realdata, "europepmc"), "europepmc")


def test_semantic_scholar(cascade_web: SimWeb, client: httpx.Client, realdata: Path) -> None:
    real = real_paths(realdata, "semanticscholar")
    ours: set[str] = set()
    for w in _with(cascade_web, "semantic_scholar"):
        ours |= key_paths(
            client.get(
                cascade_web.url("semantic_scholar", f"/graph/v1/paper/DOI:{w.ids['doi']}")
            ).json()
        )
    assert_subset(ours, real, "semantic_scholar")
    miss = client.get(cascade_web.url("semantic_scholar", "/graph/v1/paper/DOI:10.1/none"))
    assert miss.status_code == 404 and key_paths(miss.json()) <= real


def test_doaj(cascade_web: SimWeb, client: httpx.Client, realdata: Path) -> None:
    ours: set[str] = set()
    for w in _with(cascade_web, "doaj"):
        ours |= key_paths(
            client.get(
                cascade_web.url("doaj", f"/api/search/articles/doi:{quote(w.ids['doi'], safe='')}")
            ).json()
        )
    assert_subset(ours, real_paths(realdata, "doaj", "jaod_api_v2_search*.json"), "doaj")


def test_zenodo_record(cascade_web: SimWeb, client: httpx.Client, realdata: Path) -> None:
    """Zenodo's search wraps records in hits.hits[]; the record shape is what is recorded."""
    ours: set[str] = set()
    for w in _with(cascade_web, "zenodo"):
        res = client.get(
            cascade_web.url("zenodo", "/api/records"), params={"q": f'doi:"{w.ids["doi"]}"'}
        ).json()
        for rec in res["hits"]["hits"]:
            ours |= key_paths(rec)
    assert_subset(ours, real_paths(realdata, "zenodo"), "zenodo")


def test_osf_file(cascade_web: SimWeb, client: httpx.Client, realdata: Path) -> None:
    """OSF preprints were never recorded; the file object (JSON-API) is."""
    ours: set[str] = set()
    for w in _with(cascade_web, "osf"):
        pre = client.get(
            cascade_web.url("osf", "/v2/preprints/"), params={"filter[doi]": w.ids["doi"]}
        ).json()
        href = pre["data"][0]["relationships"]["primary_file"]["links"]["related"]["href"]
        ours |= key_paths(client.get(href).json())
    assert_subset(ours, real_paths(realdata, "osf", "osfr_v2_files_*.json"), "osf files")


def test_ncbi_idconv(cascade_web: SimWeb, client: httpx.Client, realdata: Path) -> None:
    ours: set[str] = set()
    for w in _with(cascade_web, "pmc"):
        ours |= key_paths(
            client.get(
                cascade_web.url("pmc", "/pmc/utils/idconv/v1.0/"),
                params={"ids": w.ids["doi"], "format": "json"},
            ).json()
        )
    assert_subset(ours, real_paths(realdata, "ncbi_idconv", "*ng.590*.json"), "idconv")
    err = client.get(
        cascade_web.url("pmc", "/pmc/utils/idconv/v1.0/"),
        params={"ids": "28371833", "idtype": "doi", "format": "json"},
    )
    assert err.status_code == 404
    assert key_paths(err.json()) == real_paths(realdata, "ncbi_idconv", "*.http404.json")


def _xml_paths(text: str) -> set[str]:
    out: set[str] = set()

    def walk(el: ET.Element, prefix: str) -> None:
        p = f"{prefix}/{el.tag}"
        out.add(p)
        out.update(f"{p}@{a}" for a in el.attrib)
        for child in el:
            walk(child, p)

    walk(ET.fromstring(text.encode()), "")
    return out


def test_arxiv_atom(cascade_web: SimWeb, client: httpx.Client, realdata: Path) -> None:
    real: set[str] = set()
    for f in (realdata / "arxiv").glob("arxivpy_*.atom.xml"):
        real |= _xml_paths(f.read_text("utf-8"))
    ours: set[str] = set()
    for w in _with(cascade_web, "arxiv"):
        ours |= _xml_paths(
            client.get(
                cascade_web.url("arxiv", "/api/query"), params={"id_list": w.ids["arxiv"]}
            ).text
        )
    assert_subset(ours, real, "arxiv")


def test_wayback_cdx_columns(cascade_web: SimWeb, client: httpx.Client, realdata: Path) -> None:
    real_cols = {
        len(line.split())
        for f in (realdata / "wayback").glob("edgi_cdx_*.txt")
        if ".http" not in f.name
        for line in f.read_text().splitlines()
        if line.strip()
    }
    w = next(w for w in cascade_web.world if w.scenario == "wayback_rescue")
    url = next(u for u in cascade_web.world_data()["works"][w.index]["urls"] if u.endswith("/pdf"))
    text = client.get(cascade_web.url("wayback", "/cdx/search/cdx"), params={"url": url}).text
    assert text and {len(line.split()) for line in text.splitlines()} <= real_cols
