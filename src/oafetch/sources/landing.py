"""Landing-page scraping: find the full-text link a publisher or repository page advertises.

The cascade calls `scrape(url, ctx)` for each landing candidate (the source never runs
per work, so `applies` is False). `extract_candidates` is pure: it reads HTML (and the
response's `Link` headers) and returns candidates in the order of how much each signal
can be trusted:

1. `citation_pdf_url` (Google Scholar's tag, most publishers and repositories),
   `citation_xml_url`, `citation_fulltext_html_url`, `bepress_citation_pdf_url`,
   `eprints.document_url`, a `DC.identifier` that is a PDF URL;
2. `<link rel="alternate" type="application/pdf">`;
3. FAIR Signposting: `Link:` headers and `<link>` elements with `rel="item"` (typed
   PDF/XML) and `rel="cite-as"`;
4. `<meta http-equiv="refresh" content="0; url=…">`;
5. anchors whose text or URL says PDF. Anchors are the weakest signal (reference lists
   link other papers' PDFs), so an anchor whose only PDF evidence is its URL must stay
   on the page's own site, and figure/supplement PDFs rank after the article.

Relative URLs are resolved against the FINAL URL after redirects (and `<base href>`).
Every candidate records its technique so the ledger can tell which signal worked.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from urllib.parse import urljoin, urlsplit

import httpx
from selectolax.lexbor import LexborHTMLParser

from ..ids import WorkIds
from ..net.client import Role
from ._util import dedupe, ensure_ok, header_map, looks_like_pdf_url, not_found
from .base import Candidate, Kind, SourceContext, SourceResult

NAME = "landing"
MAX_ANCHORS = 5

# (meta name, kind, technique); checked in this order.
_META_TAGS: tuple[tuple[str, Kind, str], ...] = (
    ("citation_pdf_url", Kind.PDF, "citation_pdf_url"),
    ("citation_xml_url", Kind.XML, "citation_xml_url"),
    ("citation_fulltext_html_url", Kind.HTML, "citation_fulltext_html_url"),
    ("bepress_citation_pdf_url", Kind.PDF, "bepress_citation_pdf_url"),
    ("eprints.document_url", Kind.PDF, "eprints.document_url"),
)
_SIGNPOST_KIND = {
    "application/pdf": Kind.PDF,
    "application/xml": Kind.XML,
    "text/xml": Kind.XML,
    "application/jats+xml": Kind.XML,
}
_LINK_HEADER = re.compile(r"<([^>]*)>((?:\s*;\s*[^;,=]+(?:=(?:\"[^\"]*\"|[^;,]*))?)*)")
_LINK_PARAM = re.compile(r";\s*([^;,=\s]+)\s*(?:=\s*(\"[^\"]*\"|[^;,]*))?")
_REFRESH_URL = re.compile(r"^\s*\d*\s*[;,]?\s*url\s*=\s*['\"]?([^'\"]+)['\"]?\s*$", re.IGNORECASE)
_PDF_WORD = re.compile(r"\bpdf\b", re.IGNORECASE)
_NOT_THE_ARTICLE = re.compile(
    r"figure|supplement|suppl|appendix|slides|poster|erratum|review", re.I
)
# Paywall buttons ("Purchase PDF") say PDF but sell it: never a candidate.
_PAYWALL = re.compile(r"purchase|\bbuy\b|get access|subscribe|\brent\b|/getaccess/", re.I)


def _words(label: str) -> str:
    """The label without URL-like tokens: a link whose text is its own URL says nothing."""
    return " ".join(t for t in label.split() if "/" not in t and not t.lower().endswith(".pdf"))


def _resolve(value: str | None, base: str) -> str | None:
    """Absolute http(s) URL, or None for empty, fragment-only, javascript:, mailto: ..."""
    if not value or not value.strip() or value.strip().startswith("#"):
        return None
    url = urljoin(base, value.strip())
    return url if urlsplit(url).scheme in {"http", "https"} else None


def _site(url: str) -> str:
    """Registrable-ish site: the last two host labels (``link.springer.com`` → ``springer.com``)."""
    host = (urlsplit(url).hostname or "").lower()
    return ".".join(host.split(".")[-2:])


def parse_link_header(value: str) -> Iterator[tuple[str, dict[str, str]]]:
    """Yield `(uri, params)` for each entry of an RFC 8288 `Link` header."""
    for match in _LINK_HEADER.finditer(value):
        params: dict[str, str] = {}
        for pm in _LINK_PARAM.finditer(match.group(2)):
            params[pm.group(1).lower()] = (pm.group(2) or "").strip().strip('"')
        yield match.group(1).strip(), params


def _signpost(
    uri: str | None, rel: str, ctype: str, base: str, source: str, where: str
) -> Candidate | None:
    url = _resolve(uri, base)
    rels = rel.lower().split()
    if url is None:
        return None
    if "item" in rels and (kind := _SIGNPOST_KIND.get(ctype.lower().split(";")[0].strip())):
        return Candidate(url, kind, source, "signposting", extra={"signposting": where})
    if "cite-as" in rels:
        return Candidate(
            url, Kind.LANDING, source, "signposting.cite_as", extra={"signposting": where}
        )
    return None


def _meta_content(tree: LexborHTMLParser, wanted: str) -> list[str]:
    out: list[str] = []
    for node in tree.css("meta"):
        attrs = node.attributes
        name = (attrs.get("name") or attrs.get("property") or "").strip().lower()
        content = attrs.get("content")
        if name == wanted and content:
            out.append(content)
    return out


def _anchor_candidates(
    tree: LexborHTMLParser, base: str, page_url: str, source: str
) -> list[Candidate]:
    scored: list[tuple[int, int, Candidate]] = []
    for order, node in enumerate(tree.css("a[href]")):
        url = _resolve(node.attributes.get("href"), base)
        if url is None or url.split("#")[0] == page_url.split("#")[0]:
            continue
        text = " ".join(node.text(separator=" ").split())
        label = " ".join(
            filter(None, (text, node.attributes.get("title"), node.attributes.get("aria-label")))
        )
        if _PAYWALL.search(label) or _PAYWALL.search(url):
            continue
        text_says_pdf = bool(_PDF_WORD.search(_words(label))) or "pdf" in (
            node.attributes.get("data-download-type") or ""
        )
        url_says_pdf = looks_like_pdf_url(url)
        if not (text_says_pdf or url_says_pdf):
            continue
        if not text_says_pdf and _site(url) != _site(page_url):
            continue  # a PDF elsewhere, named by its URL only: most likely a reference
        score = (2 if text_says_pdf else 0) + (1 if url_says_pdf else 0)
        if _NOT_THE_ARTICLE.search(label) or _NOT_THE_ARTICLE.search(urlsplit(url).path):
            score -= 3
        scored.append((-score, order, Candidate(url, Kind.PDF, source, "anchor_pdf")))
    scored.sort(key=lambda t: (t[0], t[1]))
    return [c for _, _, c in scored][:MAX_ANCHORS]


def extract_candidates(
    html: str,
    *,
    base_url: str,
    headers: Mapping[str, str] | None,
    source: str,
) -> list[Candidate]:
    """Every full-text link the page (and its `Link` headers) advertises, best first."""
    tree = LexborHTMLParser(html)
    base_node = tree.css_first("base[href]")
    base = _resolve(base_node.attributes.get("href"), base_url) if base_node else None
    base = base or base_url
    found: list[Candidate] = []
    for meta_name, kind, technique in _META_TAGS:
        for value in _meta_content(tree, meta_name):
            if url := _resolve(value, base):
                found.append(Candidate(url, kind, source, technique))
    for value in _meta_content(tree, "dc.identifier"):
        url = _resolve(value, base)
        if url and looks_like_pdf_url(url):
            found.append(Candidate(url, Kind.PDF, source, "dc.identifier"))
    for node in tree.css("link[href]"):
        attrs = node.attributes
        rel = (attrs.get("rel") or "").lower()
        is_pdf = (attrs.get("type") or "").lower() == "application/pdf"
        if "alternate" in rel.split() and is_pdf and (url := _resolve(attrs.get("href"), base)):
            found.append(Candidate(url, Kind.PDF, source, "link_alternate_pdf"))
    hdrs = header_map(headers)
    for uri, params in parse_link_header(hdrs.get("link", "")):
        # Header links resolve against the request URL, never the document's <base>.
        if cand := _signpost(
            uri, params.get("rel", ""), params.get("type", ""), base_url, source, "header"
        ):
            found.append(cand)
    for node in tree.css("link[href]"):
        attrs = node.attributes
        cand = _signpost(
            attrs.get("href"), attrs.get("rel") or "", attrs.get("type") or "", base, source, "html"
        )
        if cand:
            found.append(cand)
    for node in tree.css("meta"):
        if (node.attributes.get("http-equiv") or "").lower() != "refresh":
            continue
        match = _REFRESH_URL.match(node.attributes.get("content") or "")
        if match and (url := _resolve(match.group(1), base)):
            kind = Kind.PDF if looks_like_pdf_url(url) else Kind.LANDING
            found.append(Candidate(url, kind, source, "meta_refresh"))
    found.extend(_anchor_candidates(tree, base, base_url, source))
    return dedupe(
        c
        for c in found
        if c.url.split("#")[0] != base_url.split("#")[0] or c.kind is not Kind.LANDING
    )


def is_pdf_response(response: httpx.Response) -> bool:
    ctype = response.headers.get("content-type", "").lower()
    return "application/pdf" in ctype or response.content[:1024].lstrip().startswith(b"%PDF-")


def candidates_from_response(
    response: httpx.Response, *, source: str, technique: str
) -> list[Candidate]:
    """A fetched page: the PDF itself (`technique`), or what its HTML advertises."""
    final_url = str(response.url)
    if is_pdf_response(response):
        return [Candidate(final_url, Kind.PDF, source, technique)]
    return extract_candidates(
        response.text, base_url=final_url, headers=response.headers, source=source
    )


async def scrape(url: str, ctx: SourceContext) -> list[Candidate]:
    """GET a landing page (role landing; robots and private-address rules apply).

    404 and other 4xx give no candidates; 429/5xx raise `TransientNetError`.
    """
    response = await ctx.http.get(url, role=Role.LANDING, discovered=True)
    if not ensure_ok(response, NAME):
        return []
    return candidates_from_response(response, source=NAME, technique="landing.direct_pdf")


class LandingSource:
    name = NAME

    def applies(self, work: WorkIds) -> bool:
        return False  # driven per landing candidate by the cascade, via `scrape`

    async def resolve(self, work: WorkIds, ctx: SourceContext) -> SourceResult:
        return not_found(NAME)

    async def scrape(self, url: str, ctx: SourceContext) -> list[Candidate]:
        return await scrape(url, ctx)


SOURCE = LandingSource()
