"""Classify a body from its bytes (never from Content-Type alone). Pure: no I/O.

Why bytes first: publishers answer PDF URLs with HTML interstitials (Cloudflare, reCAPTCHA,
PMC's proof-of-work page) under ``200 OK`` and sometimes ``application/pdf``; trusting the
header is how a crawler ends up saving a challenge page as ``paper.pdf``.

Bot walls and login pages are recognised in two tiers so that ordinary landing pages stay
``HTML``:

* strong markers belong only to challenge pages (Cloudflare's ``_cf_chl_opt`` and
  ``/cdn-cgi/challenge-platform/h/…`` orchestrator, DataDome's captcha-delivery host,
  PerimeterX ``px-captcha``, PMC's ``POW_CHALLENGE``…) and decide at any page size;
* weak markers (a challenge-like ``<title>``, captcha widgets, "please enable cookies",
  password forms, "purchase access") only count on a page with little readable text.
  Real landing pages carry Cloudflare's passive ``/cdn-cgi/challenge-platform/scripts/jsd``
  beacon or Imperva's ``_Incapsula_Resource`` script, login modals with password fields
  and "Buy article" boxes next to a full abstract, so none of those alone may turn a
  landing page into a wall.
"""

from __future__ import annotations

import re
from enum import StrEnum

from selectolax.lexbor import LexborHTMLParser

__all__ = ["BodyKind", "classify"]


class BodyKind(StrEnum):
    PDF = "pdf"
    JATS = "jats"  # JATS / NLM article XML
    XML = "xml"  # some other XML
    HTML = "html"
    # Cloudflare "Just a moment", captcha, /verify, PoW interstitials, cookie walls
    BOT_WALL = "bot_wall"
    LOGIN = "login"  # login or paywall page
    EMPTY = "empty"
    UNKNOWN = "unknown"


PDF_MAGIC_WINDOW = 1024
# HTML parsing cost grows with size; the verdict only needs the top of the page.
_HTML_PARSE_CAP = 256 * 1024
# Below this many readable words a page is "mostly chrome": weak wall/login markers count.
SMALL_PAGE_WORDS = 300

_STRONG_WALL = re.compile(
    rb"_cf_chl_opt|__cf_chl_|cf-chl-|/cdn-cgi/challenge-platform/h/|cf-browser-verification"
    rb"|captcha-delivery\.com|px-captcha|pow_challenge|recaptcha/challengepage"
    rb"|/_sec/cp_challenge|bm-verify|sucuri_cloudproxy"
    rb"|anubis_challenge|within\.website/x/cmd/anubis"
)
_WALL_TITLE = re.compile(
    r"just a moment|attention required|checking your browser|preparing to download"
    r"|verify(ing)? (that )?you are (a )?human|are you a robot|human verification"
    r"|bot verification|security check|pardon our interruption|ddos protection"
    r"|access denied|making sure you.re not a bot|one more step|please wait"
    r"|request unsuccessful|captcha"
)
_WALL_TEXT = re.compile(
    rb"please enable cookies|enable javascript and cookies to continue|cookies must be enabled"
    rb"|requires cookies|checking your browser|verify you are (a )?human|verifying you are human"
    rb"|g-recaptcha|h-captcha|hcaptcha\.com|cf-turnstile|challenges\.cloudflare\.com"
    rb"|press (&amp;|&) hold|unusual traffic|errors\.edgesuite\.net|awswaf|perimeterx|datadome"
    rb"|incapsula|_pxhd|ddos-guard|/verify[/?\"']|/captcha[/?\"']"
)
_WALL_URL = re.compile(
    r"/verify(/|\?|$)|/captcha|/cdn-cgi/challenge|__cf_chl|/_sec/|/sorry/index|perfdrive\.com"
    r"|/distil_r_|/challenge(/|\?|$)",
    re.IGNORECASE,
)
_LOGIN_TITLE = re.compile(
    r"\b(log ?in|sign ?in|sign on|single sign-on|authenticat\w*|institutional access"
    r"|purchase (access|article|this)|access (denied|restricted)|subscribe)\b"
)
_PAYWALL_TEXT = re.compile(
    rb"purchase access|access through your institution|buy (this )?article|rent (this )?article"
    rb"|purchase this article|purchase pdf|get access|subscribe to (read|continue|access)"
    rb"|log ?in to (view|read|access|continue)|sign ?in to (view|read|access|continue)"
    rb"|you do not have access|you don.t have access|institutional login"
)
_LOGIN_URL = re.compile(
    r"/(log-?in|sign-?in|signon|sso|shibboleth|wayf|idp|authenticate|auth/realms)(/|\?|$)"
    r"|showlogin|/saml2?/",
    re.IGNORECASE,
)
_WORK_META = re.compile(
    rb"<meta[^>]+(?:name|property)\s*=\s*[\"']?(?:citation_title|citation_doi|dc\.title"
    rb"|dc\.identifier|prism\.doi|og:type[\"']?\s+content\s*=\s*[\"']?article)"
)
_HTML_MARKERS = re.compile(
    rb"<!doctype html|<html[\s>]|<head[\s>]|<body[\s>]|<title[\s>]|<meta\s|<script[\s>]"
    rb"|<div[\s>]|<p>|<a\s+href|<br\s*/?>|<table[\s>]|<form[\s>]|<iframe[\s>]"
)
_HTML_ROOTS = frozenset(
    {"html", "head", "body", "title", "meta", "script", "div", "p", "a", "table", "form",
     "iframe", "link", "style", "span", "h1", "h2", "center", "noscript"}
)
_JATS_HINTS = re.compile(
    rb"jats|-//nlm//|nlm\.nih\.gov|<front[\s>]|dtd-version=|article-type=|<article-meta[\s>]"
)
_LEAD_JUNK = re.compile(
    rb"\A(?:\s+|<\?.*?\?>|<!--.*?-->|<!doctype[^\[>]*(?:\[.*?\])?\s*>)*",
    re.IGNORECASE | re.DOTALL,
)
_ROOT_TAG = re.compile(rb"<([A-Za-z_][\w.\-]*:)?([A-Za-z_][\w.\-]*)")


def classify(head: bytes, *, content_type: str | None = None, url: str | None = None) -> BodyKind:
    """Classify from the first bytes of a body (callers pass at least the first 64 KiB).

    `content_type` only breaks ties for bodies whose bytes carry no marker of their own;
    `url` (the final URL after redirects) adds the evidence of ``/verify`` or login paths.
    """
    if b"%PDF-" in head[:PDF_MAGIC_WINDOW]:
        return BodyKind.PDF
    text = _decode_bom(head)
    if not text.strip(b" \t\r\n\x00\x0c"):
        return BodyKind.EMPTY
    markup = _markup_kind(text, content_type)
    if markup is BodyKind.HTML:
        return _refine_html(text, url)
    return markup


def _decode_bom(head: bytes) -> bytes:
    """Turn UTF-16 bodies into UTF-8 so the byte patterns below apply; drop a UTF-8 BOM."""
    if head.startswith((b"\xff\xfe", b"\xfe\xff")):
        return head.decode("utf-16", errors="ignore").encode("utf-8")
    return head.removeprefix(b"\xef\xbb\xbf")


def _markup_kind(text: bytes, content_type: str | None) -> BodyKind:
    lead = _LEAD_JUNK.match(text)
    rest = text[lead.end() if lead else 0 :]
    root = _ROOT_TAG.match(rest)
    low = text[:8192].lower()
    if root is not None:
        name = root.group(2).decode("ascii", "replace").lower()
        if name in _HTML_ROOTS:
            return BodyKind.HTML
        if name == "article" or (name == "pmc-articleset" and b"<article" in low):
            return BodyKind.JATS if _JATS_HINTS.search(low) or b"<!doctype article" in low else (
                BodyKind.XML
            )
        if text.lstrip().startswith(b"<?xml") or b"xmlns" in rest[: root.end() + 2048]:
            return BodyKind.XML
    if _HTML_MARKERS.search(low):
        return BodyKind.HTML
    if root is not None and text.lstrip().startswith(b"<?xml"):
        return BodyKind.XML
    hint = (content_type or "").lower()
    if b"<" in low and "html" in hint:
        return BodyKind.HTML
    if root is not None and "xml" in hint:
        return BodyKind.XML
    return BodyKind.UNKNOWN


def _body_text(tree: LexborHTMLParser) -> str:
    for node in tree.css("script, style, noscript, template"):
        node.decompose()
    body = tree.body
    return body.text(separator=" ") if body is not None else ""


def _refine_html(text: bytes, url: str | None) -> BodyKind:
    low = text[:_HTML_PARSE_CAP].lower()
    if _STRONG_WALL.search(low):
        return BodyKind.BOT_WALL
    tree = LexborHTMLParser(text[:_HTML_PARSE_CAP])
    title_node = tree.css_first("title")
    title = title_node.text(strip=True).lower() if title_node is not None else ""
    has_password = tree.css_first("input[type=password]") is not None
    words = len(_body_text(tree).split())
    small = words < SMALL_PAGE_WORDS
    if small and (
        _WALL_TITLE.search(title) or _WALL_TEXT.search(low) or (url and _WALL_URL.search(url))
    ):
        return BodyKind.BOT_WALL
    if not small:
        return BodyKind.HTML
    if _LOGIN_TITLE.search(title) or (url and _LOGIN_URL.search(url)):
        return BodyKind.LOGIN
    # A work's landing page (citation_* / DC meta) often embeds a sign-in modal with a
    # password field and a "Buy article" box: that is still the page we parse for links.
    if not _WORK_META.search(low) and (has_password or _PAYWALL_TEXT.search(low)):
        return BodyKind.LOGIN
    return BodyKind.HTML
