"""Scholarly identifiers: parse every common spelling, normalise, and name a work by one key.

Why one parser for everything: inputs arrive as whatever people paste (resolver URLs, `doi:`
prefixes, arXiv PDF links, PubMed pages), and the ledger's idempotency key must not depend on
the spelling. `parse_identifier` turns each spelling into one normalised `WorkIds`; a text
that is none of them raises `InvalidIdentifier` saying what was expected.

Choices worth knowing:
- Bare digits are read as a PMID (the only scholarly id that is just digits). A bare
  ``W123`` is an OpenAlex work, a bare ``PMC123`` a PMCID.
- DOIs are lower-cased (DOIs are case-insensitive by spec) and percent-decoded only when they
  came inside a URL, where encoding is a transport artefact.
- arXiv DataCite DOIs (``10.48550/arXiv.1706.03762``) keep the DOI and also set `arxiv`.
- Version suffixes (``v5``) are dropped: a work is every version; arxiv.org/pdf/{id} serves
  the latest.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass, fields, replace
from typing import Any
from urllib.parse import unquote, urlsplit

from .errors import InvalidIdentifier

__all__ = [
    "EXPECTED",
    "InvalidIdentifier",
    "WorkIds",
    "normalize_arxiv",
    "normalize_doi",
    "normalize_openalex",
    "normalize_pmcid",
    "normalize_pmid",
    "parse_identifier",
    "slug",
]

EXPECTED = "a DOI, arXiv id, PMID, PMCID or OpenAlex id"


@dataclass(frozen=True, slots=True)
class WorkIds:
    """Every identifier we know for one work, each in its normalised form.

    doi: lower-case, no resolver prefix (``10.1371/journal.pone.0000308``)
    arxiv: bare new- or old-style id without version (``1706.03762``, ``hep-th/9901001``)
    pmid: digits only; pmcid: ``PMC`` + digits; openalex: ``W`` + digits
    """

    doi: str | None = None
    arxiv: str | None = None
    pmid: str | None = None
    pmcid: str | None = None
    openalex: str | None = None

    def key(self) -> str:
        """The work key the ledger's idempotency key is built from.

        The first identifier in a fixed order of stability wins, so planning the same work
        twice (even spelled differently) lands on one job.
        """
        for name in ("doi", "arxiv", "pmcid", "pmid", "openalex"):
            value = getattr(self, name)
            if value:
                return f"{name}:{value}"
        raise InvalidIdentifier("a work needs at least one identifier")

    def merged(self, other: WorkIds) -> WorkIds:
        """Fill our missing ids from `other`; ids we already have are kept."""
        updates = {
            f.name: getattr(other, f.name)
            for f in fields(self)
            if getattr(self, f.name) is None and getattr(other, f.name) is not None
        }
        return replace(self, **updates) if updates else self

    def as_dict(self) -> dict[str, str]:
        return {f.name: getattr(self, f.name) for f in fields(self) if getattr(self, f.name)}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> WorkIds:
        return cls(**{f.name: data.get(f.name) for f in fields(cls)})

    def __bool__(self) -> bool:
        return any(getattr(self, f.name) for f in fields(self))


# --- patterns ---------------------------------------------------------------------------

# A DOI: "10." + registrant digits (optionally dotted sub-prefixes) + "/" + any non-space suffix.
_DOI = re.compile(r"10\.\d{4,9}(?:\.\d+)*/\S+")
_DOI_PREFIX = re.compile(r"^(?:doi|info:doi/)\s*:?\s*", re.IGNORECASE)
_DOI_HOSTS = frozenset({"doi.org", "dx.doi.org", "www.doi.org", "hdl.handle.net"})
_SCHEME = re.compile(r"^[a-z][a-z0-9+.-]*://", re.IGNORECASE)
_ARXIV_DOI = re.compile(r"^10\.48550/arxiv\.(.+)$", re.IGNORECASE)

_ARXIV_NEW = re.compile(r"^(\d{4}\.\d{4,5})(?:v\d+)?$")
# Old style: archive (letters, '-'), optional ".XX" subject class, "/", YYMMNNN.
_ARXIV_OLD = re.compile(r"^([a-z][a-z-]*)(\.[a-z]{2})?/(\d{7})(?:v\d+)?$", re.IGNORECASE)
_ARXIV_PREFIX = re.compile(r"^arxiv\s*:\s*", re.IGNORECASE)
_ARXIV_HOSTS = frozenset({"arxiv.org", "www.arxiv.org", "export.arxiv.org"})
_ARXIV_PATH = re.compile(r"^/(?:abs|pdf|html|ps|format)/(.+?)(?:\.pdf)?/?$", re.IGNORECASE)

_PMID = re.compile(r"^(?:pmid|pubmed)\s*[:=]?\s*(\d{1,9})$", re.IGNORECASE)
_DIGITS = re.compile(r"^\d{1,9}$")
_PMCID = re.compile(r"^(?:pmcid\s*[:=]?\s*)?(?:pmc)?\s*(\d{1,9})$", re.IGNORECASE)
_PMC_BARE = re.compile(r"^pmc(\d{1,9})$", re.IGNORECASE)
_OPENALEX = re.compile(r"^(?:openalex\s*:\s*)?w(\d{1,12})$", re.IGNORECASE)

# Punctuation that trails an identifier pasted from prose: "see doi:10.1/x." or "(10.1/x)".
_TRAILING = ".,;:!?\"'>]}"
_LEADING = "<([{\"'"


def _clean(text: str) -> str:
    s = text.strip().strip("\u200b\ufeff").strip()
    s = s.lstrip(_LEADING).strip()
    while s:
        if s[-1] in _TRAILING:
            s = s[:-1]
        elif s[-1] == ")" and s.count("(") < s.count(")"):
            s = s[:-1]  # an unbalanced ")" closes a parenthesis around the id, not the DOI
        else:
            break
        s = s.rstrip()
    return s


def _fail(text: str, what: str = EXPECTED) -> InvalidIdentifier:
    shown = text if len(text) <= 80 else text[:77] + "..."
    return InvalidIdentifier(f"{shown!r} is not {what}")


# --- normalisers ------------------------------------------------------------------------


def _doi_from(text: str) -> str | None:
    """The DOI in any of its spellings, normalised, or None."""
    s = _clean(text)
    if not s:
        return None
    lowered = s.lower()
    is_url = _SCHEME.match(s) is not None
    if is_url or lowered.startswith(("doi.org/", "dx.doi.org/", "www.doi.org/")):
        parts = urlsplit(s if is_url else "https://" + s)
        if (parts.hostname or "").lower() not in _DOI_HOSTS:
            return None
        s = unquote(parts.path.lstrip("/"))
        if parts.query:  # a "?" inside a DOI arrives unencoded in pasted URLs
            s = f"{s}?{unquote(parts.query)}"
    else:
        s = _DOI_PREFIX.sub("", s, count=1)
    s = _clean(s)
    if not _DOI.fullmatch(s):
        return None
    return s.lower()


def normalize_doi(text: str) -> str:
    """``10.1371/JOURNAL.pone.0000308`` in any spelling → ``10.1371/journal.pone.0000308``."""
    doi = _doi_from(text)
    if doi is None:
        raise _fail(text, "a DOI (expected 10.NNNN/suffix, doi:…, or a doi.org URL)")
    return doi


def _arxiv_core(s: str) -> str | None:
    m = _ARXIV_NEW.match(s)
    if m:
        return m.group(1)
    m = _ARXIV_OLD.match(s)
    if m:
        archive, subject, number = m.groups()
        return f"{archive.lower()}{(subject or '').upper()}/{number}"
    return None


def _arxiv_from(text: str) -> str | None:
    s = _clean(text)
    lowered = s.lower()
    if "arxiv.org/" in lowered:
        parts = urlsplit(s if "://" in s else "https://" + s)
        if (parts.hostname or "").lower() not in _ARXIV_HOSTS:
            return None
        m = _ARXIV_PATH.match(unquote(parts.path))
        return _arxiv_core(m.group(1)) if m else None
    doi = _ARXIV_DOI.match(s)
    if doi:
        return _arxiv_core(doi.group(1))
    return _arxiv_core(_ARXIV_PREFIX.sub("", s, count=1))


def normalize_arxiv(text: str) -> str:
    """``arXiv:1706.03762v5`` / arxiv.org URLs / old ``hep-th/9901001`` → the bare id."""
    value = _arxiv_from(text)
    if value is None:
        raise _fail(
            text, "an arXiv id (expected 1706.03762, arXiv:…, hep-th/9901001 or an arxiv.org URL)"
        )
    return value


def normalize_pmid(text: str) -> str:
    """``PMID: 123`` / ``123`` / PubMed URLs → ``123`` (no leading zeros)."""
    value = _pmid_from(text, allow_bare=True)
    if value is None:
        raise _fail(text, "a PMID (expected digits, PMID:…, or a PubMed URL)")
    return value


def normalize_pmcid(text: str) -> str:
    """``PMC3531190`` / ``pmcid:3531190`` / PMC URLs → ``PMC3531190``."""
    s = _clean(text)
    m = _PMCID.match(s)
    value = f"PMC{int(m.group(1))}" if m else _pmcid_from_url(s)
    if value is None:
        raise _fail(text, "a PMCID (expected PMC followed by digits, or a PMC URL)")
    return value


def normalize_openalex(text: str) -> str:
    """``w2741809807`` / ``https://openalex.org/W…`` → ``W2741809807``."""
    value = _openalex_from(text)
    if value is None:
        raise _fail(text, "an OpenAlex work id (expected W followed by digits)")
    return value


def _pmid_from(text: str, *, allow_bare: bool) -> str | None:
    s = _clean(text)
    m = _PMID.match(s)
    if m:
        return str(int(m.group(1)))
    if allow_bare and _DIGITS.match(s):
        return str(int(s))
    if "://" in s or "ncbi.nlm.nih.gov" in s.lower() or "europepmc.org" in s.lower():
        parts = urlsplit(s if "://" in s else "https://" + s)
        host = (parts.hostname or "").lower()
        segs = [p for p in parts.path.split("/") if p]
        if host == "pubmed.ncbi.nlm.nih.gov" and len(segs) == 1 and _DIGITS.match(segs[0]):
            return str(int(segs[0]))
        if host.endswith("ncbi.nlm.nih.gov") and len(segs) == 2 and segs[0].lower() == "pubmed":
            return str(int(segs[1])) if _DIGITS.match(segs[1]) else None
        if host.endswith("europepmc.org") and len(segs) == 3 and segs[1].upper() == "MED":
            return str(int(segs[2])) if _DIGITS.match(segs[2]) else None
    return None


def _pmcid_from_url(s: str) -> str | None:
    if "://" not in s and "ncbi.nlm.nih.gov" not in s.lower() and "europepmc.org" not in s.lower():
        return None
    parts = urlsplit(s if "://" in s else "https://" + s)
    host = (parts.hostname or "").lower()
    segs = [p for p in parts.path.split("/") if p]
    tail: str | None = None
    if host.endswith("ncbi.nlm.nih.gov") or host.endswith("europepmc.org"):
        # ncbi.nlm.nih.gov/pmc/articles/PMC1/, pmc.ncbi.nlm.nih.gov/articles/PMC1/,
        # europepmc.org/articles/PMC1, europepmc.org/article/PMC/PMC1
        for i, seg in enumerate(segs[:-1]):
            if seg.lower() in ("articles", "pmc") and (
                seg.lower() == "articles" or segs[i + 1].upper().startswith("PMC")
            ):
                tail = segs[i + 1]
        if tail is None and segs and _PMC_BARE.match(segs[-1]):
            tail = segs[-1]
    if tail is None:
        return None
    m = _PMCID.match(tail)
    return f"PMC{int(m.group(1))}" if m else None


def _openalex_from(text: str) -> str | None:
    s = _clean(text)
    if "openalex.org" in s.lower():
        parts = urlsplit(s if "://" in s else "https://" + s)
        host = (parts.hostname or "").lower()
        segs = [p for p in parts.path.split("/") if p]
        if host == "openalex.org" and len(segs) == 1:
            s = segs[0]
        elif host == "api.openalex.org" and len(segs) == 2 and segs[0] == "works":
            s = segs[1]
        else:
            return None
    m = _OPENALEX.match(s)
    return f"W{int(m.group(1))}" if m else None


# --- the parser -------------------------------------------------------------------------


def parse_identifier(text: str) -> WorkIds:
    """Parse one identifier in any common spelling; raise `InvalidIdentifier` otherwise."""
    if not isinstance(text, str):
        raise InvalidIdentifier(f"expected text, got {type(text).__name__}")
    s = _clean(text)
    if not s:
        raise InvalidIdentifier(f"empty input is not {EXPECTED}")
    doi = _doi_from(s)
    if doi is not None:
        return WorkIds(doi=doi, arxiv=_arxiv_from(doi))
    arxiv = _arxiv_from(s)
    if arxiv is not None:
        return WorkIds(arxiv=arxiv)
    openalex = _openalex_from(s)
    if openalex is not None:
        return WorkIds(openalex=openalex)
    if _PMC_BARE.match(s) or s.lower().startswith("pmcid"):
        m = _PMCID.match(s)
        if m:
            return WorkIds(pmcid=f"PMC{int(m.group(1))}")
    # A bare "10." (or "10.5555") is a DOI cut short, never PMID 10.
    looks_like_doi = re.match(r"(?i)\s*(doi:\s*)?10\.", text) is not None
    pmid = None if looks_like_doi else _pmid_from(s, allow_bare=True)
    if pmid is not None:
        return WorkIds(pmid=pmid)
    pmcid = _pmcid_from_url(s)
    if pmcid is not None:
        return WorkIds(pmcid=pmcid)
    raise _fail(text)


# --- friendly names ---------------------------------------------------------------------

_UNSAFE = re.compile(r"[^A-Za-z0-9._-]")
_MAX_SLUG = 150  # well under the 255-byte name limit, leaving room for suffixes/extensions


def slug(ids: WorkIds) -> str:
    """A filesystem-safe, human-friendly name for a work (``10.1371_journal.pone.0000308``).

    The DOI's first "/" and an old arXiv id's "/" become "_"; any other unsafe character
    becomes "_" too, and then a short hash of the work key is appended so two works whose
    names collapse to the same text still get different names.
    """
    if ids.doi:
        prefix, _, suffix = ids.doi.partition("/")
        body, lossless = f"{prefix}_{_UNSAFE.sub('_', suffix)}", not _UNSAFE.search(suffix)
    elif ids.arxiv:
        body, lossless = "arXiv_" + ids.arxiv.replace("/", "_"), True
    elif ids.pmcid:
        body, lossless = ids.pmcid, True
    elif ids.pmid:
        body, lossless = f"PMID_{ids.pmid}", True
    elif ids.openalex:
        body, lossless = ids.openalex, True
    else:
        raise InvalidIdentifier("a work needs at least one identifier to be named")
    if body.endswith("."):
        body, lossless = body.rstrip("."), False
    if len(body) > _MAX_SLUG:
        body, lossless = body[:_MAX_SLUG], False
    if lossless:
        return body
    digest = hashlib.sha256(ids.key().encode()).hexdigest()[:10]
    return f"{body}-{digest}"
