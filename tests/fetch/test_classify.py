"""`classify` against the real recorded bodies in realdata (read in place) and built edge cases.

Every real landing page must stay HTML: a classifier that calls a publisher page a bot wall
would make the cascade give up on works it could have fetched.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from oafetch.fetch.classify import BodyKind, classify
from oafetch.simweb.pdfgen import make_pdf

HEAD = 64 * 1024
# Same location rule as the `realdata` fixture in tests/conftest.py; needed at collection
# time because the file lists parametrise the tests.
REALDATA = Path(
    os.environ.get("OAFETCH_REALDATA", Path(__file__).resolve().parents[3] / "shared" / "realdata")
)


def _files(pattern: str) -> list[Path]:
    return sorted(REALDATA.glob(pattern)) if REALDATA.is_dir() else []


FAKE_PDFS = _files("fake_pdfs/*")
CHALLENGES = _files("landing_pages/*cloudflare_challenge*.html")
LANDINGS = [p for p in _files("landing_pages/*.html") if "cloudflare_challenge" not in p.name]
REAL_PDFS = _files("pdfs/*.pdf")
ATOM = _files("arxiv/*.atom.xml")


def test_realdata_is_present() -> None:
    # Guards the parametrised tests below against silently collecting nothing.
    assert len(FAKE_PDFS) >= 2 and len(CHALLENGES) >= 6 and len(LANDINGS) >= 25
    assert REAL_PDFS and ATOM


@pytest.mark.parametrize("path", FAKE_PDFS, ids=lambda p: p.name)
def test_html_served_at_pdf_urls_is_a_bot_wall(path: Path) -> None:
    body = path.read_bytes()
    # Content-Type claims a PDF: the bytes must win.
    assert classify(body[:HEAD], content_type="application/pdf") is BodyKind.BOT_WALL


@pytest.mark.parametrize("path", CHALLENGES, ids=lambda p: p.name)
def test_cloudflare_challenges_are_bot_walls(path: Path) -> None:
    body = path.read_bytes()
    assert classify(body[:HEAD], content_type="text/html") is BodyKind.BOT_WALL
    assert classify(body[:1024]) is BodyKind.BOT_WALL  # the <title> alone is enough


@pytest.mark.parametrize("path", LANDINGS, ids=lambda p: p.name)
@pytest.mark.parametrize("cut", [4096, HEAD, None])
def test_real_landing_pages_are_html(path: Path, cut: int | None) -> None:
    # All of these are ordinary publisher/repository pages. Some carry Cloudflare's passive
    # beacon, Imperva's resource script, sign-in modals with password fields (APS, Project
    # Euclid) or "Buy article" boxes (Springer, IOP, ScienceDirect): none is a wall or a
    # login page, because each also shows the work itself (title, abstract, citation meta).
    body = path.read_bytes()
    assert classify(body[:cut] if cut else body) is BodyKind.HTML


def test_challenge_markers_decide_even_on_a_wordy_page() -> None:
    # Strong markers (_cf_chl_opt, the challenge orchestrator) do not depend on page size.
    body = CHALLENGES[0].read_bytes()
    wordy = body.replace(b"<body", b"<body><div>" + b"words of a long notice " * 200 + b"</div", 1)
    assert wordy.count(b"words of a long notice") == 200
    assert classify(wordy.replace(b"Just a moment...", b"pubs.acs.org")) is BodyKind.BOT_WALL


def test_passive_cloudflare_beacon_alone_is_not_a_wall() -> None:
    page = REALDATA / "landing_pages" / "papis_aps_PhysRevX.12.041027_landing.html"
    body = page.read_bytes()
    assert b"/cdn-cgi/challenge-platform/scripts/jsd/main.js" in body
    assert b'type="password"' in body  # the sign-in modal
    assert classify(body) is BodyKind.HTML


@pytest.mark.parametrize("path", REAL_PDFS, ids=lambda p: p.name)
def test_real_pdfs(path: Path) -> None:
    assert classify(path.read_bytes()[:HEAD], content_type="text/html") is BodyKind.PDF


@pytest.mark.parametrize("path", ATOM[:5], ids=lambda p: p.name)
def test_arxiv_atom_is_plain_xml(path: Path) -> None:
    assert classify(path.read_bytes()[:HEAD]) is BodyKind.XML


JATS = b"""<?xml version="1.0" encoding="UTF-8"?>
<!DOCTYPE article PUBLIC "-//NLM//DTD JATS (Z39.96) Journal Archiving and Interchange DTD
 v1.2 20190208//EN" "JATS-archivearticle1.dtd">
<article xmlns:xlink="http://www.w3.org/1999/xlink" article-type="research-article"
 dtd-version="1.2">
<front><article-meta><article-id pub-id-type="doi">10.1/x</article-id></article-meta></front>
<body><p>Text.</p></body></article>
"""


def test_jats_article() -> None:
    assert classify(JATS) is BodyKind.JATS


def test_jats_without_declaration_or_doctype() -> None:
    body = b'<article article-type="research-article"><front/><body/></article>'
    assert classify(body) is BodyKind.JATS


def test_pmc_articleset_wrapper_is_jats() -> None:
    body = b'<?xml version="1.0"?>\n<pmc-articleset><article dtd-version="1.3"><front/></article>'
    assert classify(body) is BodyKind.JATS


def test_non_jats_article_root_is_xml() -> None:
    # An Atom/RSS-like document whose root is not <article> is plain XML.
    body = b'<?xml version="1.0"?><feed xmlns="http://www.w3.org/2005/Atom"><entry/></feed>'
    assert classify(body) is BodyKind.XML


def test_xhtml_with_xml_declaration_is_html() -> None:
    body = b'<?xml version="1.0"?>\n<html xmlns="http://www.w3.org/1999/xhtml"><body>x</body></html>'
    assert classify(body) is BodyKind.HTML


@pytest.mark.parametrize("body", [b"", b"   \r\n\t ", b"\x00\x00"])
def test_empty(body: bytes) -> None:
    assert classify(body) is BodyKind.EMPTY


def test_pdf_magic_must_be_in_first_kilobyte() -> None:
    pdf = make_pdf("A title", "10.1/x")
    assert classify(b" " * 1000 + pdf) is BodyKind.PDF
    assert classify(b" " * 1024 + pdf) is not BodyKind.PDF


def test_content_type_is_only_a_hint() -> None:
    assert classify(b"just some words", content_type="application/pdf") is BodyKind.UNKNOWN
    assert classify(b"<x>words</x>", content_type="text/html") is BodyKind.HTML
    assert classify(b"<x>words</x>") is BodyKind.UNKNOWN


def _page(title: str, body: str, head: str = "") -> bytes:
    html = f"<!DOCTYPE html><html><head><title>{title}</title>{head}</head><body>{body}</body>"
    return (html + "</html>").encode()


ARTICLE_TEXT = "<p>" + "The results of our measurement campaign are reported here. " * 60 + "</p>"


@pytest.mark.parametrize(
    "body",
    [
        _page("Attention Required! | Cloudflare", "<p>Please enable cookies.</p>"),
        _page("example.org", '<div class="cf-turnstile" data-sitekey="x"></div>'),
        _page("example.org", '<script src="https://ct.captcha-delivery.com/c.js"></script>'),
        _page("Access to this page has been denied", '<div id="px-captcha"></div>'),
        _page("Human Verification", '<div class="h-captcha" data-sitekey="x"></div>'),
        _page("Access Denied", "You don't have permission. Reference #18.1 errors.edgesuite.net"),
        _page("x", "<p>Please enable cookies in your browser to continue.</p>"),
        _page("Making sure you're not a bot!", "<p>Calculating...</p>"),
    ],
    ids=["cf-attention", "turnstile", "datadome", "perimeterx", "hcaptcha", "akamai",
         "cookie-wall", "anubis"],
)
def test_synthetic_bot_walls(body: bytes) -> None:
    assert classify(body) is BodyKind.BOT_WALL


def test_verify_path_of_small_page_is_a_bot_wall() -> None:
    body = _page("One moment", "<p>Loading</p>")
    assert classify(body, url="https://journal.example/verify?return=/article/1") is (
        BodyKind.BOT_WALL
    )
    assert classify(body, url="https://journal.example/article/1") is BodyKind.HTML


def test_captcha_widget_on_a_full_article_page_is_not_a_wall() -> None:
    # A comment form with reCAPTCHA under a long article: the article is what was served.
    body = _page("A study of reefs", ARTICLE_TEXT + '<form><div class="g-recaptcha"></div></form>')
    assert classify(body) is BodyKind.HTML


LOGIN_FORM = (
    '<form action="/login" method="post"><label>Email</label><input type="text" name="u">'
    '<label>Password</label><input type="password" name="p"><button>Sign in</button></form>'
)


def test_login_page() -> None:
    assert classify(_page("Sign in | Example Publishing", LOGIN_FORM)) is BodyKind.LOGIN
    assert classify(_page("Example", LOGIN_FORM)) is BodyKind.LOGIN


def test_paywall_page() -> None:
    body = _page("Example", "<h2>Purchase access</h2><p>Access through your institution</p>")
    assert classify(body) is BodyKind.LOGIN


def test_login_url_after_redirect() -> None:
    body = _page("Example", "<p>Welcome back</p>")
    assert classify(body, url="https://idp.example.edu/idp/profile/SAML2/Redirect/SSO") is (
        BodyKind.LOGIN
    )


def test_header_log_in_link_on_landing_page_is_not_a_login_page() -> None:
    body = _page(
        "A study of reefs | Journal",
        '<header><a href="/login">Log in</a></header>' + ARTICLE_TEXT,
    )
    assert classify(body) is BodyKind.HTML


def test_short_landing_page_with_citation_meta_and_sign_in_modal_is_html() -> None:
    head = '<meta name="citation_title" content="A study of reefs">'
    body = _page("A study of reefs", "<p>Abstract: reefs.</p>" + LOGIN_FORM, head)
    assert classify(body) is BodyKind.HTML


@settings(max_examples=300, deadline=None)
@given(st.binary(max_size=4096))
def test_random_bytes_never_crash_and_pdf_needs_magic(body: bytes) -> None:
    kind = classify(body)
    assert isinstance(kind, BodyKind)
    assert (kind is BodyKind.PDF) == (b"%PDF-" in body[:1024])


@settings(max_examples=150, deadline=None)
@given(st.binary(max_size=2048), st.integers(min_value=0, max_value=2048))
def test_magic_position_decides_pdf(prefix: bytes, pad: int) -> None:
    body = prefix.replace(b"%PDF-", b"") + b"\n" * pad + b"%PDF-1.7\n"
    head_has_magic = b"%PDF-" in body[:1024]
    assert (classify(body) is BodyKind.PDF) == head_has_magic


@settings(max_examples=150, deadline=None)
@given(st.text(max_size=2000))
def test_random_markup_text_never_crashes(text: str) -> None:
    body = ("<html><head><title>" + text[:50] + "</title></head><body>" + text).encode()
    assert classify(body) in {BodyKind.HTML, BodyKind.BOT_WALL, BodyKind.LOGIN, BodyKind.PDF}
