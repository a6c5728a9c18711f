"""Landing extraction contract over EVERY real page in realdata/landing_pages."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from oafetch.sources.base import Kind
from oafetch.sources.landing import extract_candidates, parse_link_header

PDF = "citation_pdf_url"
# file → (technique of the first candidate, its exact URL). Pages not listed must give none.
EXPECTED: dict[str, tuple[str, str]] = {
    "plos_one_10.1371_journal.pone.0213978_landing.html": (
        PDF,
        "https://journals.plos.org/plosone/article/file?id=10.1371/journal.pone.0213978&type=printable",
    ),
    "plos_one_10.1371_journal.pone.0213978_landing_no_icon_href.html": (
        PDF,
        "https://journals.plos.org/plosone/article/file?id=10.1371/journal.pone.0213978&type=printable",
    ),
    "elife_44753_landing.html": (
        "anchor_pdf",
        "https://elifesciences.org/download/aHR0cHM6Ly9jZG4uZWxpZmVzY2llbmNlcy5vcmcvYXJ0aWNsZXMvNDQ3NTMvZWxpZmUtNDQ3NTMtdjIucGRm/elife-44753-v2.pdf?_hash=CfyqOqVryCR4OjcMTfcdpeIWAGZznmh9jXksYKYChCw%3D",
    ),
    "peerj_4375_landing.html": (PDF, "https://peerj.com/articles/4375.pdf"),
    "papis_peerj_4886_landing.html": (PDF, "https://peerj.com/articles/4886.pdf"),
    "papis_nber_w29971_landing.html": (
        PDF,
        "https://www.nber.org/system/files/working_papers/w29971/w29971.pdf",
    ),
    "papis_nber_w33843_landing.html": (
        PDF,
        "https://www.nber.org/system/files/working_papers/w33843/w33843.pdf",
    ),
    "papis_springer_10.1007_BF02727953_landing.html": (
        PDF,
        "https://link.springer.com/content/pdf/10.1007/BF02727953.pdf",
    ),
    "papis_springer_10.1007_s10924-010-0192-1_landing.html": (
        PDF,
        "https://link.springer.com/content/pdf/10.1007/s10924-010-0192-1.pdf",
    ),
    "papis_hal_jpa-00235190_landing.html": (PDF, "https://hal.science/jpa-00235190/document"),
    "papis_hal_theses_tel-02083632v1_landing.html": (
        PDF,
        "https://theses.hal.science/tel-02083632/document",
    ),
    "papis_iop_10.1088_0026-1394_12_4_002_landing.html": (
        PDF,
        "https://iopscience.iop.org/article/10.1088/0026-1394/12/4/002/pdf",
    ),
    "papis_iop_10.1088_1748-605X_ab007b_landing.html": (
        PDF,
        "https://iopscience.iop.org/article/10.1088/1748-605X/ab007b/pdf",
    ),
    "papis_aps_PhysRevX.12.041027_landing.html": (
        PDF,
        "http://link.aps.org/pdf/10.1103/PhysRevX.12.041027",
    ),
    "papis_aps_RevModPhys.94.045004_landing.html": (
        PDF,
        "http://link.aps.org/pdf/10.1103/RevModPhys.94.045004",
    ),
    "papis_opus4_kobv_docId-481_landing.html": (
        PDF,
        "https://opus4.kobv.de/opus4-trr154/files/481/SchaeferAguilarUlbrichpapernumadjoint.pdf",
    ),
    "papis_usenix_nsdi22-goyal_landing.html": (
        PDF,
        "https://www.usenix.org/system/files/nsdi22-paper-goyal.pdf",
    ),
    "papis_usenix_sec22-bulekov_landing.html": (
        PDF,
        "https://www.usenix.org/system/files/sec22-bulekov.pdf",
    ),
    "papis_acl_2021.naacl-main.208_landing.html": (
        PDF,
        "https://aclanthology.org/2021.naacl-main.208.pdf",
    ),
    "papis_projecteuclid_10.1215_00127094-3129809_landing.html": (
        PDF,
        "https://projecteuclid.org/journals/duke-mathematical-journal/volume-164/issue-13/"
        "Delocalization-of-eigenvectors-of-random-matrices-with-independent-entries/10.1215/00127094-3129809.pdf",
    ),
    "papis_projecteuclid_ade_1391109086_landing.html": (
        PDF,
        "https://projecteuclid.org/journals/advances-in-differential-equations/volume-19/issue-3_2f_4/"
        "An-analysis-of-the-renormalization-group-method-for-asymptotic-expansions/ade/1391109086.pdf",
    ),
    "taxicab_pmc_PMC13149243_article_TRIMMED.html": (
        PDF,
        "https://pmc.ncbi.nlm.nih.gov/articles/PMC13149243/pdf/fpubh-14-1802392.pdf",
    ),
    "first_monday_ojs3_10274_landing.html": (
        "citation_fulltext_html_url",
        "https://firstmonday.org/ojs/index.php/fm/article/view/10274/9729",
    ),
    "papis_lingbuzz_006747_landing.html": (
        "anchor_pdf",
        "https://ling.auf.net/lingbuzz/006747/current.pdf?_s=aorj5FKywdkqXq0Q",
    ),
}
# Challenge pages, news, paywalled abstracts and HTML articles whose PDFs are references.
NONE = {
    "papis_acs_10.1021_acscombsci.5b00087_cloudflare_challenge.html",
    "papis_acs_10.1021_jp003647e_cloudflare_challenge.html",
    "papis_annualreviews_10.1146_annurev-conmatphys-031214-014726_cloudflare_challenge.html",
    "papis_aps_PhysRevLett.122.145901_cloudflare_challenge.html",
    "papis_tandf_10.1080_00268976.2013.788745_cloudflare_challenge.html",
    "papis_tandf_10.1080_23311932.2015.1117749_cloudflare_challenge.html",
    "nature_d41586-020-02610-z_landing.html",
    "papis_sciencedirect_S146290112300117X_landing.html",
    "papis_sciencedirect_S0009261497040141_abs_landing.html",
    "dlib_may2017_vanhyning_fulltext.html",
    "genders_g58_fairlie.html",
    "first_monday_ojs3_10274_fulltext.html",
}


def _page_urls(realdata: Path) -> dict[str, str]:
    urls: dict[str, str] = {}
    for line in (realdata / "manifest.jsonl").read_text().splitlines():
        row = json.loads(line)
        if row["file"].startswith("landing_pages/"):
            urls[row["file"].split("/", 1)[1]] = row.get("url") or ""
    return urls


def _extract(realdata: Path, name: str) -> list:  # type: ignore[type-arg]
    base = _page_urls(realdata).get(name) or f"https://journal.example/{name}"
    html = (realdata / "landing_pages" / name).read_text(encoding="utf-8", errors="replace")
    return extract_candidates(html, base_url=base, headers=None, source="landing")


def test_every_page_is_classified(realdata: Path) -> None:
    names = {p.name for p in (realdata / "landing_pages").glob("*.html")}
    assert names == set(EXPECTED) | NONE


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_expected_first_candidate(realdata: Path, name: str) -> None:
    technique, url = EXPECTED[name]
    found = _extract(realdata, name)
    assert found, name
    first = found[0]
    assert first.technique == technique
    assert first.url == url
    assert first.kind is (Kind.HTML if technique == "citation_fulltext_html_url" else Kind.PDF)
    assert all(c.source == "landing" and c.url.startswith("http") for c in found)


@pytest.mark.parametrize("name", sorted(NONE))
def test_pages_without_a_fulltext_link(realdata: Path, name: str) -> None:
    assert _extract(realdata, name) == []


def test_iop_gives_pdf_xml_html_in_order(realdata: Path) -> None:
    found = _extract(realdata, "papis_iop_10.1088_1748-605X_ab007b_landing.html")
    assert [(c.kind, c.technique) for c in found[:3]] == [
        (Kind.PDF, "citation_pdf_url"),
        (Kind.XML, "citation_xml_url"),
        (Kind.HTML, "citation_fulltext_html_url"),
    ]


def test_figures_pdf_ranks_after_article_pdf(realdata: Path) -> None:
    urls = [c.url for c in _extract(realdata, "elife_44753_landing.html")]
    assert len(urls) == 2 and "figures" in urls[1]


def test_relative_links_resolve_against_final_url(realdata: Path) -> None:
    """PeerJ's <link rel=alternate> is relative; only the final URL's host makes it right."""
    html = (realdata / "landing_pages/papis_peerj_4886_landing.html").read_text()
    html = html.replace('content="https://peerj.com/articles/4886.pdf"', 'content="x"')
    found = extract_candidates(
        html, base_url="https://mirror.example/a/b", headers=None, source="doi"
    )
    alt = next(c for c in found if c.technique == "link_alternate_pdf")
    assert alt.url == "https://mirror.example/articles/4886.pdf" and alt.source == "doi"


def test_signposting_headers_html_links_and_meta_refresh() -> None:
    html = """<html><head>
    <link rel="item" type="application/pdf" href="/files/paper.pdf">
    <meta http-equiv="refresh" content="0; url=/view/42">
    <meta name="bepress_citation_pdf_url" content="https://bp.example/viewcontent.cgi?article=1">
    <meta name="eprints.document_url" content="https://ep.example/1/1/paper.pdf">
    <meta name="DC.identifier" content="https://ep.example/1/1/paper2.pdf">
    </head><body><a href="/download/file.pdf">Download PDF</a></body></html>"""
    link = (
        '<https://repo.example/bits/1.pdf> ; rel="item" ; type="application/pdf", '
        '<https://doi.org/10.1/x>; rel="cite-as", '
        '<https://repo.example/meta.json>; rel="describedby"'
    )
    found = extract_candidates(
        html, base_url="https://repo.example/record/1", headers={"Link": link}, source="landing"
    )
    assert [(c.technique, c.kind, c.url) for c in found] == [
        ("bepress_citation_pdf_url", Kind.PDF, "https://bp.example/viewcontent.cgi?article=1"),
        ("eprints.document_url", Kind.PDF, "https://ep.example/1/1/paper.pdf"),
        ("dc.identifier", Kind.PDF, "https://ep.example/1/1/paper2.pdf"),
        ("signposting", Kind.PDF, "https://repo.example/bits/1.pdf"),
        ("signposting.cite_as", Kind.LANDING, "https://doi.org/10.1/x"),
        ("signposting", Kind.PDF, "https://repo.example/files/paper.pdf"),
        ("meta_refresh", Kind.LANDING, "https://repo.example/view/42"),
        ("anchor_pdf", Kind.PDF, "https://repo.example/download/file.pdf"),
    ]


def test_link_header_parser() -> None:
    parsed = list(parse_link_header('<a>; rel="item cite-as"; type=application/pdf, <b>;rel=x'))
    assert parsed == [
        ("a", {"rel": "item cite-as", "type": "application/pdf"}),
        ("b", {"rel": "x"}),
    ]
