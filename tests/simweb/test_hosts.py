"""Every scenario behaves as its ground truth says, seen the way an oafetch source sees it."""

from __future__ import annotations

import io
import re
from collections.abc import Iterator
from urllib.parse import quote

import httpx
import pytest
from pypdf import PdfReader

from oafetch.simweb import SimWeb, SimWork


@pytest.fixture(scope="module")
def client() -> Iterator[httpx.Client]:
    with httpx.Client(timeout=10) as c:
        yield c


def _works(web: SimWeb, scenario: str) -> list[SimWork]:
    found = [w for w in web.world if w.scenario == scenario]
    assert found, f"no {scenario} work in this world"
    return found


def _text(pdf: bytes) -> str:
    reader = PdfReader(io.BytesIO(pdf))
    return " ".join(p.extract_text() for p in reader.pages[:2])


def _openalex(web: SimWeb, c: httpx.Client, w: SimWork) -> httpx.Response:
    ident = w.ids.get("openalex") or f"doi:{w.ids['doi']}"
    return c.get(web.url("openalex", f"/works/{ident}"))


def _best_pdf(web: SimWeb, c: httpx.Client, w: SimWork) -> str:
    rec = _openalex(web, c, w).json()
    return str(rec["best_oa_location"]["pdf_url"])


# --- slice ----------------------------------------------------------------------------------


def test_oa_pdf_is_a_pdf_of_the_work(slice_web: SimWeb, client: httpx.Client) -> None:
    for w in _works(slice_web, "oa_pdf"):
        r = client.get(_best_pdf(slice_web, client, w))
        assert r.status_code == 200 and r.headers["content-type"] == "application/pdf"
        text = _text(r.content)
        assert w.ids["doi"] in text and w.title[:30] in text
        assert "etag" in r.headers and "last-modified" in r.headers


def test_openalex_lookup_by_every_id_form(slice_web: SimWeb, client: httpx.Client) -> None:
    w = _works(slice_web, "oa_pdf")[0]
    forms = [
        w.ids["openalex"],
        f"https://openalex.org/{w.ids['openalex']}",
        f"doi:{w.ids['doi']}",
        f"https://doi.org/{w.ids['doi']}",
    ]
    ids = {client.get(slice_web.url("openalex", f"/works/{f}")).json()["id"] for f in forms}
    assert ids == {f"https://openalex.org/{w.ids['openalex']}"}
    many = client.get(
        slice_web.url("openalex", "/works"),
        params={
            "filter": "doi:" + "|".join(x.ids["doi"] for x in slice_web.world[:6] if "doi" in x.ids)
        },
    )
    known = [x for x in slice_web.world[:6] if "openalex" in x.ids]
    assert many.json()["meta"]["count"] == len(known)
    sel = client.get(
        slice_web.url("openalex", f"/works/{w.ids['openalex']}"),
        params={"select": "id,open_access"},
    ).json()
    assert set(sel) == {"id", "open_access"}


def test_openalex_cursor_paging_visits_every_work(slice_web: SimWeb, client: httpx.Client) -> None:
    seen: list[str] = []
    cursor: str | None = "*"
    while cursor:
        page = client.get(
            slice_web.url("openalex", "/works"),
            params={"filter": "is_oa:true", "per-page": "5", "cursor": cursor},
        ).json()
        seen += [r["id"] for r in page["results"]]
        cursor = page["meta"]["next_cursor"]
    assert len(seen) == len(set(seen)) == sum("openalex" in w.ids for w in slice_web.world)


def test_unpaywall_names_the_pdf_openalex_lacks(slice_web: SimWeb, client: httpx.Client) -> None:
    for w in _works(slice_web, "unpaywall_pdf"):
        oa = _openalex(slice_web, client, w).json()
        assert all(loc["pdf_url"] is None for loc in oa["locations"])
        landing = client.get(oa["best_oa_location"]["landing_page_url"])
        assert landing.status_code == 200 and "citation_pdf_url" not in landing.text
        up = client.get(
            slice_web.url("unpaywall", f"/v2/{w.ids['doi']}"), params={"email": "t@example.org"}
        ).json()
        pdf = client.get(up["best_oa_location"]["url_for_pdf"])
        assert w.ids["doi"] in _text(pdf.content)
    assert client.get(slice_web.url("unpaywall", f"/v2/{w.ids['doi']}")).status_code == 422


def test_arxiv_api_and_pdf(slice_web: SimWeb, client: httpx.Client) -> None:
    for w in _works(slice_web, "arxiv_pdf"):
        feed = client.get(slice_web.url("arxiv", "/api/query"), params={"id_list": w.ids["arxiv"]})
        assert feed.headers["content-type"].startswith("application/atom+xml")
        assert "<opensearch:totalResults>1</opensearch:totalResults>" in feed.text
        pdf_url = re.search(r'<link href="([^"]+)" rel="related" type="application/pdf"', feed.text)
        assert pdf_url is not None
        r = client.get(pdf_url.group(1))
        assert r.status_code == 200 and w.title[:30] in _text(r.content)
        assert client.get(slice_web.url("arxiv", f"/pdf/{w.ids['arxiv']}")).content == r.content
    by_title = client.get(slice_web.url("arxiv", "/api/query"),
                          params={"search_query": f'all:"{w.title}"'})
    assert f"/abs/{w.ids['arxiv']}v1</id>" in by_title.text
    none = client.get(slice_web.url("arxiv", "/api/query"), params={"id_list": "0000.0000"})
    assert "<opensearch:totalResults>0</opensearch:totalResults>" in none.text


def test_closed_and_unknown_have_no_oa_location(slice_web: SimWeb, client: httpx.Client) -> None:
    for w in _works(slice_web, "closed"):
        rec = _openalex(slice_web, client, w).json()
        assert rec["open_access"]["is_oa"] is False and rec["best_oa_location"] is None
        assert all(not loc["is_oa"] and loc["pdf_url"] is None for loc in rec["locations"])
        up = client.get(
            slice_web.url("unpaywall", f"/v2/{w.ids['doi']}"), params={"email": "t@example.org"}
        ).json()
        assert up["is_oa"] is False and up["oa_locations"] == []
    for w in _works(slice_web, "unknown"):
        assert _openalex(slice_web, client, w).status_code == 404
        up = client.get(
            slice_web.url("unpaywall", f"/v2/{w.ids['doi']}"), params={"email": "t@example.org"}
        )
        assert up.status_code == 404 and up.json()["error"] is True
        assert client.get(slice_web.url("crossref", f"/works/{w.ids['doi']}")).status_code == 404


def test_slice_failure_artifacts(slice_web: SimWeb, client: httpx.Client) -> None:
    w = _works(slice_web, "pdf_404")[0]
    assert client.get(_best_pdf(slice_web, client, w)).status_code == 404
    w = _works(slice_web, "bot_wall")[0]
    r = client.get(_best_pdf(slice_web, client, w))
    assert r.status_code == 403 and "Just a moment..." in r.text and "cf_chl_opt" in r.text
    w = _works(slice_web, "wrong_type")[0]
    r = client.get(_best_pdf(slice_web, client, w))
    assert r.headers["content-type"] == "application/pdf" and b"%PDF" not in r.content
    w = _works(slice_web, "truncated")[0]
    r = client.get(_best_pdf(slice_web, client, w))
    assert r.content.startswith(b"%PDF-") and b"%%EOF" not in r.content[-2048:]
    w = _works(slice_web, "wrong_work")[0]
    text = _text(client.get(_best_pdf(slice_web, client, w)).content)
    assert w.ids["doi"] not in text and w.title[:30] not in text and "doi.org/10." in text


def test_flaky_then_ok(slice_web: SimWeb, client: httpx.Client) -> None:
    slice_web.reset()
    for scen, code in (("flaky_503", 503), ("retry_429", 429)):
        w = _works(slice_web, scen)[0]
        url = _best_pdf(slice_web, client, w)
        first = client.get(url)
        assert first.status_code == code
        if code == 429:
            assert first.headers["retry-after"] == "1"
        second = client.get(url)
        assert second.status_code == 200 and w.ids["doi"] in _text(second.content)


def test_duplicate_pair_shares_bytes_and_names_both(
    slice_web: SimWeb, client: httpx.Client
) -> None:
    a, b = (w for w in slice_web.world if w.group == _works(slice_web, "dup_a")[0].group)
    pa = client.get(_best_pdf(slice_web, client, a)).content
    pb = client.get(_best_pdf(slice_web, client, b)).content
    assert pa == pb
    text = _text(pa)
    assert a.ids["doi"] in text and b.ids["doi"] in text


def test_content_hosts_have_robots_and_404(slice_web: SimWeb, client: httpx.Client) -> None:
    robots = client.get(slice_web.url("repository", "/robots.txt"))
    assert "Disallow: /private/" in robots.text
    assert client.get(slice_web.url("publisher1", "/nope")).status_code == 404


# --- cascade --------------------------------------------------------------------------------


def test_crossref_link(cascade_web: SimWeb, client: httpx.Client) -> None:
    w = _works(cascade_web, "crossref_pdf")[0]
    msg = client.get(cascade_web.url("crossref", f"/works/{w.ids['doi']}")).json()["message"]
    link = next(x for x in msg["link"] if x["content-type"] == "application/pdf")
    assert w.ids["doi"] in _text(client.get(link["URL"]).content)


def test_pmc_idconv_oa_service_and_jats(cascade_web: SimWeb, client: httpx.Client) -> None:
    w = _works(cascade_web, "pmc_pdf")[0]
    conv = client.get(
        cascade_web.url("pmc", "/pmc/utils/idconv/v1.0/"),
        params={"ids": w.ids["doi"], "format": "json"},
    ).json()
    assert conv["records"][0]["pmcid"] == w.ids["pmcid"]
    oa = client.get(cascade_web.url("pmc", "/pmc/utils/oa/oa.fcgi"), params={"id": w.ids["pmcid"]})
    href = re.search(r'format="pdf"[^>]*href="([^"]+)"', oa.text)
    assert href and w.ids["doi"] in _text(client.get(href.group(1)).content)
    direct = client.get(cascade_web.url("pmc", f"/pmc/articles/{w.ids['pmcid']}/pdf/"),
                        follow_redirects=True)
    assert direct.content == client.get(href.group(1)).content
    j = _works(cascade_web, "jats_xml")[0]
    oa = client.get(cascade_web.url("pmc", "/pmc/utils/oa/oa.fcgi"), params={"id": j.ids["pmcid"]})
    assert 'format="pdf"' not in oa.text
    xml = client.get(cascade_web.url("europepmc", f"/{j.ids['pmcid']}/fullTextXML"))
    assert xml.status_code == 200 and "<article-title>" in xml.text and j.ids["doi"] in xml.text


def test_europepmc_pdf_and_html(cascade_web: SimWeb, client: httpx.Client) -> None:
    for scen, style in (("europepmc_pdf", "pdf"), ("html_only", "html")):
        w = _works(cascade_web, scen)[0]
        res = client.get(
            cascade_web.url("europepmc", "/search"),
            params={"query": f'DOI:"{w.ids["doi"]}"', "resultType": "core", "format": "json"},
        ).json()
        urls = res["resultList"]["result"][0]["fullTextUrlList"]["fullTextUrl"]
        assert [u["documentStyle"] for u in urls] == [style]
        body = client.get(urls[0]["url"])
        assert body.status_code == 200
        if style == "html":
            assert "<article" in body.text and "Introduction" in body.text
    miss = client.get(cascade_web.url("europepmc", "/search"), params={"query": 'DOI:"10.1/none"'})
    assert miss.json()["hitCount"] == 0


def test_repository_sources(cascade_web: SimWeb, client: httpx.Client) -> None:
    def pdf_ok(url: str, w: SimWork) -> None:
        assert w.ids["doi"] in _text(client.get(url).content)

    w = _works(cascade_web, "s2_pdf")[0]
    s2 = client.get(
        cascade_web.url("semantic_scholar", f"/graph/v1/paper/DOI:{w.ids['doi']}"),
        params={"fields": "openAccessPdf,externalIds"},
    ).json()
    pdf_ok(s2["openAccessPdf"]["url"], w)
    w = _works(cascade_web, "zenodo_pdf")[0]
    z = client.get(
        cascade_web.url("zenodo", "/api/records"), params={"q": f'doi:"{w.ids["doi"]}"'}
    ).json()
    pdf_ok(z["hits"]["hits"][0]["files"][0]["links"]["self"], w)
    w = _works(cascade_web, "hal_pdf")[0]
    h = client.get(
        cascade_web.url("hal", "/search/"), params={"q": f'doiId_s:"{w.ids["doi"]}"'}
    ).json()
    pdf_ok(h["response"]["docs"][0]["fileMain_s"], w)
    w = _works(cascade_web, "core_pdf")[0]
    co = client.get(
        cascade_web.url("core", "/v3/search/works"), params={"q": f'doi:"{w.ids["doi"]}"'}
    ).json()
    pdf_ok(co["results"][0]["downloadUrl"], w)
    w = _works(cascade_web, "osf_pdf")[0]
    o = client.get(cascade_web.url("osf", "/v2/preprints/"), params={"filter[doi]": w.ids["doi"]})
    files = o.json()["data"][0]["relationships"]["primary_file"]["links"]["related"]["href"]
    pdf_ok(client.get(files).json()["data"]["links"]["download"], w)
    w = _works(cascade_web, "figshare_pdf")[0]
    f = client.post(
        cascade_web.url("figshare", "/v2/articles/search"),
        json={"search_for": f":doi: {w.ids['doi']}"},
    ).json()
    art = client.get(f[0]["url"]).json()
    pdf_ok(art["files"][0]["download_url"], w)
    listed = client.get(cascade_web.url("figshare", "/v2/articles"), params={"doi": w.ids["doi"]})
    assert [a["id"] for a in listed.json()] == [art["id"]]
    w = _works(cascade_web, "doaj_landing")[0]
    d = client.get(
        cascade_web.url("doaj", f"/api/search/articles/doi:{quote(w.ids['doi'], safe='')}")
    )
    landing = client.get(d.json()["results"][0]["bibjson"]["link"][0]["url"])
    m = re.search(r'name="citation_pdf_url" content="([^"]+)"', landing.text)
    assert m is not None
    pdf_ok(m.group(1), w)


def test_doi_resolver(cascade_web: SimWeb, client: httpx.Client) -> None:
    w = _works(cascade_web, "doi_direct_pdf")[0]
    r = client.get(cascade_web.url("doi", f"/{w.ids['doi']}"))
    assert r.status_code == 302
    assert client.get(r.headers["location"]).content.startswith(b"%PDF-")
    assert client.get(cascade_web.url("doi", "/10.5555/nothing")).status_code == 404


def test_landing_page_variants(cascade_web: SimWeb, client: httpx.Client) -> None:
    markers = {
        "landing_citation_pdf_url": r'<meta name="citation_pdf_url" content="http://[^"]+\.pdf"',
        "landing_link_alternate": r'<link rel="alternate" type="application/pdf" href="/[^"]+"',
        "landing_meta_refresh": r'<meta http-equiv="refresh" content="0; url=/[^"]+"',
        "landing_anchor": r'<a class="btn btn-download" href="/[^"]+">Download PDF</a>',
    }
    for scen, pattern in markers.items():
        w = _works(cascade_web, scen)[0]
        landing = client.get(
            _openalex(cascade_web, client, w).json()["best_oa_location"]["landing_page_url"],
            headers={"Accept-Encoding": "gzip"},
        )
        assert landing.headers.get("content-encoding") == "gzip"
        assert re.search(pattern, landing.text), scen
        assert f'name="citation_doi" content="{w.ids["doi"]}"' in landing.text
    w = _works(cascade_web, "landing_signposting")[0]
    landing = client.get(
        _openalex(cascade_web, client, w).json()["best_oa_location"]["landing_page_url"]
    )
    assert 'rel="item"; type="application/pdf"' in landing.headers["link"]
    assert ".pdf" not in landing.text
    w = _works(cascade_web, "landing_no_link")[0]
    landing = client.get(
        _openalex(cascade_web, client, w).json()["best_oa_location"]["landing_page_url"]
    )
    assert "pdf" not in landing.text.lower() and "link" not in landing.headers


def test_cascade_failure_artifacts(cascade_web: SimWeb, client: httpx.Client) -> None:
    w = _works(cascade_web, "redirect_loop")[0]
    with httpx.Client(max_redirects=10) as c, pytest.raises(httpx.TooManyRedirects):
        c.get(_best_pdf(cascade_web, client, w), follow_redirects=True)
    w = _works(cascade_web, "login_page")[0]
    r = client.get(_best_pdf(cascade_web, client, w), follow_redirects=True)
    assert r.status_code == 200 and 'type="password"' in r.text
    w = _works(cascade_web, "abstract_only")[0]
    pdf = client.get(_best_pdf(cascade_web, client, w)).content
    assert len(PdfReader(io.BytesIO(pdf)).pages) == 1 and len(pdf) > 1024
    assert "Abstract" in _text(pdf)
    w = _works(cascade_web, "robots_disallowed")[0]
    assert "/private/" in _best_pdf(cascade_web, client, w)
    w = _works(cascade_web, "always_503")[0]
    assert f":{cascade_web.ports['overloaded']}/" in _best_pdf(cascade_web, client, w)
    assert {client.get(_best_pdf(cascade_web, client, w)).status_code for _ in range(3)} == {503}
    w = _works(cascade_web, "rate_limited")[0]
    assert f":{cascade_web.ports['throttled']}/" in _best_pdf(cascade_web, client, w)
    r = client.get(_best_pdf(cascade_web, client, w))
    assert r.status_code == 429 and r.headers["retry-after"] == "3600"
    w = _works(cascade_web, "invalid_input")[0]
    assert w.ids == {} and w.expect_class == "invalid_input"


def test_wayback_rescues_only_the_rescue_scenario(
    cascade_web: SimWeb, client: httpx.Client
) -> None:
    w = _works(cascade_web, "wayback_rescue")[0]
    dead = _best_pdf(cascade_web, client, w)
    assert client.get(dead).status_code == 404
    avail = client.get(
        cascade_web.url("wayback", "/wayback/available"), params={"url": dead}
    ).json()
    snap = avail["archived_snapshots"]["closest"]
    assert snap["available"] is True and snap["status"] == "200"
    raw = snap["url"].replace(f"/web/{snap['timestamp']}/", f"/web/{snap['timestamp']}id_/")
    r = client.get(raw)
    assert r.status_code == 200 and w.ids["doi"] in _text(r.content)
    cdx = client.get(
        cascade_web.url("wayback", "/cdx/search/cdx"), params={"url": dead, "output": "json"}
    ).json()
    assert cdx[0][:2] == ["urlkey", "timestamp"] and cdx[1][4] == "200"
    assert cdx[1][3] == "application/pdf"
    other = _best_pdf(cascade_web, client, _works(cascade_web, "pdf_404")[0])
    none = client.get(cascade_web.url("wayback", "/wayback/available"), params={"url": other})
    assert none.json()["archived_snapshots"] == {}
    assert (
        client.get(cascade_web.url("wayback", "/cdx/search/cdx"), params={"url": other}).text == ""
    )
