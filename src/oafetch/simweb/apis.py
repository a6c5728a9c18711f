"""The core metadata APIs: OpenAlex, Unpaywall, arXiv (Atom + PDFs) and Crossref.

Why generated, not replayed: the recorded responses in shared/realdata fix the *shapes*
(field names, nesting, error bodies) but not our world's identifiers or URLs, and they may
not be copied into the project; `tests/simweb/test_shapes.py` checks that every key path
generated here also occurs in a real recording of the same service.
"""

from __future__ import annotations

import base64
import json
from html import escape
from typing import Any

from .content import html_response, not_found, robots, serve_resource
from .state import JOURNALS, SimState
from .wire import Request, Response
from .world import Loc, Resource, WorkSpec

__all__ = [
    "arxiv_handler",
    "crossref_handler",
    "crossref_work",
    "openalex_handler",
    "openalex_work",
    "unpaywall_handler",
    "unpaywall_work",
]

JSON = "application/json"
FLASK_404 = (
    "<!doctype html>\n<html lang=en>\n<title>404 Not Found</title>\n<h1>Not Found</h1>\n"
    "<p>The requested URL was not found on the server. If you entered the URL manually please "
    "check your spelling and try again.</p>\n"
)


def json_response(data: Any, status: int = 200, ctype: str = JSON) -> Response:
    return Response(status, [("Content-Type", ctype)], json.dumps(data).encode())


def _date(spec: WorkSpec) -> str:
    return f"{spec.year}-03-14"


def _source_obj(host: str, is_oa: bool) -> dict[str, Any]:
    n = {"publisher1": 1, "publisher2": 2}.get(host, 3)
    name = JOURNALS.get(host, "Simulated Repository")
    return {
        "id": f"https://openalex.org/S90000000{n}",
        "display_name": name,
        "issn_l": f"2049-000{n}",
        "issn": [f"2049-000{n}"],
        "is_oa": is_oa,
        "is_in_doaj": is_oa and n == 2,
        "is_core": n != 3,
        "host_organization": f"https://openalex.org/P90000000{n}",
        "host_organization_name": "Simulated Publishing" if n != 3 else "Simulated University",
        "host_organization_lineage": [f"https://openalex.org/P90000000{n}"],
        "host_organization_lineage_names": ["Simulated Publishing"],
        "type": "repository" if host == "repository" else "journal",
    }


# --- OpenAlex -------------------------------------------------------------------------------


def _oa_location(st: SimState, spec: WorkSpec, loc: Loc) -> dict[str, Any]:
    return {
        "id": f"doi:{spec.doi}"
        if loc.host_type == "publisher" and spec.doi
        else f"pmh:oai:repository.sim:{spec.key}",
        "is_oa": loc.is_oa,
        "landing_page_url": st.url(loc.host, loc.landing) if loc.landing else None,
        "pdf_url": st.url(loc.host, loc.pdf) if loc.pdf else None,
        "source": _source_obj(loc.host, loc.is_oa),
        "license": loc.license,
        "license_id": f"https://openalex.org/licenses/{loc.license}" if loc.license else None,
        "version": loc.version,
        "is_accepted": loc.version != "submittedVersion",
        "is_published": loc.version == "publishedVersion",
        "raw_source_name": JOURNALS.get(loc.host, "Simulated Repository"),
        "raw_type": "journal-article",
    }


def openalex_work(st: SimState, spec: WorkSpec) -> dict[str, Any]:
    """An OpenAlex work object (the fields oafetch reads, plus the usual neighbours)."""
    locs: list[Loc] = spec.apis["openalex"]
    ids = spec.sim.ids
    locations = [_oa_location(st, spec, loc) for loc in locs]
    oa = [loc for loc in locations if loc["is_oa"]]
    chosen = next((loc for loc in oa if loc["pdf_url"]), oa[0] if oa else None)
    # OpenAlex's best_oa_location carries no id/raw_* keys (as recorded).
    best = (
        None
        if chosen is None
        else {k: v for k, v in chosen.items() if k not in ("id", "raw_source_name", "raw_type")}
    )
    oid = f"https://openalex.org/{ids['openalex']}"
    doi_url = f"https://doi.org/{spec.doi}" if spec.doi else None
    id_obj: dict[str, Any] = {"openalex": oid, "doi": doi_url}
    if "pmid" in ids:
        id_obj["pmid"] = f"https://pubmed.ncbi.nlm.nih.gov/{ids['pmid']}"
    if "pmcid" in ids:
        id_obj["pmcid"] = f"https://www.ncbi.nlm.nih.gov/pmc/articles/{ids['pmcid'][3:]}"
    status = "closed"
    if best is not None:
        status = "green" if best["source"]["type"] == "repository" else "gold"
    return {
        "id": oid,
        "doi": doi_url,
        "title": spec.sim.title,
        "display_name": spec.sim.title,
        "publication_year": spec.year,
        "publication_date": _date(spec),
        "ids": id_obj,
        "language": "en",
        "primary_location": locations[0] if locations else None,
        "type": "article",
        "type_crossref": "journal-article",
        "indexed_in": ["crossref"],
        "open_access": {
            "is_oa": best is not None,
            "oa_status": status,
            "oa_url": (best["pdf_url"] or best["landing_page_url"]) if best else None,
            "any_repository_has_fulltext": any(loc["source"]["type"] == "repository" for loc in oa),
        },
        "authorships": [
            {
                "author_position": "first",
                "author": {
                    "id": "https://openalex.org/A5000000001",
                    "display_name": "Ana Rivera",
                    "orcid": None,
                },
                "institutions": [],
                "countries": [],
                "is_corresponding": True,
                "raw_author_name": "Ana Rivera",
                "raw_affiliation_strings": [],
                "affiliations": [],
            }
        ],
        "has_fulltext": best is not None,
        "cited_by_count": spec.sim.index % 17,
        "biblio": {
            "volume": str(spec.year - 2000),
            "issue": "1",
            "first_page": "1",
            "last_page": "12",
        },
        "is_retracted": False,
        "is_paratext": False,
        "locations_count": len(locations),
        "locations": locations,
        "best_oa_location": best,
        "referenced_works_count": 0,
        "referenced_works": [],
        "related_works": [],
        "updated_date": "2025-01-01T00:00:00.000000",
        "created_date": "2024-01-01",
    }


def _select(obj: dict[str, Any], select: str | None) -> dict[str, Any]:
    if not select:
        return obj
    keys = [k.strip() for k in select.split(",") if k.strip()]
    return {k: obj[k] for k in keys if k in obj}


def _openalex_lookup(st: SimState, ident: str) -> WorkSpec | None:
    ident = ident.strip()
    low = ident.lower()
    for prefix in ("https://openalex.org/", "http://openalex.org/"):
        if low.startswith(prefix):
            ident, low = ident[len(prefix) :], low[len(prefix) :]
    spec: WorkSpec | None = None
    if low.startswith("w"):
        spec = st.world.find("openalex", ident.upper())
    elif low.startswith(("doi:", "https://doi.org/", "https:/doi.org/", "http://doi.org/", "10.")):
        spec = st.world.find("doi", low.split("doi.org/", 1)[-1].removeprefix("doi:"))
    elif low.startswith("pmid:"):
        spec = st.world.find("pmid", ident[5:])
    elif low.startswith("pmcid:"):
        value = ident[6:].upper()
        spec = st.world.find("pmcid", value if value.startswith("PMC") else f"PMC{value}")
    if spec is None or "openalex" not in spec.apis:
        return None
    return spec


def _openalex_list(st: SimState, req: Request) -> Response:
    per_page = int(req.query.get("per-page", req.query.get("per_page", "25")) or 25)
    filt = req.query.get("filter", "")
    specs: list[WorkSpec] = []
    if filt:
        for clause in filt.split(","):
            name, _, values = clause.partition(":")
            name = name.strip()
            if name in (
                "doi",
                "openalex",
                "ids.openalex",
                "pmid",
                "pmcid",
                "ids.pmid",
                "ids.pmcid",
            ):
                kind = {
                    "doi": "doi",
                    "pmid": "pmid",
                    "ids.pmid": "pmid",
                    "pmcid": "pmcid",
                    "ids.pmcid": "pmcid",
                }.get(name, "openalex")
                for value in values.split("|"):
                    if kind == "openalex":
                        found = _openalex_lookup(st, value)
                    else:
                        found = _openalex_lookup(st, f"{kind if kind != 'doi' else 'doi'}:{value}")
                    if found is not None and found not in specs:
                        specs.append(found)
            elif name not in (
                "is_oa",
                "open_access.is_oa",
                "has_fulltext",
                "type",
                "publication_year",
                "title.search",
                "default.search",
            ):
                return json_response(
                    {
                        "error": "Invalid query parameters error.",
                        "message": f"{name} is not a valid field.",
                    },
                    400,
                )
        if not any(
            c.split(":")[0].strip()
            in ("doi", "openalex", "ids.openalex", "pmid", "pmcid", "ids.pmid", "ids.pmcid")
            for c in filt.split(",")
        ):
            specs = [s for s in st.world.works if "openalex" in s.apis]
    else:
        specs = [s for s in st.world.works if "openalex" in s.apis]
    cursor = req.query.get("cursor")
    start = 0
    if cursor and cursor != "*":
        start = int(base64.urlsafe_b64decode(cursor.encode()).decode())
    elif not cursor:
        start = (int(req.query.get("page", "1") or 1) - 1) * per_page
    page = specs[start : start + per_page]
    meta: dict[str, Any] = {
        "count": len(specs),
        "db_response_time_ms": 3,
        "page": None if cursor else start // per_page + 1,
        "per_page": per_page,
        "groups_count": None,
    }
    if cursor:
        nxt = start + per_page
        meta["next_cursor"] = (
            base64.urlsafe_b64encode(str(nxt).encode()).decode() if nxt < len(specs) else None
        )
    results = [_select(openalex_work(st, s), req.query.get("select")) for s in page]
    return json_response({"meta": meta, "results": results, "group_by": []})


def openalex_handler(st: SimState, req: Request) -> Response:
    if req.path == "/robots.txt":
        return robots(st, req)
    if req.path in ("/works", "/works/"):
        return _openalex_list(st, req)
    if req.path.startswith("/works/"):
        spec = _openalex_lookup(st, req.path[len("/works/") :])
        if spec is None:
            return html_response(404, FLASK_404)
        return json_response(_select(openalex_work(st, spec), req.query.get("select")))
    return html_response(404, FLASK_404)


# --- Unpaywall ------------------------------------------------------------------------------


def _up_location(st: SimState, loc: Loc, best: bool) -> dict[str, Any]:
    landing = st.url(loc.host, loc.landing) if loc.landing else None
    pdf = st.url(loc.host, loc.pdf) if loc.pdf else None
    repo = loc.host_type == "repository"
    return {
        "url": pdf or landing,
        "url_for_pdf": pdf,
        "url_for_landing_page": landing,
        "evidence": "oa repository (via OAI-PMH doi match)"
        if repo
        else ("open (via page says license)" if pdf is None else "open (via free pdf)"),
        "license": loc.license,
        "version": loc.version,
        "host_type": loc.host_type,
        "is_best": best,
        "pmh_id": f"oai:repository.sim:{loc.landing}" if repo else None,
        "endpoint_id": "simrepo0000000001" if repo else None,
        "repository_institution": "Simulated University" if repo else None,
        "oa_date": "2020-01-01",
        "updated": "2024-01-01T00:00:00.000000",
    }


def unpaywall_work(st: SimState, spec: WorkSpec) -> dict[str, Any]:
    """An Unpaywall v2 object; best_oa_location prefers a location with a PDF."""
    locs: list[Loc] = spec.apis["unpaywall"]
    best_i = next((k for k, loc in enumerate(locs) if loc.pdf), 0 if locs else None)
    oa = [_up_location(st, loc, k == best_i) for k, loc in enumerate(locs)]
    best = oa[best_i] if best_i is not None else None
    return {
        "doi": spec.doi,
        "doi_url": f"https://doi.org/{spec.doi}",
        "title": spec.sim.title,
        "genre": "journal-article",
        "is_paratext": False,
        "published_date": _date(spec),
        "year": spec.year,
        "journal_name": "Simulated Letters",
        "journal_issns": "2049-0002",
        "journal_issn_l": "2049-0002",
        "journal_is_oa": False,
        "journal_is_in_doaj": False,
        "publisher": "Simulated Publishing",
        "is_oa": bool(oa),
        "oa_status": ("green" if best and best["host_type"] == "repository" else "gold")
        if oa
        else "closed",
        "has_repository_copy": any(loc["host_type"] == "repository" for loc in oa),
        "best_oa_location": best,
        "first_oa_location": oa[0] if oa else None,
        "oa_locations": oa,
        "oa_locations_embargoed": [],
        "updated": "2024-01-01T00:00:00.000000",
        "data_standard": 2,
        "z_authors": [{"given": "Ana", "family": "Rivera", "sequence": "first"}],
    }


def unpaywall_handler(st: SimState, req: Request) -> Response:
    if req.path == "/robots.txt":
        return robots(st, req)
    if not req.path.startswith("/v2/"):
        return json_response(
            {"HTTP_status_code": 404, "error": True, "message": "Page not found."}, 404
        )
    doi = req.path[len("/v2/") :]
    if not req.query.get("email"):
        return json_response(
            {
                "HTTP_status_code": 422,
                "error": True,
                "message": "You must provide an email parameter, like ?email=you@example.com",
            },
            422,
        )
    spec = st.world.find("doi", doi)
    if spec is None or "unpaywall" not in spec.apis:
        return json_response(
            {
                "HTTP_status_code": 404,
                "error": True,
                "message": f"'{doi}' is an invalid doi. See https://doi.org/{doi}",
            },
            404,
        )
    return json_response(unpaywall_work(st, spec))


# --- arXiv ----------------------------------------------------------------------------------


def _arxiv_entry(st: SimState, spec: WorkSpec) -> str:
    aid = spec.sim.ids["arxiv"]
    doi = f"<arxiv:doi>{escape(spec.doi)}</arxiv:doi>\n    " if spec.doi else ""
    return (
        f"  <entry>\n    <id>{st.url('arxiv', f'/abs/{aid}v1')}</id>\n"
        f"    <title>{escape(spec.sim.title)}</title>\n"
        f"    <updated>{_date(spec)}T12:00:00Z</updated>\n"
        f'    <link href="{st.url("arxiv", f"/abs/{aid}v1")}" rel="alternate" type="text/html"/>\n'
        f'    <link href="{st.url("arxiv", f"/pdf/{aid}v1")}" rel="related" type="application/pdf" '
        'title="pdf"/>\n'
        "    <summary>We study the problem in a controlled setting.</summary>\n"
        '    <category term="cs.DL" scheme="http://arxiv.org/schemas/atom"/>\n'
        f"    <published>{_date(spec)}T12:00:00Z</published>\n    {doi}"
        '<arxiv:primary_category term="cs.DL"/>\n'
        "    <author>\n      <name>Ana Rivera</name>\n    </author>\n  </entry>\n"
    )


def _arxiv_feed(st: SimState, req: Request, entries: list[str], total: int) -> Response:
    q = escape(req.raw_query)
    body = (
        "<?xml version='1.0' encoding='UTF-8'?>\n"
        '<feed xmlns:opensearch="http://a9.com/-/spec/opensearch/1.1/" '
        'xmlns:arxiv="http://arxiv.org/schemas/atom" xmlns="http://www.w3.org/2005/Atom">\n'
        f"  <id>{st.url('arxiv', '/api/sim')}</id>\n  <title>arXiv Query: {q}</title>\n"
        "  <updated>2025-01-01T00:00:00Z</updated>\n"
        f'  <link href="{st.url("arxiv", "/api/query")}?{q}" type="application/atom+xml"/>\n'
        f"  <opensearch:itemsPerPage>{req.query.get('max_results', '10')}"
        "</opensearch:itemsPerPage>\n"
        f"  <opensearch:totalResults>{total}</opensearch:totalResults>\n"
        f"  <opensearch:startIndex>{req.query.get('start', '0')}</opensearch:startIndex>\n"
        + "".join(entries)
        + "</feed>\n"
    )
    return Response(200, [("Content-Type", "application/atom+xml; charset=utf-8")], body.encode())


def _arxiv_query(st: SimState, req: Request) -> Response:
    found: list[WorkSpec] = []
    for raw in filter(None, (s.strip() for s in req.query.get("id_list", "").split(","))):
        base = raw.split("v")[0] if "." in raw and "v" in raw.split(".")[-1] else raw
        spec = st.world.find("arxiv", base)
        if spec is not None and spec not in found:
            found.append(spec)
    query = req.query.get("search_query", "").strip()
    if query:
        field, _, value = query.partition(":")
        value = value.strip().strip('"').lower()
        for spec in st.world.works:
            if "arxiv" not in spec.sim.ids or spec in found:
                continue
            title_hit = field in ("ti", "all") and value and value in spec.sim.title.lower()
            doi_hit = field in ("doi", "all") and spec.doi and value == spec.doi.lower()
            if title_hit or doi_hit:
                found.append(spec)
    return _arxiv_feed(st, req, [_arxiv_entry(st, s) for s in found], len(found))


def arxiv_handler(st: SimState, req: Request) -> Response:
    """arXiv: `/api/query` (Atom), `/pdf/{id}[vN][.pdf]`, `/abs/{id}`."""
    path = req.path
    if path == "/robots.txt":
        return robots(st, req)
    if path in ("/api/query", "/api/query/"):
        return _arxiv_query(st, req)
    for prefix in ("/pdf/", "/abs/"):
        if path.startswith(prefix):
            ident = path[len(prefix) :].removesuffix(".pdf")
            tail = ident.rsplit("v", 1)
            if len(tail) == 2 and tail[1].isdigit() and "." in tail[0]:
                ident = tail[0]
            spec = st.world.find("arxiv", ident)
            if spec is None or "arxiv" not in spec.apis:
                return not_found()
            if prefix == "/pdf/":
                return serve_resource(st, req, Resource("pdf", spec.sim.index))
            return serve_resource(
                st,
                req,
                Resource("landing", spec.sim.index, "citation", target=("arxiv", f"/pdf/{ident}")),
            )
    return not_found()


# --- Crossref -------------------------------------------------------------------------------


def crossref_work(st: SimState, spec: WorkSpec) -> dict[str, Any]:
    links = [
        {
            "URL": st.url(loc.host, loc.pdf),
            "content-type": "application/pdf",
            "content-version": "vor",
            "intended-application": "text-mining",
        }
        for loc in spec.apis.get("crossref", [])
        if loc.pdf
    ]
    date = {"date-parts": [[spec.year, 3, 14]]}
    stamp = {
        "date-parts": [[spec.year, 3, 14]],
        "date-time": f"{_date(spec)}T00:00:00Z",
        "timestamp": 1_600_000_000_000,
    }
    landing = spec.apis.get("doi")
    return {
        "indexed": stamp,
        "reference-count": 12,
        "publisher": "Simulated Publishing",
        "license": [
            {
                "start": stamp,
                "content-version": "vor",
                "delay-in-days": 0,
                "URL": "http://creativecommons.org/licenses/by/4.0/",
            }
        ]
        if links
        else [],
        "content-domain": {"domain": [], "crossmark-restriction": False},
        "DOI": spec.doi,
        "type": "journal-article",
        "created": stamp,
        "source": "Crossref",
        "is-referenced-by-count": spec.sim.index % 17,
        "title": [spec.sim.title],
        "prefix": "10.5555",
        "author": [{"given": "Ana", "family": "Rivera", "sequence": "first", "affiliation": []}],
        "member": "5555",
        "container-title": ["Simulated Letters"],
        "link": links,
        "deposited": stamp,
        "score": 1,
        "issued": date,
        "published": date,
        "URL": f"https://doi.org/{spec.doi}",
        "resource": {
            "primary": {"URL": st.url(*landing) if landing else f"https://doi.org/{spec.doi}"}
        },
        "ISSN": ["2049-0002"],
    }


def crossref_handler(st: SimState, req: Request) -> Response:
    if req.path == "/robots.txt":
        return robots(st, req)
    if req.path.startswith("/works/"):
        doi = req.path[len("/works/") :]
        spec = st.world.find("doi", doi)
        if spec is None or spec.sim.scenario == "unknown":
            return Response(404, [("Content-Type", "text/plain")], b"Resource not found.")
        return json_response(
            {
                "status": "ok",
                "message-type": "work",
                "message-version": "1.0.0",
                "message": crossref_work(st, spec),
            }
        )
    return Response(404, [("Content-Type", "text/plain")], b"Resource not found.")
