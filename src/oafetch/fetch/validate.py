"""Decide whether stored bytes are an acceptable artifact for a work. Pure: reads only the
file it is handed (head and tail by seek; the whole file only for pypdf and XML/HTML).

Order of checks, cheapest first, so a Cloudflare page never reaches pypdf and a truncated
PDF never reaches text extraction:

1. classify the first 64 KiB (`classify.classify`); bot walls and login pages end here;
2. per kind: PDF structure (DESIGN §5), JATS front+body, HTML full text;
3. not-a-paper (abstract-only / cover page / supplement);
4. identity (`identity.check_identity`) on at most the first two pages.

Decisions worth knowing:

* A PDF encrypted with an *owner* password only (empty user password) opens in every
  viewer without a prompt and is accepted: many OA publisher PDFs merely restrict printing.
  A PDF that needs a *user* password is ``login_or_paywall`` (the text is gated behind a
  credential we do not have; retrying will not help).
* not_a_paper (conservative): a one-page PDF with some text but fewer than
  `COVER_PAGE_WORDS` words (abstract / cover / "download this PDF" stub), or a PDF whose
  first page opens with "Supplementary Material", "Supporting Information"… A page without
  any text (a scan) is never called not_a_paper: we cannot know.
* Identity is checked on page 1 first; page 2 is only extracted when page 1 does not
  confirm the work, which keeps the common case to one page of extraction.
"""

from __future__ import annotations

import logging
import os
import re
from dataclasses import dataclass
from io import BytesIO
from pathlib import Path
from typing import Any

from defusedxml import ElementTree as SafeET
from pypdf import PasswordType, PdfReader
from pypdf.errors import DependencyError
from selectolax.lexbor import LexborHTMLParser

from ..ids import WorkIds
from ..outcomes import FailureClass, Format
from .classify import BodyKind, classify
from .identity import IdentityResult, bare_doi, check_identity, find_dois, normalise

__all__ = ["Verdict", "is_full_text_html", "validate_bytes", "validate_file"]

HEAD_BYTES = 64 * 1024
TAIL_BYTES = 2048
MIN_PDF_BYTES = 1024
PAGE_TEXT_CAP = 20_000  # chars kept per page: enough for a title block and a DOI
IDENTITY_PAGES = 2
COVER_PAGE_WORDS = 200
MAX_MARKUP_BYTES = 32 * 1024 * 1024  # XML/HTML read whole up to this; beyond: judged on this
# HTML full text: enough words and enough real paragraphs (a landing page has one: the abstract).
FULLTEXT_MIN_WORDS = 1500
FULLTEXT_MIN_PARAGRAPHS = 10
PARAGRAPH_WORDS = 40
FULLTEXT_MIN_SECTIONS = 3
_SECTION_HEADING = re.compile(
    r"^(\d+\.?\s*)?(introduction|background|methods|materials and methods|results"
    r"|discussion|conclusions?|related work|experiments?|evaluation)\b"
)
JATS_MIN_BODY_WORDS = 50
HTML_IDENTITY_CHARS = 50_000  # title and DOI sit at the top; references come later

_SUPPLEMENT = re.compile(
    r"\b(supplementary (material|materials|information|data|methods|figures|note|notes|text)"
    r"|supporting (information|material)|supplemental (material|information|data)"
    r"|electronic supplementary material|online (resource|appendix))\b"
)
_SUPPLEMENT_LEAD_TOKENS = 12

_log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class Verdict:
    """The answer for one file.

    ok: the bytes may be stored as the work's artifact (`format` says which kind).
    failure / reason: why not (one class of DESIGN §8, a short human sentence).
    identity_verified: True = our DOI / arXiv id / title was found; False = the document has
    no usable text or too little to decide (accepted, flagged ``identity_unverified``);
    None = there was nothing to compare against.
    pages: page count of an accepted PDF.
    """

    ok: bool
    format: Format | None = None
    failure: FailureClass | None = None
    reason: str = ""
    identity_verified: bool | None = None
    pages: int | None = None


def _fail(failure: FailureClass, reason: str, *, fmt: Format | None = None) -> Verdict:
    return Verdict(ok=False, format=fmt, failure=failure, reason=reason)


def validate_file(
    path: Path,
    *,
    ids: WorkIds,
    title: str | None,
    url: str | None = None,
    accept: frozenset[Format] | None = None,
) -> Verdict:
    """Classify the file's bytes and run the checks of DESIGN §5 for its kind.

    `url` (final URL) sharpens bot-wall/login detection; `accept` names the formats the
    caller will take (e.g. only PDF for a ``kind=pdf`` candidate); anything else is
    ``wrong_type`` so the cascade keeps looking for a better format.
    """
    try:
        with open(path, "rb") as fh:
            size = os.fstat(fh.fileno()).st_size
            head = fh.read(HEAD_BYTES)
            tail = head[-TAIL_BYTES:]
            if size > HEAD_BYTES:  # only the last 2 KB matter for %%EOF: seek, don't read
                fh.seek(size - TAIL_BYTES)
                tail = fh.read(TAIL_BYTES)
    except OSError as exc:
        return _fail(FailureClass.CORRUPT_OR_PARTIAL, f"cannot read file: {exc.strerror or exc}")
    kind = classify(head, url=url)
    verdict = _early_verdict(kind, accept)
    if verdict is not None:
        return verdict
    if kind is BodyKind.PDF:
        return _validate_pdf(path, size, tail, ids, title)
    data = _read_capped(path)
    if kind is BodyKind.JATS:
        return _validate_jats(data, ids, title)
    return _validate_html(data, ids, title)


def validate_bytes(
    data: bytes,
    *,
    ids: WorkIds,
    title: str | None,
    url: str | None = None,
    accept: frozenset[Format] | None = None,
) -> Verdict:
    """`validate_file` for a body already in memory (small bodies, tests, `verify`)."""
    kind = classify(data[:HEAD_BYTES], url=url)
    verdict = _early_verdict(kind, accept)
    if verdict is not None:
        return verdict
    if kind is BodyKind.PDF:
        return _validate_pdf(BytesIO(data), len(data), data[-TAIL_BYTES:], ids, title)
    if kind is BodyKind.JATS:
        return _validate_jats(data, ids, title)
    return _validate_html(data, ids, title)


_KIND_FORMAT = {BodyKind.PDF: Format.PDF, BodyKind.JATS: Format.XML, BodyKind.HTML: Format.HTML}


def _early_verdict(kind: BodyKind, accept: frozenset[Format] | None) -> Verdict | None:
    """Verdicts decided by the kind alone (walls, empties, unwanted formats)."""
    if kind is BodyKind.BOT_WALL:
        return _fail(FailureClass.BOT_WALL, "bot challenge page instead of the document")
    if kind is BodyKind.LOGIN:
        return _fail(FailureClass.LOGIN_OR_PAYWALL, "login or paywall page")
    if kind is BodyKind.EMPTY:
        return _fail(FailureClass.WRONG_TYPE, "empty body")
    if kind is BodyKind.XML:
        return _fail(FailureClass.WRONG_TYPE, "XML that is not a JATS article")
    if kind is BodyKind.UNKNOWN:
        return _fail(FailureClass.WRONG_TYPE, "neither PDF, JATS XML nor HTML")
    fmt = _KIND_FORMAT[kind]
    if accept is not None and fmt not in accept:
        wanted = "/".join(sorted(f.value for f in accept))
        return _fail(FailureClass.WRONG_TYPE, f"expected {wanted}, got {fmt.value}")
    return None


def _read_capped(path: Path) -> bytes:
    with open(path, "rb") as fh:
        return fh.read(MAX_MARKUP_BYTES)


# ---------------------------------------------------------------- PDF


def _validate_pdf(
    source: Path | BytesIO, size: int, tail: bytes, ids: WorkIds, title: str | None
) -> Verdict:
    """`%PDF-` in the first 1 KB was already established by `classify`."""
    structural = _pdf_envelope(size, tail)
    if structural is not None:
        return structural
    try:
        reader = PdfReader(source, strict=False)
    except DependencyError as exc:  # AES without a crypto provider installed
        return _fail(FailureClass.LOGIN_OR_PAYWALL, f"encrypted PDF: {_short(exc)}")
    except Exception as exc:  # pypdf raises many types on damaged files
        return _fail(FailureClass.CORRUPT_OR_PARTIAL, f"PDF does not open: {_short(exc)}")
    return _check_reader(reader, ids, title)


def _pdf_envelope(size: int, tail: bytes) -> Verdict | None:
    if size < MIN_PDF_BYTES:
        return _fail(FailureClass.CORRUPT_OR_PARTIAL, f"too small for a PDF ({size} bytes)")
    if b"%%EOF" not in tail:
        return _fail(FailureClass.CORRUPT_OR_PARTIAL, "truncated PDF: no %%EOF in the last 2 KB")
    return None


def _check_reader(reader: PdfReader, ids: WorkIds, title: str | None) -> Verdict:
    try:
        if reader.is_encrypted and reader.decrypt("") == PasswordType.NOT_DECRYPTED:
            return _fail(FailureClass.LOGIN_OR_PAYWALL, "encrypted PDF: needs a password")
        n_pages = len(reader.pages)
    except Exception as exc:  # DependencyError (AES without a crypto lib), broken page tree
        if reader.is_encrypted:
            return _fail(FailureClass.LOGIN_OR_PAYWALL, f"encrypted PDF: {_short(exc)}")
        return _fail(FailureClass.CORRUPT_OR_PARTIAL, f"PDF page tree unreadable: {_short(exc)}")
    if n_pages < 1:
        return _fail(FailureClass.CORRUPT_OR_PARTIAL, "PDF has no pages")
    first = _page_text(reader, 0)
    not_paper = _not_a_paper(first, n_pages, title)
    if not_paper is not None:
        return _fail(FailureClass.NOT_A_PAPER, not_paper, fmt=Format.PDF)
    result = check_identity(first, ids=ids, title=title, claimed_dois=find_dois(first))
    if result.verified is not True and n_pages > 1 and IDENTITY_PAGES > 1:
        # Page 2 may carry the DOI footer or the real title (after a cover page).
        both = first + "\n" + _page_text(reader, 1)
        result = check_identity(both, ids=ids, title=title, claimed_dois=find_dois(first))
    return _identity_verdict(result, Format.PDF, n_pages)


def _page_text(reader: PdfReader, index: int) -> str:
    try:
        return (reader.pages[index].extract_text() or "")[:PAGE_TEXT_CAP]
    except Exception as exc:  # a damaged content stream must not sink a readable file
        _log.debug("text extraction failed on page %d: %s", index + 1, exc)
        return ""


def _not_a_paper(first_page: str, n_pages: int, title: str | None) -> str | None:
    norm = normalise(first_page)
    words = norm.split()
    lead = " ".join(words[:_SUPPLEMENT_LEAD_TOKENS])
    expects_supplement = bool(title and _SUPPLEMENT.search(normalise(title)))
    if _SUPPLEMENT.search(lead) and not expects_supplement:
        return "supplementary material, not the article"
    if n_pages == 1 and 0 < len(words) < COVER_PAGE_WORDS:
        return f"one page with {len(words)} words: abstract or cover page, not the article"
    return None


def _identity_verdict(result: IdentityResult, fmt: Format, pages: int | None) -> Verdict:
    if result.mismatch is not None:
        return Verdict(
            ok=False,
            format=fmt,
            failure=FailureClass.WRONG_WORK,
            reason=result.mismatch,
            identity_verified=False,
            pages=pages,
        )
    return Verdict(ok=True, format=fmt, identity_verified=result.verified, pages=pages)


def _short(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
    return text[:120]


# ---------------------------------------------------------------- JATS XML


def _local(tag: Any) -> str:
    return tag.rsplit("}", 1)[-1] if isinstance(tag, str) else ""


def _find(node: Any, name: str) -> Any:
    for child in node.iter():
        if _local(child.tag) == name:
            return child
    return None


def _validate_jats(data: bytes, ids: WorkIds, title: str | None) -> Verdict:
    try:
        root = SafeET.fromstring(data)
    except Exception as exc:  # ParseError, DTDForbidden, EntitiesForbidden
        return _fail(FailureClass.CORRUPT_OR_PARTIAL, f"XML does not parse: {_short(exc)}")
    article = root if _local(root.tag) == "article" else _find(root, "article")
    if article is None:
        return _fail(FailureClass.WRONG_TYPE, "XML without a JATS <article>")
    front = next((c for c in article if _local(c.tag) == "front"), None)
    body = next((c for c in article if _local(c.tag) == "body"), None)
    if front is None:
        return _fail(FailureClass.WRONG_TYPE, "JATS article without <front>")
    if body is None:
        return _fail(FailureClass.WRONG_TYPE, "JATS metadata only: no <body> full text")
    body_words = len(" ".join(body.itertext()).split())
    if body_words < JATS_MIN_BODY_WORDS:
        return _fail(FailureClass.WRONG_TYPE, f"JATS <body> has only {body_words} words")
    dois, arxivs = [], []
    for node in front.iter():
        if _local(node.tag) == "article-id":
            kind = (node.get("pub-id-type") or "").lower()
            value = (node.text or "").strip()
            if kind == "doi" and value:
                dois.append(value)
            elif kind == "arxiv" and value:
                arxivs.append(value)
    title_node = _find(front, "article-title")
    front_title = " ".join(title_node.itertext()) if title_node is not None else ""
    text = "\n".join([front_title, *dois, *(f"arXiv:{a}" for a in arxivs)])
    result = check_identity(text, ids=ids, title=title, claimed_dois=dois, claimed_arxiv=arxivs)
    if result.verified is False and result.mismatch is None and title and front_title.strip():
        # Both titles are known and they differ: that is a clear mismatch for XML.
        result = IdentityResult(False, mismatch="article-title differs from the expected title")
    return _identity_verdict(result, Format.XML, None)


# ---------------------------------------------------------------- HTML


def is_full_text_html(tree: LexborHTMLParser) -> bool:
    """An article's full text, not a landing page. Either of:

    * long-form: ≥ `FULLTEXT_MIN_WORDS` words and ≥ `FULLTEXT_MIN_PARAGRAPHS` paragraphs
      of ≥ `PARAGRAPH_WORDS` words. Measured on realdata: full-text pages (D-Lib, eLife,
      PLOS, PeerJ, OJS galley) have ≥ 16 such paragraphs and ≥ 3000 words; landing pages
      (APS, IOP, Springer, HAL, NBER, ScienceDirect, Nature news) have ≤ 12 and < 2200;
    * structured: headings naming ≥ `FULLTEXT_MIN_SECTIONS` body sections (Introduction,
      Methods, Results, Discussion, …) over ≥ 8 paragraphs and ≥ 400 words: a short
      article is still full text, while landing pages only head "Abstract", "References".
    """
    for node in tree.css("script, style, noscript, template, nav, header, footer"):
        node.decompose()
    body = tree.body
    if body is None:
        return False
    words = len(body.text(separator=" ").split())
    para_words = [len(p.text().split()) for p in tree.css("p")]
    long_paras = sum(1 for n in para_words if n >= PARAGRAPH_WORDS)
    if words >= FULLTEXT_MIN_WORDS and long_paras >= FULLTEXT_MIN_PARAGRAPHS:
        return True
    if words < 400 or sum(1 for n in para_words if n >= 10) < 8:
        return False
    sections = {
        m.group(0)
        for h in tree.css("h1, h2, h3, h4")
        if (m := _SECTION_HEADING.search(h.text(strip=True).lower()))
    }
    return len(sections) >= FULLTEXT_MIN_SECTIONS


def _meta(tree: LexborHTMLParser, *names: str) -> list[str]:
    values = []
    for node in tree.css("meta[name], meta[property]"):
        key = (node.attributes.get("name") or node.attributes.get("property") or "").lower()
        content = node.attributes.get("content")
        if key in names and content:
            values.append(content.strip())
    return values


def _validate_html(data: bytes, ids: WorkIds, title: str | None) -> Verdict:
    tree = LexborHTMLParser(data)
    dois = [d for d in _meta(tree, "citation_doi", "dc.identifier", "prism.doi") if "10." in d]
    meta_titles = _meta(tree, "citation_title", "dc.title")
    if not is_full_text_html(tree):
        return _fail(FailureClass.WRONG_TYPE, "landing page, not full text", fmt=Format.HTML)
    if ids.doi and dois:
        # The page's own citation_doi is authoritative; the body text cites other works.
        wanted = bare_doi(ids.doi)
        if any(bare_doi(d) == wanted for d in dois):
            return Verdict(ok=True, format=Format.HTML, identity_verified=True)
        reason = f"page names DOI {bare_doi(dois[0])}, expected {wanted}"
        return _identity_verdict(IdentityResult(False, mismatch=reason), Format.HTML, None)
    body = tree.body
    text = "\n".join([*meta_titles, body.text(separator=" ") if body is not None else ""])
    result = check_identity(text[:HTML_IDENTITY_CHARS], ids=ids, title=title, claimed_dois=dois)
    return _identity_verdict(result, Format.HTML, None)

