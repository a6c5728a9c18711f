"""Is this text the work we asked for? Pure string logic shared by the PDF, XML and HTML checks.

Why so careful: reporting the wrong paper as a success is worse than failing. But PDF text
extraction is messy (ligatures, hyphenated line breaks, words split or glued, DOIs broken
over two lines), and expected titles come from metadata with markup (``<i>``, ``<sub>``),
so matching must tolerate layout noise while still rejecting a *different* paper with a
similar title ("Part I" vs "Part II", one key word changed).

Rules (tested in tests/fetch/test_validate.py):

* DOI: case-insensitive; whitespace and a hyphen+line break may appear anywhere inside it;
  the character after it must not continue an identifier (``10.1/ab1`` ≠ ``10.1/ab12``).
* arXiv id: the bare id with an optional ``vN``, the digit after it must not continue.
* Title: normalised (NFKC, casefold, markup and punctuation to spaces). It matches if its
  letters appear contiguously in the text ignoring all spaces (survives split/glued words),
  or, for titles of at least `FUZZY_MIN_TOKENS` tokens, if some window of the text holds at
  least `TITLE_THRESHOLD` of the title's tokens in order and every number/roman numeral of
  the title. 0.9 lets a 10-token title lose one word to extraction, but two changed words
  of a 16-token title ("extended nodes … large" -> "point nodes … small") are another
  paper. Titles shorter than `SHORT_TITLE_CHARS` letters ("Editorial", "Reply") are too
  generic to confirm or to refute anything.
"""

from __future__ import annotations

import functools
import re
import unicodedata
from dataclasses import dataclass
from difflib import SequenceMatcher

from ..ids import WorkIds

__all__ = [
    "TITLE_THRESHOLD",
    "IdentityResult",
    "bare_doi",
    "check_identity",
    "find_arxiv",
    "find_dois",
    "has_doi",
    "normalise",
    "title_matches",
]

# Fraction of the expected title's tokens that must appear, in order, in one window of text.
TITLE_THRESHOLD = 0.9
FUZZY_MIN_TOKENS = 4
SHORT_TITLE_CHARS = 12
# "Plenty of text": below this many words a missing title proves nothing.
PLENTY_WORDS = 150

_DOI_IN_TEXT = re.compile(r"\b10\.\d{4,9}/[^\s\"'<>]+", re.IGNORECASE)
_ARXIV_IN_TEXT = re.compile(
    r"arxiv\s*:\s*(\d{4}\.\d{4,5}|[a-z\-]+(?:\.[a-z]{2})?/\d{7})", re.IGNORECASE
)
_MARKUP = re.compile(r"<[^>]{0,200}>")
# Superscript digits and footnote symbols would otherwise glue onto words after NFKC.
_FOOTNOTE_MARKS = re.compile("[\u00b9\u00b2\u00b3\u2070-\u209f*\u2020\u2021\u2217]+")
_NON_WORD = re.compile(r"[^0-9a-z]+")
_NUMBERISH = re.compile(r"^(\d+|[ivx]{1,5})$")
_DOI_PREFIXES = re.compile(r"^(?:https?://)?(?:dx\.)?(?:doi\.org/)?(?:doi:\s*)?", re.IGNORECASE)
_ARXIV_DOI = re.compile(r"^10\.48550/arxiv\.(.+)$", re.IGNORECASE)
_DOI_TAIL_PUNCT = ".,;:)]}"


@dataclass(frozen=True, slots=True)
class IdentityResult:
    """`verified` is True (ours), False (inconclusive) or None (nothing to compare against);
    `mismatch` carries a short human reason when the text is clearly another work."""

    verified: bool | None
    mismatch: str | None = None
    matched_by: str | None = None


def normalise(text: str) -> str:
    """Casefolded words separated by single spaces; ligatures and markup resolved."""
    text = _FOOTNOTE_MARKS.sub(" ", _MARKUP.sub(" ", text))
    text = unicodedata.normalize("NFKC", text).casefold()
    text = re.sub(r"-\s*\n\s*", "", text)  # re-join words hyphenated across lines
    decomposed = unicodedata.normalize("NFKD", text)
    ascii_ish = "".join(ch for ch in decomposed if not unicodedata.combining(ch))
    return _NON_WORD.sub(" ", ascii_ish).strip()


def bare_doi(doi: str) -> str:
    """``https://doi.org/10.1/X`` / ``doi:10.1/X`` -> ``10.1/x``."""
    return _DOI_PREFIXES.sub("", doi.strip()).lower()


@functools.lru_cache(maxsize=1024)
def _flexible(ident: str) -> re.Pattern[str]:
    """A pattern for `ident` that tolerates whitespace / hyphenated breaks between its chars."""
    gap = r"(?:-?\s+)?"
    body = gap.join(re.escape(ch) for ch in ident)
    return re.compile(r"(?<![0-9])" + body + r"(?![0-9a-z])", re.IGNORECASE)


def has_doi(text: str, doi: str) -> bool:
    """Whether `doi` is printed in `text` (any case, spaces or line breaks inside)."""
    bare = bare_doi(doi)
    if not bare:
        return False
    if text.isascii() and _plain_doi_at_boundary(text.lower(), bare):
        return True  # what the flexible pattern matches with every gap empty
    return _flexible(bare).search(text) is not None


def _plain_doi_at_boundary(lowered: str, bare: str) -> bool:
    """The DOI printed as is, not glued to digits before or to [0-9a-z] after.

    Why: compiling `_flexible(doi)` costs ~0.3 ms per new DOI (the regex parser is Python)
    and every work has a new DOI, while nearly every paper prints its DOI plainly; this
    `str.find` answers those and leaves the line-broken spellings to the pattern. ASCII
    only, so `lower()` keeps offsets and matches the pattern's IGNORECASE exactly.
    """
    start = lowered.find(bare)
    while start >= 0:
        end = start + len(bare)
        before_ok = start == 0 or not lowered[start - 1].isdigit()
        after_ok = end >= len(lowered) or not (lowered[end].isdigit() or "a" <= lowered[end] <= "z")
        if before_ok and after_ok:
            return True
        start = lowered.find(bare, start + 1)
    return False


def find_dois(text: str) -> list[str]:
    """DOIs printed in `text`, lower-cased, trailing punctuation removed."""
    found = []
    for match in _DOI_IN_TEXT.finditer(text):
        doi = match.group(0).rstrip(_DOI_TAIL_PUNCT).lower()
        if doi not in found:
            found.append(doi)
    return found


def find_arxiv(text: str) -> list[str]:
    """arXiv ids stamped as ``arXiv:NNNN.NNNNN[vN]`` in `text` (version stripped)."""
    return list(dict.fromkeys(m.group(1).lower() for m in _ARXIV_IN_TEXT.finditer(text)))


def _has_arxiv(text: str, arxiv: str) -> bool:
    pattern = re.compile(r"(?<![0-9.])" + re.escape(arxiv) + r"(?:v\d+)?(?![0-9])", re.I)
    return pattern.search(text) is not None


def _tokens(norm: str) -> list[str]:
    return norm.split()


def _footnote_end(compact: str, haystack: str, end: int) -> int:
    """Where the title ends if a footnote digit or two is glued to its last word
    ("Recognition1"); -1 when there is none."""
    if compact[-1].isdigit():
        return -1
    glued = 0
    while glued < 2 and end + glued < len(haystack) and haystack[end + glued].isdigit():
        glued += 1
    return end + glued if glued else -1


def _compact_match(compact: str, text_tokens: list[str]) -> bool:
    """`compact` (a title without spaces) occurs in the text ignoring spaces, starting and
    ending on word boundaries: survives "Recog nition", refuses "Part I" inside "Part II"."""
    boundaries = {0}
    pos = 0
    for token in text_tokens:
        pos += len(token)
        boundaries.add(pos)
    haystack = "".join(text_tokens)
    start = haystack.find(compact)
    while start != -1:
        end = start + len(compact)
        if start in boundaries and (
            end in boundaries or _footnote_end(compact, haystack, end) in boundaries
        ):
            return True
        start = haystack.find(compact, start + 1)
    return False


def title_matches(title: str, text_norm: str) -> bool:
    """Fuzzy title match against already `normalise`d text (see the module docstring)."""
    t_norm = normalise(title)
    t_tokens = _tokens(t_norm)
    compact = t_norm.replace(" ", "")
    if not compact:
        return False
    if len(compact) < SHORT_TITLE_CHARS:
        return False  # "Reply", "Editorial": found in too many documents to prove anything
    text_tokens = _tokens(text_norm)
    if _compact_match(compact, text_tokens):
        return True
    n = len(t_tokens)
    if n < FUZZY_MIN_TOKENS:
        return False
    wanted = set(t_tokens)
    numbers = {t for t in t_tokens if _NUMBERISH.match(t)}
    width = n + max(2, n // 4)
    need = TITLE_THRESHOLD * n
    matcher = SequenceMatcher(autojunk=False)
    matcher.set_seq2(t_tokens)
    for start, token in enumerate(text_tokens):
        if token not in wanted:
            continue
        window = text_tokens[start : start + width]
        if sum(1 for w in window if w in wanted) < need:
            continue
        if numbers and not numbers <= set(window):
            continue
        matcher.set_seq1(window)
        if sum(block.size for block in matcher.get_matching_blocks()) >= need:
            return True
    return False


def _title_is_usable(title: str | None) -> bool:
    return bool(title) and len(normalise(title or "").replace(" ", "")) >= SHORT_TITLE_CHARS


def check_identity(
    text: str,
    *,
    ids: WorkIds,
    title: str | None,
    claimed_dois: list[str] | None = None,
    claimed_arxiv: list[str] | None = None,
) -> IdentityResult:
    """Decide whether `text` is the work named by `ids` / `title`.

    `claimed_dois` / `claimed_arxiv` are identifiers the document states as its *own* (DOIs
    on a PDF's first page, an XML ``article-id``, an HTML ``citation_doi``); defaults are
    taken from `text`. A claimed id that is not ours, with nothing of ours found, is a clear
    mismatch; so is plenty of text without the expected title.
    """
    doi = bare_doi(ids.doi) if ids.doi else None
    arxiv = ids.arxiv.lower() if ids.arxiv else None
    if arxiv is None and doi and (m := _ARXIV_DOI.match(doi)):
        arxiv = m.group(1)
    usable_title = _title_is_usable(title)
    if not (doi or arxiv or title):
        return IdentityResult(None)
    if doi and has_doi(text, doi):
        return IdentityResult(True, matched_by="doi")
    if arxiv and _has_arxiv(text, arxiv):
        return IdentityResult(True, matched_by="arxiv")
    text_norm = normalise(text)
    if title and title_matches(title, text_norm):
        return IdentityResult(True, matched_by="title")
    if not text_norm:
        return IdentityResult(False)
    # The document's own identifiers, when they are not ours, are the clearest evidence:
    # against our DOI / arXiv id, or against our title when we know no id of that kind.
    dois = find_dois(text) if claimed_dois is None else [bare_doi(d) for d in claimed_dois]
    others = [d for d in dois if not (doi and (d == doi or d.startswith(doi)))]
    if others and (doi or usable_title):
        expected = f"expected {doi}" if doi else "not the expected title"
        return IdentityResult(False, mismatch=f"document names DOI {others[0]}, {expected}")
    stamps = find_arxiv(text) if claimed_arxiv is None else [a.lower() for a in claimed_arxiv]
    other_arxiv = [a for a in stamps if a != arxiv]
    if other_arxiv and (arxiv or usable_title):
        expected = f"expected arXiv:{arxiv}" if arxiv else "not the expected title"
        return IdentityResult(
            False, mismatch=f"document is arXiv:{other_arxiv[0]}, {expected}"
        )
    if usable_title and len(text_norm.split()) >= PLENTY_WORDS:
        return IdentityResult(False, mismatch="expected title not found in the document")
    return IdentityResult(False)
