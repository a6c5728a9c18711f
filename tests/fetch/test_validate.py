"""`validate_file` on real files written to disk: generated PDFs (simweb.pdfgen), the real
arXiv PDF and landing pages from realdata (read in place), and JATS built here.

Expected outcomes come from how each file was made (its title/DOI, where it was cut), never
from the code under test.
"""

from __future__ import annotations

import io
import os
import time
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from pypdf import PdfReader, PdfWriter

from oafetch.fetch.identity import find_arxiv, find_dois, has_doi, normalise, title_matches
from oafetch.fetch.validate import Verdict, validate_bytes, validate_file
from oafetch.ids import WorkIds
from oafetch.outcomes import FailureClass, Format
from oafetch.simweb import pages
from oafetch.simweb.pdfgen import make_pdf

REALDATA = Path(
    os.environ.get("OAFETCH_REALDATA", Path(__file__).resolve().parents[3] / "shared" / "realdata")
)
TITLE = "Deep Residual Learning for Image Recognition"
DOI = "10.1109/cvpr.2016.90"
OTHER_TITLE = "Attention Is All You Need in Neural Machine Translation"
OTHER_DOI = "10.5555/3295222.3295349"
ARXIV_PDF = "arxivpy_arxiv_1111.2011v2.pdf"
ARXIV_TITLE = (
    "Quantum Criticality for Extended Nodes on a Bethe Lattice in the Large Connectivity Limit"
)
LONG_BODY = "We measure the thing carefully and report every number we found. " * 60


def _write(tmp_path: Path, name: str, data: bytes) -> Path:
    path = tmp_path / name
    path.write_bytes(data)
    return path


def _check(
    tmp_path: Path, data: bytes, *, ids: WorkIds, title: str | None, name: str = "paper.pdf"
) -> Verdict:
    return validate_file(_write(tmp_path, name, data), ids=ids, title=title)


# ------------------------------------------------------------------ PDFs that pass


def test_right_work_pdf_passes_with_identity(tmp_path: Path) -> None:
    data = make_pdf(TITLE, DOI, pages=3, size=200_000)
    verdict = _check(tmp_path, data, ids=WorkIds(doi=DOI), title=TITLE)
    assert verdict.ok and verdict.failure is None
    assert verdict.format is Format.PDF
    assert verdict.identity_verified is True
    assert verdict.pages == 3


def test_identity_by_title_when_no_doi_is_printed(tmp_path: Path) -> None:
    data = make_pdf(TITLE, None, size=20_000)
    title = "deep residual learning for image recognition."
    verdict = _check(tmp_path, data, ids=WorkIds(doi=DOI), title=title)
    assert verdict.ok and verdict.identity_verified is True


def test_identity_by_doi_with_resolver_prefix_and_case(tmp_path: Path) -> None:
    data = make_pdf("A Title Nobody Passes In", DOI.upper(), size=20_000)
    verdict = _check(tmp_path, data, ids=WorkIds(doi=f"https://doi.org/{DOI}"), title=None)
    assert verdict.ok and verdict.identity_verified is True


def test_nothing_to_compare_gives_unknown_identity(tmp_path: Path) -> None:
    verdict = _check(tmp_path, make_pdf(TITLE, DOI), ids=WorkIds(pmid="123"), title=None)
    assert verdict.ok and verdict.identity_verified is None


def test_pdf_without_text_is_accepted_unverified(tmp_path: Path) -> None:
    data = make_pdf("", None, body="", size=10_000)
    verdict = _check(tmp_path, data, ids=WorkIds(doi=DOI), title=TITLE)
    assert verdict.ok and verdict.format is Format.PDF
    assert verdict.identity_verified is False


def test_little_text_without_match_is_inconclusive_not_wrong(tmp_path: Path) -> None:
    data = make_pdf("Proceedings front matter", None, body="Keynote. Index.", size=5000)
    verdict = _check(tmp_path, data, ids=WorkIds(), title=TITLE)
    assert verdict.ok and verdict.identity_verified is False


def test_owner_password_only_pdf_is_usable(tmp_path: Path) -> None:
    # Empty user password: every viewer opens it; only printing/editing is restricted.
    data = _encrypted(make_pdf(TITLE, DOI), user="")
    verdict = _check(tmp_path, data, ids=WorkIds(doi=DOI), title=None)
    assert verdict.ok and verdict.identity_verified is True


def test_one_page_paper_with_real_text_is_a_paper(tmp_path: Path) -> None:
    data = make_pdf(TITLE, DOI, pages=1, body=LONG_BODY)
    verdict = _check(tmp_path, data, ids=WorkIds(doi=DOI), title=TITLE)
    assert verdict.ok and verdict.pages == 1


# ------------------------------------------------------------------ PDFs that fail


def test_other_work_is_wrong_work(tmp_path: Path) -> None:
    data = make_pdf(OTHER_TITLE, OTHER_DOI, size=50_000)
    verdict = _check(tmp_path, data, ids=WorkIds(doi=DOI), title=TITLE)
    assert not verdict.ok
    assert verdict.failure is FailureClass.WRONG_WORK
    assert OTHER_DOI in verdict.reason
    assert verdict.identity_verified is False


def test_other_doi_alone_is_wrong_work(tmp_path: Path) -> None:
    verdict = _check(tmp_path, make_pdf("Short", OTHER_DOI), ids=WorkIds(doi=DOI), title=None)
    assert verdict.failure is FailureClass.WRONG_WORK


def test_other_doi_and_other_title_is_wrong_work_without_our_doi(tmp_path: Path) -> None:
    # Only a title is known (e.g. an arXiv-only work) and the short PDF names another DOI.
    data = make_pdf(OTHER_TITLE, OTHER_DOI, pages=3)
    verdict = _check(tmp_path, data, ids=WorkIds(arxiv="1512.03385"), title=TITLE)
    assert verdict.failure is FailureClass.WRONG_WORK and OTHER_DOI in verdict.reason


def test_plenty_of_text_without_the_title_is_wrong_work(tmp_path: Path) -> None:
    data = make_pdf(OTHER_TITLE, None, body=LONG_BODY)
    verdict = _check(tmp_path, data, ids=WorkIds(), title=TITLE)
    assert verdict.failure is FailureClass.WRONG_WORK
    assert "title" in verdict.reason


def test_truncated_pdf_is_corrupt(tmp_path: Path) -> None:
    data = make_pdf(TITLE, DOI, size=200_000)
    verdict = _check(tmp_path, data[: len(data) * 2 // 3], ids=WorkIds(doi=DOI), title=TITLE)
    assert verdict.failure is FailureClass.CORRUPT_OR_PARTIAL
    assert "%%EOF" in verdict.reason


def test_tiny_pdf_is_corrupt(tmp_path: Path) -> None:
    data = b"%PDF-1.4\n1 0 obj\n<<>>\nendobj\n%%EOF\n"
    verdict = _check(tmp_path, data, ids=WorkIds(), title=None)
    assert verdict.failure is FailureClass.CORRUPT_OR_PARTIAL
    assert "too small" in verdict.reason


def test_pdf_envelope_with_garbage_inside_is_corrupt(tmp_path: Path) -> None:
    data = b"%PDF-1.4\n" + bytes(range(256)) * 20 + b"\n%%EOF\n"
    verdict = _check(tmp_path, data, ids=WorkIds(), title=None)
    assert not verdict.ok and verdict.failure is FailureClass.CORRUPT_OR_PARTIAL


def _encrypted(pdf: bytes, *, user: str) -> bytes:
    writer = PdfWriter(clone_from=PdfReader(io.BytesIO(pdf)))
    writer.encrypt(user_password=user, owner_password="owner-secret")
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


def test_password_protected_pdf_is_rejected(tmp_path: Path) -> None:
    data = _encrypted(make_pdf(TITLE, DOI), user="reader-secret")
    verdict = _check(tmp_path, data, ids=WorkIds(doi=DOI), title=TITLE)
    assert not verdict.ok
    assert verdict.failure is FailureClass.LOGIN_OR_PAYWALL
    assert "encrypted" in verdict.reason


def test_abstract_only_one_pager_is_not_a_paper(tmp_path: Path) -> None:
    body = "Abstract. We propose a residual framework."
    data = make_pdf(TITLE, DOI, pages=1, body=body, size=5000)
    verdict = _check(tmp_path, data, ids=WorkIds(doi=DOI), title=TITLE)
    assert verdict.failure is FailureClass.NOT_A_PAPER


def test_supplement_is_not_a_paper_even_though_it_names_the_work(tmp_path: Path) -> None:
    data = make_pdf(f"Supplementary Information for {TITLE}", DOI, pages=6, body=LONG_BODY)
    verdict = _check(tmp_path, data, ids=WorkIds(doi=DOI), title=TITLE)
    assert verdict.failure is FailureClass.NOT_A_PAPER
    assert "supplementary" in verdict.reason


def test_supplement_is_accepted_when_the_supplement_is_the_work(tmp_path: Path) -> None:
    title = f"Supporting information: {TITLE}"
    data = make_pdf(title, DOI, pages=3, body=LONG_BODY)
    assert _check(tmp_path, data, ids=WorkIds(doi=DOI), title=title).ok


# ------------------------------------------------------------------ not a PDF at all


def test_html_saved_as_pdf_is_not_ok(tmp_path: Path) -> None:
    page = (REALDATA / "landing_pages" / "papis_aps_PhysRevX.12.041027_landing.html").read_bytes()
    verdict = _check(tmp_path, page, ids=WorkIds(doi="10.1103/PhysRevX.12.041027"), title=None)
    assert not verdict.ok
    assert verdict.failure is FailureClass.WRONG_TYPE
    assert verdict.reason == "landing page, not full text"


@pytest.mark.parametrize(
    "rel",
    [
        "landing_pages/papis_acs_10.1021_jp003647e_cloudflare_challenge.html",
        "fake_pdfs/taxicab_pmc_PMC11883439_pdf_recaptcha_challenge_TRIMMED.html",
        "fake_pdfs/taxicab_pmc_PMC11975477_pdf_pow_interstitial.html",
    ],
)
def test_bot_wall_saved_as_pdf(tmp_path: Path, rel: str) -> None:
    verdict = _check(tmp_path, (REALDATA / rel).read_bytes(), ids=WorkIds(doi=DOI), title=None)
    assert not verdict.ok and verdict.failure is FailureClass.BOT_WALL


def test_login_page_is_login_or_paywall(tmp_path: Path) -> None:
    page = (
        b"<html><head><title>Sign in</title></head><body><form>"
        b'<input type="password" name="p"></form></body></html>'
    )
    verdict = _check(tmp_path, page, ids=WorkIds(doi=DOI), title=None)
    assert verdict.failure is FailureClass.LOGIN_OR_PAYWALL


@pytest.mark.parametrize("data", [b"", b'{"status": "error"}'], ids=["empty", "json"])
def test_empty_and_unknown_are_wrong_type(tmp_path: Path, data: bytes) -> None:
    assert _check(tmp_path, data, ids=WorkIds(), title=None).failure is FailureClass.WRONG_TYPE


def test_arxiv_atom_is_wrong_type(tmp_path: Path) -> None:
    atom = next((REALDATA / "arxiv").glob("*.atom.xml")).read_bytes()
    verdict = _check(tmp_path, atom, ids=WorkIds(arxiv="1707.08567"), title=None, name="a.xml")
    assert verdict.failure is FailureClass.WRONG_TYPE


# ------------------------------------------------------------------ the real arXiv PDF


def test_real_arxiv_pdf_passes_by_arxiv_stamp(realdata: Path) -> None:
    ids = WorkIds(arxiv="1111.2011")
    verdict = validate_file(realdata / "pdfs" / ARXIV_PDF, ids=ids, title=None)
    assert verdict.ok and verdict.identity_verified is True and verdict.pages == 8


def test_real_arxiv_pdf_passes_by_datacite_doi(realdata: Path) -> None:
    ids = WorkIds(doi="10.48550/arxiv.1111.2011")
    assert validate_file(realdata / "pdfs" / ARXIV_PDF, ids=ids, title=None).identity_verified


def test_real_arxiv_pdf_passes_by_title(realdata: Path) -> None:
    verdict = validate_file(realdata / "pdfs" / ARXIV_PDF, ids=WorkIds(), title=ARXIV_TITLE)
    assert verdict.ok and verdict.identity_verified is True


def test_real_arxiv_pdf_is_wrong_work_for_another_arxiv_id(realdata: Path) -> None:
    ids = WorkIds(arxiv="1706.03762")
    verdict = validate_file(realdata / "pdfs" / ARXIV_PDF, ids=ids, title=None)
    assert verdict.failure is FailureClass.WRONG_WORK
    assert "1111.2011" in verdict.reason


def test_real_arxiv_pdf_is_wrong_work_for_another_title(realdata: Path) -> None:
    verdict = validate_file(
        realdata / "pdfs" / ARXIV_PDF, ids=WorkIds(), title="Attention Is All You Need"
    )
    assert verdict.failure is FailureClass.WRONG_WORK


def test_real_arxiv_pdf_near_miss_title_is_wrong_work(realdata: Path) -> None:
    near_miss = ARXIV_TITLE.replace("Extended Nodes", "Point Nodes").replace("Large", "Small")
    verdict = validate_file(realdata / "pdfs" / ARXIV_PDF, ids=WorkIds(), title=near_miss)
    assert verdict.failure is FailureClass.WRONG_WORK


def test_real_one_page_dummy_pdf_is_not_a_paper(realdata: Path) -> None:
    # "Dummy PDF file": one page, three words.
    verdict = validate_file(realdata / "pdfs" / "sandcrawler_dummy.pdf", ids=WorkIds(), title=None)
    assert verdict.failure is FailureClass.NOT_A_PAPER


# ------------------------------------------------------------------ JATS XML


def _jats(*, doi: str = DOI, title: str = TITLE, body: bool = True) -> bytes:
    paragraphs = "".join(f"<p>{LONG_BODY}</p>" for _ in range(3))
    body_xml = f"<body><sec><title>Introduction</title>{paragraphs}</sec></body>" if body else ""
    return f"""<?xml version="1.0" encoding="UTF-8"?>
<!DOCTYPE article PUBLIC "-//NLM//DTD JATS (Z39.96) Journal Publishing DTD v1.2//EN"
 "JATS-journalpublishing1.dtd">
<article xmlns:xlink="http://www.w3.org/1999/xlink" article-type="research-article">
<front><journal-meta><journal-title-group><journal-title>J</journal-title></journal-title-group>
</journal-meta><article-meta><article-id pub-id-type="pmid">123</article-id>
<article-id pub-id-type="doi">{doi}</article-id>
<title-group><article-title>{title}</article-title></title-group></article-meta></front>
{body_xml}<back><ref-list><ref><mixed-citation>doi:{OTHER_DOI}</mixed-citation></ref></ref-list>
</back></article>""".encode()


def test_jats_full_text_is_accepted(tmp_path: Path) -> None:
    verdict = _check(tmp_path, _jats(), ids=WorkIds(doi=DOI), title=TITLE, name="a.xml")
    assert verdict.ok and verdict.format is Format.XML and verdict.identity_verified is True


def test_jats_identity_by_title_with_markup(tmp_path: Path) -> None:
    title = "Deep <italic>residual</italic> learning for image recognition"
    data = _jats(doi="10.1/unknown", title=title)
    verdict = _check(tmp_path, data, ids=WorkIds(), title=TITLE, name="a.xml")
    assert verdict.ok and verdict.identity_verified is True


def test_jats_metadata_only_is_wrong_type(tmp_path: Path) -> None:
    verdict = _check(tmp_path, _jats(body=False), ids=WorkIds(doi=DOI), title=TITLE, name="a.xml")
    assert verdict.failure is FailureClass.WRONG_TYPE
    assert "body" in verdict.reason


def test_jats_of_another_work_is_wrong_work(tmp_path: Path) -> None:
    data = _jats(doi=OTHER_DOI, title=OTHER_TITLE)
    verdict = _check(tmp_path, data, ids=WorkIds(doi=DOI), title=TITLE, name="a.xml")
    assert verdict.failure is FailureClass.WRONG_WORK


def test_broken_jats_is_corrupt(tmp_path: Path) -> None:
    data = _jats()[:-200]
    verdict = _check(tmp_path, data, ids=WorkIds(doi=DOI), title=TITLE, name="a.xml")
    assert verdict.failure is FailureClass.CORRUPT_OR_PARTIAL


def test_jats_entity_expansion_is_refused(tmp_path: Path) -> None:
    bomb = (
        b'<?xml version="1.0"?><!DOCTYPE article [<!ENTITY a "aaaaaaaaaa">'
        b'<!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;">]>'
        b'<article article-type="research-article"><front/><body><p>&b;</p></body></article>'
    )
    verdict = _check(tmp_path, bomb, ids=WorkIds(), title=None, name="a.xml")
    assert not verdict.ok and verdict.failure is FailureClass.CORRUPT_OR_PARTIAL


# ------------------------------------------------------------------ HTML


PLOS = "plos_one_10.1371_journal.pone.0213978_landing.html"


def test_full_text_html_of_the_work_is_accepted(realdata: Path) -> None:
    ids = WorkIds(doi="10.1371/journal.pone.0213978")
    verdict = validate_file(realdata / "landing_pages" / PLOS, ids=ids, title=None)
    assert verdict.ok and verdict.format is Format.HTML and verdict.identity_verified is True


def test_full_text_html_of_another_work_is_wrong_work(realdata: Path) -> None:
    verdict = validate_file(realdata / "landing_pages" / PLOS, ids=WorkIds(doi=DOI), title=None)
    assert verdict.failure is FailureClass.WRONG_WORK


def test_full_text_html_identity_by_title(realdata: Path) -> None:
    page = realdata / "landing_pages" / "dlib_may2017_vanhyning_fulltext.html"
    title = "Transforming Libraries and Archives through Crowdsourcing"
    verdict = validate_file(page, ids=WorkIds(), title=title)
    assert verdict.ok and verdict.identity_verified is True


@pytest.mark.parametrize(
    "name",
    [
        "first_monday_ojs3_10274_landing.html",
        "papis_springer_10.1007_BF02727953_landing.html",
        "papis_sciencedirect_S0009261497040141_abs_landing.html",
        "taxicab_pmc_PMC13149243_article_TRIMMED.html",
    ],
)
def test_landing_pages_are_not_full_text(realdata: Path, name: str) -> None:
    verdict = validate_file(realdata / "landing_pages" / name, ids=WorkIds(), title=None)
    assert verdict.failure is FailureClass.WRONG_TYPE
    assert verdict.reason == "landing page, not full text"


SIM_TITLE = "Simulated effects of ocean warming on reef fish communities"
SIM_DOI = "10.5555/sim.42"


def test_simweb_article_html_is_full_text() -> None:
    page = pages.article_html(title=SIM_TITLE, doi=SIM_DOI, journal="J", year=2020).encode()
    verdict = validate_bytes(page, ids=WorkIds(doi=SIM_DOI), title=SIM_TITLE)
    assert verdict.ok and verdict.format is Format.HTML and verdict.identity_verified is True


@pytest.mark.parametrize("variant", ["citation", "anchor", "paywall", "none"])
def test_simweb_landing_pages_are_not_full_text(variant: str) -> None:
    page = pages.landing_page(
        title=SIM_TITLE, doi=SIM_DOI, journal="J", year=2020, variant=variant, pdf_href="/a.pdf"
    ).encode()
    verdict = validate_bytes(page, ids=WorkIds(doi=SIM_DOI), title=SIM_TITLE)
    assert verdict.failure is FailureClass.WRONG_TYPE


def test_simweb_interstitials() -> None:
    ids = WorkIds(doi=SIM_DOI)
    cloudflare = validate_bytes(pages.cloudflare_page("8a1b").encode(), ids=ids, title=None)
    login = validate_bytes(pages.login_page("Simulated Publishing").encode(), ids=ids, title=None)
    assert cloudflare.failure is FailureClass.BOT_WALL
    assert login.failure is FailureClass.LOGIN_OR_PAYWALL


def test_simweb_jats_is_full_text() -> None:
    xml = pages.jats_xml(
        title=SIM_TITLE, doi=SIM_DOI, pmcid="PMC1", pmid="1", journal="J", year=2020
    ).encode()
    verdict = validate_bytes(xml, ids=WorkIds(pmcid="PMC1", doi=SIM_DOI), title=None)
    assert verdict.ok and verdict.format is Format.XML and verdict.identity_verified is True


def test_accept_restricts_formats(realdata: Path) -> None:
    ids = WorkIds(doi="10.1371/journal.pone.0213978")
    path = realdata / "landing_pages" / PLOS
    verdict = validate_file(path, ids=ids, title=None, accept=frozenset({Format.PDF}))
    assert verdict.failure is FailureClass.WRONG_TYPE and "expected pdf" in verdict.reason


def test_validate_bytes_matches_validate_file(tmp_path: Path) -> None:
    data = make_pdf(OTHER_TITLE, OTHER_DOI)
    from_bytes = validate_bytes(data, ids=WorkIds(doi=DOI), title=TITLE)
    assert from_bytes == _check(tmp_path, data, ids=WorkIds(doi=DOI), title=TITLE)
    assert from_bytes.failure is FailureClass.WRONG_WORK


# ------------------------------------------------------------------ identity helpers


@pytest.mark.parametrize(
    "text",
    [
        "https://doi.org/10.1371/journal.pone.0213978",
        "DOI: 10.1371/JOURNAL.PONE.0213978.",
        "doi:10.1371/journal.\npone.0213978",
        "10.1371/jour-\nnal.pone.0213978 Received",
        "figure: 10.1371/journal.pone.0213978.g001",
    ],
)
def test_doi_found_despite_layout(text: str) -> None:
    assert has_doi(text, "10.1371/journal.pone.0213978")


@pytest.mark.parametrize(
    "text",
    [
        "10.1371/journal.pone.02139780",
        "10.1371/journal.pone.021397",
        "210.1371/journal.pone.0213978",
    ],
)
def test_doi_prefix_or_extension_is_not_a_match(text: str) -> None:
    assert not has_doi(text, "10.1371/journal.pone.0213978")


def test_find_dois_and_arxiv_stamps() -> None:
    text = (
        "See https://doi.org/10.1000/ABC.1), and arXiv:1706.03762v5 [cs.CL]"
        " and arXiv:hep-th/9901001"
    )
    assert find_dois(text) == ["10.1000/abc.1"]
    assert find_arxiv(text) == ["1706.03762", "hep-th/9901001"]


@pytest.mark.parametrize(
    "text",
    [
        "Deep Residual Learning for Image Recognition\nKaiming He",
        "DEEP RESIDUAL LEARNING FOR IMAGE\nRECOGNITION",
        "Deep Resid-\nual Learn ing for Image Recog nition",  # split words, hyphen break
        "Deep Residual Learning¹ for Image Recognition*",  # footnote markers
        "Deep residual learning for image recognition in practice",  # extra words after
        "Deep Residual Learning for Image Recognition1\nKaiming He1",  # glued footnote digit
    ],
)
def test_title_matches_despite_layout(text: str) -> None:
    assert title_matches(TITLE, normalise(text))


def test_title_matches_ligatures_and_markup() -> None:
    expected = "Eﬃcient <i>ﬁne</i>-tuning of large models"
    assert title_matches(expected, normalise("Efficient fine-tuning of large models"))


def test_title_fuzzy_tolerates_one_dropped_word() -> None:
    # 11 tokens, one lost in extraction: 10/11 = 0.91 >= threshold.
    expected = "A survey of methods for the robust estimation of protein structure dynamics"
    text = "A survey of methods for the robust estimation of structure dynamics"
    assert title_matches(expected, normalise(text))


SURVEY = "A comprehensive survey of stratified turbulent flows in the open ocean"


@pytest.mark.parametrize(
    ("expected", "text"),
    [
        (f"{SURVEY}. Part I", f"{SURVEY}. Part II"),
        (TITLE, "Deep Residual Learning for Speech Recognition"),
        (TITLE, "Deep Recurrent Learning for Image Segmentation"),
        (TITLE, "Very Deep Residual Learning for Image Recognitions"),  # not word-aligned
        (TITLE, "Deep Residual Learning for Image Recognition123"),
        (f"{SURVEY} in 2010", f"{SURVEY} in 2012"),
    ],
)
def test_near_miss_titles_do_not_match(expected: str, text: str) -> None:
    assert not title_matches(expected, normalise(text))


def test_short_titles_never_confirm() -> None:
    assert not title_matches("Editorial", normalise("Editorial"))


# ------------------------------------------------------------------ cost


def test_validation_of_a_200kb_pdf_is_fast(tmp_path: Path) -> None:
    path = _write(tmp_path, "p.pdf", make_pdf(TITLE, DOI, size=200_000))
    best = float("inf")
    for _ in range(5):
        start = time.perf_counter()
        verdict = validate_file(path, ids=WorkIds(doi=DOI), title=TITLE)
        best = min(best, time.perf_counter() - start)
    assert verdict.ok
    assert best < 0.05, f"validation took {best * 1000:.1f} ms"


# ------------------------------------------------------------------ robustness


@settings(max_examples=60, deadline=None)
@given(st.binary(min_size=1100, max_size=4096))
def test_garbage_inside_a_pdf_envelope_never_raises(junk: bytes) -> None:
    verdict = validate_bytes(b"%PDF-1.4\n" + junk + b"\n%%EOF\n", ids=WorkIds(doi=DOI), title=TITLE)
    assert not verdict.ok and verdict.failure is not None


@settings(max_examples=100, deadline=None)
@given(st.text(max_size=300), st.text(max_size=2000))
def test_identity_helpers_never_raise(title: str, text: str) -> None:
    norm = normalise(text)
    assert title_matches(title, norm) in {True, False}
    assert isinstance(find_dois(text), list) and isinstance(find_arxiv(text), list)


def test_has_doi_fast_path_keeps_the_pattern_semantics() -> None:
    doi = "10.5555/sim.1.42"
    assert has_doi("see https://doi.org/10.5555/SIM.1.42.", doi)  # plain, any case
    assert has_doi("doi: 10.5555/sim.1.\n42", doi)  # broken line: the pattern answers
    assert not has_doi("id 10.5555/sim.1.421 only", doi)  # a longer DOI is another work
    assert not has_doi("x910.5555/sim.1.42", doi)  # glued to a digit before
    assert has_doi("10.5555/sim.1.421 and later 10.5555/sim.1.42)", doi)  # second occurrence
