"""The second-line APIs: PMC (idconv + OA service), Europe PMC, Semantic Scholar, DOAJ,
Zenodo, HAL, CORE, OSF and Figshare.

Why shapes matter even here: each oafetch source parses the real field names, so the
simulated answers use the recorded responses' nesting (see test_shapes.py); services with
no recording (PMC OA service, HAL, CORE, Figshare, OSF preprints) follow their public docs.
"""

from __future__ import annotations

import re
from html import escape
from typing import Any

from .apis import json_response
from .content import not_found, robots, serve_resource
from .state import SimState
from .wire import Request, Response
from .world import Loc, WorkSpec

__all__ = ["HANDLERS_MORE"]

_DOI_Q = re.compile(r'(?i)^\s*(?:doi|doiId_s)\s*:\s*"?([^"]+?)"?\s*$')


def _doi_from_query(text: str) -> str:
    m = _DOI_Q.match(text)
    return (m.group(1) if m else text).strip().strip('"')


def _routed(st: SimState, req: Request) -> Response | None:
    """Files the world placed on this API host (PMC PDFs, Zenodo files, fullTextXML)."""
    res = st.world.routes.get((req.host, req.path))
    return None if res is None else serve_resource(st, req, res)


# --- PMC ------------------------------------------------------------------------------------


def pmc_handler(st: SimState, req: Request) -> Response:
    if req.path == "/robots.txt":
        return robots(st, req)
    if req.path.rstrip("/") == "/pmc/utils/idconv/v1.0":
        return _idconv(st, req)
    if req.path.rstrip("/") == "/pmc/utils/oa/oa.fcgi":
        return _oa_service(st, req)
    return _routed(st, req) or not_found()


def _idconv(st: SimState, req: Request) -> Response:
    records: list[dict[str, Any]] = []
    idtype = req.query.get("idtype", "")
    for raw in filter(None, (s.strip() for s in req.query.get("ids", "").split(","))):
        kind = idtype or (
            "pmcid" if raw.upper().startswith("PMC") else "doi" if raw.startswith("10.") else "pmid"
        )
        spec = st.world.find(kind, raw.upper() if kind == "pmcid" else raw)
        if spec is None or "idconv" not in spec.apis:
            if kind != "pmid" and raw.isdigit():
                return json_response(
                    {
                        "status": "error",
                        "message": f"ID%20type%20%27{kind}%27%20mismatch%20for%20%27{raw}%27",
                        "responseDate": "2025-01-01 00:00:00",
                        "request": req.raw_query,
                    },
                    404,
                    "application/json; charset=ISO-8859-1",
                )
            records.append({"requested-id": raw, "status": "error", "errmsg": "invalid article id"})
            continue
        ids = spec.sim.ids
        records.append(
            {
                "pmcid": ids["pmcid"],
                "pmid": ids.get("pmid"),
                "doi": spec.doi,
                "versions": [{"pmcid": f"{ids['pmcid']}.1", "current": "true"}],
            }
        )
    return json_response(
        {
            "status": "ok",
            "responseDate": "2025-01-01 00:00:00",
            "request": req.raw_query,
            "records": records,
        },
        200,
        "application/json; charset=ISO-8859-1",
    )


def _oa_service(st: SimState, req: Request) -> Response:
    pmcid = req.query.get("id", "").upper()
    head = (
        '<?xml version="1.0" encoding="UTF-8"?>\n<OA><responseDate>2025-01-01 00:00:00'
        f'</responseDate><request id="{escape(pmcid)}">{escape(req.raw_query)}</request>'
    )
    spec = st.world.find("pmcid", pmcid)
    if spec is None or "pmc_oa" not in spec.apis:
        body = (
            head + f"<error code=\"idIsNotOpenAccess\">identifier '{escape(pmcid)}' is not "
            "Open Access</error></OA>\n"
        )
        return Response(200, [("Content-Type", "text/xml")], body.encode())
    links = (
        f'<link format="tgz" updated="2024-01-01 00:00:00" href="'
        f'{st.url("pmc", f"/pub/pmc/oa_package/{pmcid}.tar.gz")}" />'
    )
    if spec.apis["pmc_oa"]:
        links += (
            f'<link format="pdf" updated="2024-01-01 00:00:00" href="'
            f'{st.url("pmc", spec.apis["pmc_oa"])}" />'
        )
    body = (
        head + '<records returned-count="1" total-count="1">'
        f'<record id="{pmcid}" citation="Simulated Letters. {spec.year};1:1" license="CC BY" '
        f'retracted="no">{links}</record></records></OA>\n'
    )
    return Response(200, [("Content-Type", "text/xml")], body.encode())


# --- Europe PMC -----------------------------------------------------------------------------


def _epmc_result(st: SimState, spec: WorkSpec) -> dict[str, Any]:
    ids = spec.sim.ids
    urls = [
        {
            "availability": "Open access",
            "availabilityCode": "OA",
            "documentStyle": style,
            "site": "Europe_PMC" if host == "europepmc" else "Unpaywall",
            "url": st.url(host, path),
        }
        for style, host, path in spec.apis["europepmc"]
    ]
    out: dict[str, Any] = {
        "id": ids.get("pmid", ids.get("pmcid", "")),
        "source": "MED" if "pmid" in ids else "PMC",
        "pmid": ids.get("pmid"),
        "pmcid": ids.get("pmcid"),
        "doi": spec.doi,
        "title": spec.sim.title,
        "authorString": "Rivera A, Okafor C.",
        "pubYear": str(spec.year),
        "isOpenAccess": "Y",
        "inEPMC": "Y",
        "inPMC": "Y",
        "hasPDF": "Y" if any(u["documentStyle"] == "pdf" for u in urls) else "N",
        "firstPublicationDate": f"{spec.year}-03-14",
    }
    if urls:
        out["fullTextUrlList"] = {"fullTextUrl": urls}
    return {k: v for k, v in out.items() if v is not None}


def europepmc_handler(st: SimState, req: Request) -> Response:
    if req.path == "/robots.txt":
        return robots(st, req)
    path = req.path.removeprefix("/europepmc/webservices/rest")
    if path == "/search":
        query = req.query.get("query", "")
        m = re.match(r'(?i)^\s*(DOI|PMCID|PMCID|EXT_ID|PMID)\s*:\s*"?([^"]+?)"?\s*$', query)
        spec = None
        if m:
            kind = {"DOI": "doi", "PMCID": "pmcid", "PMID": "pmid", "EXT_ID": "pmid"}[
                m.group(1).upper()
            ]
            spec = st.world.find(kind, m.group(2).upper() if kind == "pmcid" else m.group(2))
        results = [_epmc_result(st, spec)] if spec is not None and "europepmc" in spec.apis else []
        return json_response(
            {
                "version": "6.9",
                "hitCount": len(results),
                "request": {
                    "queryString": query,
                    "resultType": req.query.get("resultType", "lite"),
                    "cursorMark": "%2A",
                    "pageSize": 25,
                    "sort": "",
                    "synonym": False,
                },
                "resultList": {"result": results},
            }
        )
    res = st.world.routes.get((req.host, path))
    if res is not None:
        return serve_resource(st, req, res)
    if path.endswith("/fullTextXML"):
        return Response(404, [("Content-Type", "application/xml")], b"")
    return not_found()


# --- Semantic Scholar -----------------------------------------------------------------------


def s2_handler(st: SimState, req: Request) -> Response:
    if req.path == "/robots.txt":
        return robots(st, req)
    prefix = "/graph/v1/paper/"
    if not req.path.startswith(prefix):
        return json_response({"message": "Forbidden"}, 403)
    ident = req.path[len(prefix) :]
    kind, _, value = ident.partition(":")
    kinds = {"DOI": "doi", "ARXIV": "arxiv", "PMID": "pmid", "PMCID": "pmcid"}
    spec = None
    if kind.upper() in kinds:
        k = kinds[kind.upper()]
        spec = st.world.find(k, value.upper() if k == "pmcid" else value)
    if spec is None or "semantic_scholar" not in spec.apis:
        return json_response({"error": f"Paper with id {ident} not found"}, 404)
    loc: Loc = spec.apis["semantic_scholar"]
    ext: dict[str, Any] = {"CorpusId": 200_000_000 + spec.sim.index}
    if spec.doi:
        ext["DOI"] = spec.doi
    for k, name in (("arxiv", "ArXiv"), ("pmid", "PubMed"), ("pmcid", "PubMedCentral")):
        if k in spec.sim.ids:
            ext[name] = spec.sim.ids[k].removeprefix("PMC") if k == "pmcid" else spec.sim.ids[k]
    paper = {
        "paperId": f"{spec.sim.index:040x}",
        "externalIds": ext,
        "title": spec.sim.title,
        "year": spec.year,
        "isOpenAccess": True,
        "openAccessPdf": {
            "url": st.url(loc.host, loc.pdf or ""),
            "status": "GREEN",
            "license": "CCBY",
        },
    }
    fields = [f for f in req.query.get("fields", "").split(",") if f]
    if fields:
        paper = {k: v for k, v in paper.items() if k in fields or k == "paperId"}
    return json_response(paper)


# --- DOAJ -----------------------------------------------------------------------------------


def doaj_handler(st: SimState, req: Request) -> Response:
    if req.path == "/robots.txt":
        return robots(st, req)
    m = re.match(r"^/api/(?:v\d+/)?search/articles/(.+)$", req.path)
    if not m:
        return json_response({"error": "Not found"}, 404)
    query = m.group(1)
    spec = (
        st.world.find("doi", _doi_from_query(query)) if query.lower().startswith("doi:") else None
    )
    results = []
    if spec is not None and "doaj" in spec.apis:
        loc: Loc = spec.apis["doaj"]
        results.append(
            {
                "id": f"{spec.sim.index:032x}",
                "created_date": "2024-01-01T00:00:00Z",
                "last_updated": "2024-01-01T00:00:00Z",
                "bibjson": {
                    "title": spec.sim.title,
                    "year": str(spec.year),
                    "month": "3",
                    "identifier": [
                        {"id": spec.doi, "type": "doi"},
                        {"id": "2049-0002", "type": "eissn"},
                    ],
                    "journal": {
                        "title": "Simulated Letters",
                        "publisher": "Simulated Publishing",
                        "language": ["EN"],
                        "country": "GB",
                    },
                    "link": [
                        {
                            "content_type": "HTML",
                            "type": "fulltext",
                            "url": st.url(loc.host, loc.landing or ""),
                        }
                    ],
                    "author": [{"name": "Ana Rivera"}],
                },
            }
        )
    return json_response(
        {
            "timestamp": "2025-01-01T00:00:00Z",
            "page": 1,
            "pageSize": 10,
            "query": query,
            "total": len(results),
            "results": results,
        }
    )


# --- Zenodo, HAL, CORE, OSF, Figshare ------------------------------------------------------


def _lookup_query(st: SimState, text: str, api: str) -> WorkSpec | None:
    spec = st.world.find("doi", _doi_from_query(text))
    return spec if spec is not None and api in spec.apis else None


def zenodo_handler(st: SimState, req: Request) -> Response:
    if req.path == "/robots.txt":
        return robots(st, req)
    routed = _routed(st, req)
    if routed is not None:
        return routed
    if req.path.rstrip("/") != "/api/records":
        return json_response(
            {"status": 404, "message": "The persistent identifier does not exist."}, 404
        )
    spec = _lookup_query(st, req.query.get("q", ""), "zenodo")
    hits = []
    if spec is not None:
        loc: Loc = spec.apis["zenodo"]
        recid = 900_000 + spec.sim.index
        key = f"{spec.key}.pdf"
        hits.append(
            {
                "id": recid,
                "recid": str(recid),
                "doi": spec.doi,
                "doi_url": f"https://doi.org/{spec.doi}",
                "title": spec.sim.title,
                "created": "2024-01-01T00:00:00+00:00",
                "metadata": {
                    "title": spec.sim.title,
                    "doi": spec.doi,
                    "publication_date": f"{spec.year}-03-14",
                    "resource_type": {"type": "publication", "title": "Journal article"},
                    "access_right": "open",
                    "license": {"id": "cc-by-4.0"},
                },
                "files": [
                    {
                        "id": f"{spec.sim.index:08x}-file",
                        "key": key,
                        "size": spec.size,
                        "checksum": "md5:00000000000000000000000000000000",
                        "links": {"self": st.url(loc.host, loc.pdf or "")},
                    }
                ],
                "links": {
                    "self": st.url("zenodo", f"/api/records/{recid}"),
                    "self_html": st.url("zenodo", f"/records/{recid}"),
                },
            }
        )
    return json_response(
        {
            "hits": {"hits": hits, "total": len(hits)},
            "aggregations": {},
            "links": {"self": st.url("zenodo", "/api/records")},
        }
    )


def hal_handler(st: SimState, req: Request) -> Response:
    if req.path == "/robots.txt":
        return robots(st, req)
    if req.path.rstrip("/") != "/search":
        return not_found()
    spec = _lookup_query(st, req.query.get("q", ""), "hal")
    docs = []
    if spec is not None:
        loc: Loc = spec.apis["hal"]
        url = st.url(loc.host, loc.pdf or "")
        docs.append(
            {
                "docid": 4_000_000 + spec.sim.index,
                "halId_s": f"hal-0{4_000_000 + spec.sim.index}",
                "doiId_s": spec.doi,
                "title_s": [spec.sim.title],
                "fileMain_s": url,
                "files_s": [url],
                "openAccess_bool": True,
                "uri_s": st.url(loc.host, f"/hal/{spec.key}"),
            }
        )
    return json_response({"response": {"numFound": len(docs), "start": 0, "docs": docs}})


def core_handler(st: SimState, req: Request) -> Response:
    if req.path == "/robots.txt":
        return robots(st, req)
    if req.path.rstrip("/") != "/v3/search/works":
        return json_response({"message": "Not found"}, 404)
    spec = _lookup_query(st, req.query.get("q", ""), "core")
    results = []
    if spec is not None:
        loc: Loc = spec.apis["core"]
        url = st.url(loc.host, loc.pdf or "")
        results.append(
            {
                "id": 100_000 + spec.sim.index,
                "doi": spec.doi,
                "title": spec.sim.title,
                "downloadUrl": url,
                "sourceFulltextUrls": [url],
                "links": [{"type": "download", "url": url}],
                "yearPublished": spec.year,
            }
        )
    return json_response({"totalHits": len(results), "limit": 10, "offset": 0, "results": results})


def osf_handler(st: SimState, req: Request) -> Response:
    if req.path == "/robots.txt":
        return robots(st, req)
    path = req.path.rstrip("/")
    if path == "/v2/preprints":
        doi = req.query.get("filter[doi]", req.query.get("filter[article_doi]", ""))
        spec = _lookup_query(st, doi, "osf")
        data = []
        if spec is not None:
            pid = f"sim{spec.sim.index:04d}"
            data.append(
                {
                    "id": pid,
                    "type": "preprints",
                    "attributes": {
                        "title": spec.sim.title,
                        "doi": spec.doi,
                        "is_published": True,
                        "date_published": f"{spec.year}-03-14T00:00:00",
                        "description": "",
                    },
                    "relationships": {
                        "primary_file": {
                            "links": {
                                "related": {"href": st.url("osf", f"/v2/files/{pid}/"), "meta": {}}
                            }
                        }
                    },
                    "links": {
                        "self": st.url("osf", f"/v2/preprints/{pid}/"),
                        "html": st.url("osf", f"/preprints/{pid}/"),
                        "preprint_doi": f"https://doi.org/{spec.doi}",
                    },
                }
            )
        return json_response(
            {
                "data": data,
                "links": {"first": None, "last": None, "prev": None, "next": None},
                "meta": {"total": len(data), "per_page": 10, "version": "2.0"},
            }
        )
    m = re.match(r"^/v2/files/sim(\d{4})$", path)
    if m:
        idx = int(m.group(1))
        if idx < len(st.world.works) and "osf" in st.world.works[idx].apis:
            spec = st.world.works[idx]
            loc = spec.apis["osf"]
            return json_response(
                {
                    "data": {
                        "id": f"sim{idx:04d}",
                        "type": "files",
                        "attributes": {
                            "name": f"{spec.key}.pdf",
                            "kind": "file",
                            "size": spec.size,
                            "materialized_path": f"/{spec.key}.pdf",
                        },
                        "links": {
                            "download": st.url(loc.host, loc.pdf),
                            "self": st.url("osf", f"/v2/files/sim{idx:04d}/"),
                        },
                    }
                }
            )
    return json_response({"errors": [{"detail": "Not found."}]}, 404)


def _figshare_article(st: SimState, spec: WorkSpec, full: bool) -> dict[str, Any]:
    art_id = 600_000 + spec.sim.index
    out: dict[str, Any] = {
        "id": art_id,
        "title": spec.sim.title,
        "doi": spec.doi,
        "url": st.url("figshare", f"/v2/articles/{art_id}"),
        "defined_type": 3,
        "defined_type_name": "journal contribution",
    }
    if full:
        loc: Loc = spec.apis["figshare"]
        out["files"] = [
            {
                "id": 700_000 + spec.sim.index,
                "name": f"{spec.key}.pdf",
                "size": spec.size,
                "is_link_only": False,
                "download_url": st.url(loc.host, loc.pdf or ""),
                "supplied_md5": "",
                "computed_md5": "",
                "mimetype": "application/pdf",
            }
        ]
    return out


def figshare_handler(st: SimState, req: Request) -> Response:
    if req.path == "/robots.txt":
        return robots(st, req)
    path = req.path.rstrip("/")
    if path == "/v2/articles" and "doi" in req.query:
        spec = _lookup_query(st, req.query["doi"], "figshare")
        return json_response([_figshare_article(st, spec, False)] if spec else [])
    if path == "/v2/articles/search":
        import json as _json

        query = req.query.get("search_for", "")
        if req.body:
            try:
                query = str(_json.loads(req.body).get("search_for", query))
            except (ValueError, AttributeError):
                return json_response({"message": "Invalid JSON", "code": "BadRequest"}, 400)
        doi = re.sub(r"(?i)^\s*:doi:\s*", "", query).strip().strip('"')
        spec = _lookup_query(st, doi, "figshare")
        return json_response([_figshare_article(st, spec, False)] if spec else [])
    m = re.match(r"^/v2/articles/(\d+)$", path)
    if m:
        idx = int(m.group(1)) - 600_000
        if 0 <= idx < len(st.world.works) and "figshare" in st.world.works[idx].apis:
            return json_response(_figshare_article(st, st.world.works[idx], True))
    return json_response({"message": "Entity not found: article", "code": "EntityNotFound"}, 404)


HANDLERS_MORE = {
    "pmc": pmc_handler,
    "europepmc": europepmc_handler,
    "semantic_scholar": s2_handler,
    "doaj": doaj_handler,
    "zenodo": zenodo_handler,
    "hal": hal_handler,
    "core": core_handler,
    "osf": osf_handler,
    "figshare": figshare_handler,
}
