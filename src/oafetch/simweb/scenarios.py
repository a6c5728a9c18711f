"""The catalogue of simulated-web scenarios and the profile mixes that draw on them.

Why a separate table: the expected outcome of every scenario (what oafetch *should* do)
is the contract tests assert against, so it lives in one declarative place, apart from
the code in `world.py` that builds the responses realising it.
"""

from __future__ import annotations

import random
from dataclasses import dataclass

__all__ = ["PROFILES", "SCENARIOS", "Scenario", "scenario_plan"]


@dataclass(frozen=True, slots=True)
class Scenario:
    """Expected outcome of one scenario; `doc` says what the simulated web does."""

    name: str
    expect_status: str  # "downloaded" (a success: downloaded/deduped) | "failed"
    expect_class: str | None
    expect_format: str | None
    expect_source: str | None
    doc: str


def _ok(name: str, fmt: str, source: str | None, doc: str) -> Scenario:
    return Scenario(name, "downloaded", None, fmt, source, doc)


def _fail(name: str, cls: str, doc: str) -> Scenario:
    return Scenario(name, "failed", cls, None, None, doc)


_ALL: list[Scenario] = [
    # --- slice: openalex / unpaywall / arxiv -------------------------------------------
    _ok("oa_pdf", "pdf", "openalex", "OpenAlex best_oa_location.pdf_url -> publisher1 PDF"),
    _ok(
        "unpaywall_pdf",
        "pdf",
        "unpaywall",
        "OpenAlex has a landing page only (no PDF link on it); Unpaywall url_for_pdf -> repository",
    ),
    _ok("arxiv_pdf", "pdf", "arxiv", "input is an arXiv id; arxiv /pdf/{id} serves the PDF"),
    _fail(
        "closed",
        "no_oa_location",
        "OpenAlex is_oa=false (landing only, paywalled), Unpaywall is_oa=false, no locations",
    ),
    _fail("unknown", "no_oa_location", "every API answers 404"),
    _fail("pdf_404", "link_dead", "the only pdf_url answers 404; wayback has no capture"),
    _fail("bot_wall", "bot_wall", "the pdf_url answers a Cloudflare challenge (403)"),
    _fail("wrong_type", "wrong_type", "the pdf_url answers HTML with Content-Type application/pdf"),
    _fail("truncated", "corrupt_or_partial", "the pdf_url serves a PDF cut before %%EOF"),
    _fail("wrong_work", "wrong_work", "the pdf_url serves a valid PDF of another work"),
    _ok("flaky_503", "pdf", "openalex", "the pdf_url answers 503 once, then the PDF"),
    _ok(
        "retry_429", "pdf", "openalex", "the pdf_url answers 429 Retry-After: 1 once, then the PDF"
    ),
    _ok("dup_a", "pdf", "openalex", "first of two works whose PDFs are the same bytes"),
    _ok(
        "dup_b",
        "pdf",
        "openalex",
        "second of the pair: same bytes as dup_a; a success, but one of the pair (either: "
        "order is not fixed) ends `deduped` — tell them apart by SimWork.group",
    ),
    # --- cascade: every other source and failure class ---------------------------------
    _ok("crossref_pdf", "pdf", "crossref", "only Crossref message.link[] names the PDF"),
    _ok("pmc_pdf", "pdf", "pmc", "input is a PMCID; idconv + PMC OA service -> PMC PDF"),
    _ok(
        "jats_xml",
        "xml",
        None,
        "PMCID with no PDF anywhere; JATS XML at europepmc /{PMCID}/fullTextXML",
    ),
    _ok("europepmc_pdf", "pdf", "europepmc", "Europe PMC fullTextUrlList pdf (Open access)"),
    _ok("html_only", "html", "europepmc", "Europe PMC fullTextUrlList html only -> article HTML"),
    _ok("s2_pdf", "pdf", "semantic_scholar", "Semantic Scholar openAccessPdf.url"),
    _ok(
        "doaj_landing",
        "pdf",
        None,
        "DOAJ bibjson.link fulltext -> landing with citation_pdf_url",
    ),
    _ok("zenodo_pdf", "pdf", "zenodo", "Zenodo record file"),
    _ok("hal_pdf", "pdf", "hal", "HAL fileMain_s"),
    _ok("core_pdf", "pdf", "core", "CORE downloadUrl"),
    _ok("osf_pdf", "pdf", "osf", "OSF preprint primary_file download link"),
    _ok("figshare_pdf", "pdf", "figshare", "Figshare article files[].download_url"),
    _ok("doi_direct_pdf", "pdf", "doi", "doi.org redirects straight to the PDF"),
    _ok("landing_citation_pdf_url", "pdf", None, "landing page meta citation_pdf_url"),
    _ok(
        "landing_link_alternate",
        "pdf",
        None,
        "landing page <link rel=alternate type=application/pdf>",
    ),
    _ok(
        "landing_signposting",
        "pdf",
        None,
        "landing page Link header rel=item type=application/pdf (FAIR Signposting)",
    ),
    _ok(
        "landing_meta_refresh",
        "pdf",
        None,
        "landing page <meta http-equiv=refresh> to the PDF",
    ),
    _ok("landing_anchor", "pdf", None, "landing page <a> 'Download PDF' only"),
    _fail("landing_no_link", "landing_no_link", "landing page without any full-text link"),
    _fail("redirect_loop", "redirect_pathology", "the pdf_url redirects in a loop"),
    _fail("login_page", "login_or_paywall", "the pdf_url redirects to a login form"),
    _fail("abstract_only", "not_a_paper", "the pdf_url serves a one-page abstract-only PDF"),
    _fail(
        "robots_disallowed", "policy_skip", "the pdf_url is under /private/ (robots.txt Disallow)"
    ),
    _ok("wayback_rescue", "pdf", "wayback", "the pdf_url is dead (404); wayback has a 200 capture"),
    _fail("always_503", "transient", "the pdf_url answers 503 every time"),
    _fail(
        "rate_limited", "rate_limited", "the pdf_url answers 429 with Retry-After: 3600 every time"
    ),
    _fail("invalid_input", "invalid_input", "the input is not an identifier"),
    # --- crash / bench -----------------------------------------------------------------
    _ok("big_pdf", "pdf", "openalex", "OpenAlex pdf_url -> a big (--big-pdf-bytes) throttled PDF"),
]

SCENARIOS: dict[str, Scenario] = {s.name: s for s in _ALL}

# A unit is a run of scenarios that must stay adjacent (the duplicate pair).
_SLICE: list[tuple[str, ...]] = [
    ("oa_pdf",),
    ("unpaywall_pdf",),
    ("arxiv_pdf",),
    ("closed",),
    ("unknown",),
    ("pdf_404",),
    ("bot_wall",),
    ("wrong_type",),
    ("truncated",),
    ("wrong_work",),
    ("flaky_503",),
    ("retry_429",),
    ("dup_a", "dup_b"),
]
_CASCADE_ONLY = [
    "crossref_pdf",
    "pmc_pdf",
    "jats_xml",
    "europepmc_pdf",
    "html_only",
    "s2_pdf",
    "doaj_landing",
    "zenodo_pdf",
    "hal_pdf",
    "core_pdf",
    "osf_pdf",
    "figshare_pdf",
    "doi_direct_pdf",
    "landing_citation_pdf_url",
    "landing_link_alternate",
    "landing_signposting",
    "landing_meta_refresh",
    "landing_anchor",
    "landing_no_link",
    "redirect_loop",
    "login_page",
    "abstract_only",
    "robots_disallowed",
    "wayback_rescue",
    "always_503",
    "rate_limited",
    "invalid_input",
]
_DEMO: list[tuple[str, ...]] = [
    ("oa_pdf",),
    ("unpaywall_pdf",),
    ("arxiv_pdf",),
    ("oa_pdf",),
    ("pmc_pdf",),
    ("jats_xml",),
    ("landing_citation_pdf_url",),
    ("oa_pdf",),
    ("crossref_pdf",),
    ("closed",),
    ("oa_pdf",),
    ("wayback_rescue",),
    ("bot_wall",),
    ("s2_pdf",),
    ("oa_pdf",),
    ("pdf_404",),
    ("zenodo_pdf",),
    ("flaky_503",),
    ("europepmc_pdf",),
    ("dup_a", "dup_b"),
]

PROFILES: dict[str, list[tuple[str, ...]]] = {
    "slice": _SLICE,
    "cascade": _SLICE + [(n,) for n in _CASCADE_ONLY],
    "demo": _DEMO,
    "bench": [("oa_pdf",)],
    "crash": [("big_pdf",), ("big_pdf",), ("big_pdf",), ("oa_pdf",)],
}


def scenario_plan(profile: str, seed: int, works: int) -> list[str]:
    """The scenario of each work index: the profile's units, shuffled once by the seed.

    Units are repeated whole, so every scenario appears ``works // len(profile)`` times or
    more, and the duplicate pair is never split (except by the end of the list).
    """
    if profile not in PROFILES:
        raise ValueError(
            f"unknown simweb profile {profile!r}; known: {', '.join(sorted(PROFILES))}"
        )
    units = list(PROFILES[profile])
    random.Random(f"{profile}:{seed}").shuffle(units)
    flat = [name for unit in units for name in unit]
    return [flat[i % len(flat)] for i in range(works)]
