"""Identifier parsing: every common spelling, normalisation, junk rejection, slugs."""

from __future__ import annotations

import re
from urllib.parse import quote

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from oafetch.errors import InvalidIdentifier
from oafetch.ids import (
    WorkIds,
    normalize_arxiv,
    normalize_doi,
    normalize_openalex,
    normalize_pmcid,
    normalize_pmid,
    parse_identifier,
    slug,
)

PLOS = "10.1371/journal.pone.0000308"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        # DOIs
        (PLOS, WorkIds(doi=PLOS)),
        ("10.1371/JOURNAL.PONE.0000308", WorkIds(doi=PLOS)),
        (f"doi:{PLOS}", WorkIds(doi=PLOS)),
        (f"DOI: {PLOS}", WorkIds(doi=PLOS)),
        (f"https://doi.org/{PLOS}", WorkIds(doi=PLOS)),
        (f"http://dx.doi.org/{PLOS}", WorkIds(doi=PLOS)),
        (f"doi.org/{PLOS}", WorkIds(doi=PLOS)),
        ("https://doi.org/10.1371%2Fjournal.pone.0000308", WorkIds(doi=PLOS)),
        (f"  {PLOS}.  ", WorkIds(doi=PLOS)),
        (f"({PLOS}),", WorkIds(doi=PLOS)),
        (f"<https://doi.org/{PLOS}>", WorkIds(doi=PLOS)),
        ("10.1016/0002-9149(92)90218-X", WorkIds(doi="10.1016/0002-9149(92)90218-x")),
        ("https://doi.org/10.1023/A:1007154515475", WorkIds(doi="10.1023/a:1007154515475")),
        ("10.1000/a://b", WorkIds(doi="10.1000/a://b")),  # "://" inside a DOI is no URL
        # arXiv
        ("1706.03762", WorkIds(arxiv="1706.03762")),
        ("1706.03762v5", WorkIds(arxiv="1706.03762")),
        ("arXiv:1706.03762", WorkIds(arxiv="1706.03762")),
        ("arxiv: 2104.12255v1", WorkIds(arxiv="2104.12255")),
        ("hep-th/9901001", WorkIds(arxiv="hep-th/9901001")),
        ("math.GT/0309136", WorkIds(arxiv="math.GT/0309136")),
        ("math.gt/0309136v2", WorkIds(arxiv="math.GT/0309136")),
        ("https://arxiv.org/abs/1706.03762v5", WorkIds(arxiv="1706.03762")),
        ("arxiv.org/pdf/1706.03762v2.pdf", WorkIds(arxiv="1706.03762")),
        ("http://export.arxiv.org/abs/hep-th/9901001v3", WorkIds(arxiv="hep-th/9901001")),
        (
            "10.48550/arXiv.1706.03762",
            WorkIds(doi="10.48550/arxiv.1706.03762", arxiv="1706.03762"),
        ),
        (
            "https://doi.org/10.48550/ARXIV.1706.03762",
            WorkIds(doi="10.48550/arxiv.1706.03762", arxiv="1706.03762"),
        ),
        # PMID (bare digits are a PMID by design)
        ("PMID:123", WorkIds(pmid="123")),
        ("pmid 123", WorkIds(pmid="123")),
        ("PMID: 29456894", WorkIds(pmid="29456894")),
        ("29456894", WorkIds(pmid="29456894")),
        ("https://pubmed.ncbi.nlm.nih.gov/29456894/", WorkIds(pmid="29456894")),
        ("https://www.ncbi.nlm.nih.gov/pubmed/29456894", WorkIds(pmid="29456894")),
        ("https://europepmc.org/article/MED/29456894", WorkIds(pmid="29456894")),
        # PMCID
        ("PMC3531190", WorkIds(pmcid="PMC3531190")),
        ("pmc3531190", WorkIds(pmcid="PMC3531190")),
        ("pmcid:PMC3531190", WorkIds(pmcid="PMC3531190")),
        ("PMCID: PMC3531190", WorkIds(pmcid="PMC3531190")),
        ("https://www.ncbi.nlm.nih.gov/pmc/articles/PMC3531190/", WorkIds(pmcid="PMC3531190")),
        ("https://pmc.ncbi.nlm.nih.gov/articles/PMC3531190/", WorkIds(pmcid="PMC3531190")),
        ("https://europepmc.org/article/PMC/PMC3531190", WorkIds(pmcid="PMC3531190")),
        ("https://europepmc.org/articles/pmc3531190", WorkIds(pmcid="PMC3531190")),
        # the form OpenAlex uses in `ids.pmcid`
        ("https://www.ncbi.nlm.nih.gov/pmc/articles/5815332", WorkIds(pmcid="PMC5815332")),
        # OpenAlex
        ("W2741809807", WorkIds(openalex="W2741809807")),
        ("w2741809807", WorkIds(openalex="W2741809807")),
        ("https://openalex.org/W2741809807", WorkIds(openalex="W2741809807")),
        ("https://api.openalex.org/works/W2741809807", WorkIds(openalex="W2741809807")),
    ],
)
def test_every_common_spelling(text: str, expected: WorkIds) -> None:
    assert parse_identifier(text) == expected


@pytest.mark.parametrize(
    "text",
    [
        "",
        "   ",
        "hello world",
        "10.12/too-short-prefix",
        "10.1234/",
        "https://example.com/10.1234/abc",
        "https://arxiv.org/abs/not-an-id",
        "PMC",
        "W",
        "W0x1",
        "1234567890123",
        "https://pubmed.ncbi.nlm.nih.gov/abc",
        "https://openalex.org/A123456",
        "1706.037",
    ],
)
def test_junk_is_rejected_with_what_was_expected(text: str) -> None:
    with pytest.raises(InvalidIdentifier, match="DOI, arXiv id, PMID, PMCID or OpenAlex id"):
        parse_identifier(text)


def test_normalisers_accept_their_spellings_and_reject_others() -> None:
    assert normalize_doi("https://dx.doi.org/10.7717/PEERJ.4375") == "10.7717/peerj.4375"
    assert normalize_arxiv("arXiv:1706.03762v5") == "1706.03762"
    assert normalize_arxiv("10.48550/arXiv.hep-th/9901001") == "hep-th/9901001"
    assert normalize_pmid("PMID: 00123") == "123"
    assert normalize_pmcid("5815332") == "PMC5815332"
    assert normalize_openalex("https://openalex.org/w123") == "W123"
    with pytest.raises(InvalidIdentifier, match="DOI"):
        normalize_doi("1706.03762")
    with pytest.raises(InvalidIdentifier, match="arXiv"):
        normalize_arxiv("10.1371/journal.pone.0000308")
    with pytest.raises(InvalidIdentifier, match="PMCID"):
        normalize_pmcid("W123")


# --- property tests -----------------------------------------------------------------------

_SUFFIX_CHARS = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-._;/:<>"
dois = st.builds(
    lambda reg, first, rest: f"10.{reg}/{first}{rest}",
    st.integers(min_value=1000, max_value=999_999_999),
    st.sampled_from("abcxyzABCXYZ0123456789"),
    st.text(alphabet=_SUFFIX_CHARS, max_size=40).filter(
        lambda s: not s or s[-1] not in ".;:>"
    ),
)


def _spellings(doi: str) -> list[str]:
    return [
        doi,
        doi.upper(),
        f"doi:{doi}",
        f"DOI: {doi}",
        f"https://doi.org/{doi}",
        f"http://dx.doi.org/{doi}",
        f"doi.org/{doi}",
        f"https://doi.org/{quote(doi, safe='')}",
        f"  {doi}. ",
        f"({doi})",
    ]


@given(dois)
@settings(max_examples=200, deadline=None)
def test_every_spelling_of_a_doi_parses_to_the_same_work(doi: str) -> None:
    results = {parse_identifier(text) for text in _spellings(doi)}
    assert len(results) == 1
    (ids,) = results
    assert ids.doi == doi.lower()


@given(st.text(alphabet=st.characters(blacklist_categories=("Nd",)), max_size=60))
@settings(max_examples=300, deadline=None)
def test_text_without_digits_never_parses(text: str) -> None:
    with pytest.raises(InvalidIdentifier):
        parse_identifier(text)


@given(st.text(max_size=80))
@settings(max_examples=300, deadline=None)
def test_arbitrary_text_parses_or_raises_invalid_identifier_only(text: str) -> None:
    try:
        ids = parse_identifier(text)
    except InvalidIdentifier as exc:
        assert "DOI, arXiv id, PMID, PMCID or OpenAlex id" in str(exc) or "expected" in str(exc)
    else:
        assert ids  # a parsed work always carries at least one id
        ids.key()


@given(
    st.integers(min_value=7, max_value=29),
    st.integers(min_value=1, max_value=12),
    st.integers(min_value=1, max_value=99_999),
    st.integers(min_value=1, max_value=20),
)
@settings(max_examples=100, deadline=None)
def test_arxiv_new_style_spellings_agree(yy: int, mm: int, num: int, version: int) -> None:
    width = 5 if yy >= 15 else 4
    if num >= 10**width:
        num %= 10**width
    bare = f"{yy:02d}{mm:02d}.{num:0{width}d}"
    spellings = [
        bare,
        f"{bare}v{version}",
        f"arXiv:{bare}v{version}",
        f"https://arxiv.org/abs/{bare}v{version}",
        f"https://arxiv.org/pdf/{bare}v{version}.pdf",
    ]
    assert {parse_identifier(s) for s in spellings} == {WorkIds(arxiv=bare)}
    assert parse_identifier(f"10.48550/arXiv.{bare}") == WorkIds(
        doi=f"10.48550/arxiv.{bare}", arxiv=bare
    )


# --- slugs ------------------------------------------------------------------------------

_SAFE = re.compile(r"^[A-Za-z0-9._-]+$")


def test_slug_examples() -> None:
    assert slug(WorkIds(doi=PLOS)) == "10.1371_journal.pone.0000308"
    assert slug(WorkIds(arxiv="1706.03762")) == "arXiv_1706.03762"
    assert slug(WorkIds(arxiv="hep-th/9901001")) == "arXiv_hep-th_9901001"
    assert slug(WorkIds(pmcid="PMC3531190")) == "PMC3531190"
    assert slug(WorkIds(pmid="123")) == "PMID_123"
    assert slug(WorkIds(openalex="W2741809807")) == "W2741809807"
    # the DOI wins over the other ids, as in WorkIds.key()
    assert slug(WorkIds(doi=PLOS, pmid="1")) == "10.1371_journal.pone.0000308"
    with pytest.raises(InvalidIdentifier):
        slug(WorkIds())


def test_slug_keeps_apart_dois_that_collapse_to_the_same_text() -> None:
    a, b, c = (slug(WorkIds(doi=d)) for d in ("10.1000/a_b", "10.1000/a:b", "10.1000/a/b"))
    assert a == "10.1000_a_b"
    assert len({a, b, c}) == 3
    assert b.startswith("10.1000_a_b-") and c.startswith("10.1000_a_b-")


@given(dois, dois)
@settings(max_examples=200, deadline=None)
def test_slug_is_safe_bounded_and_distinct(doi_a: str, doi_b: str) -> None:
    a, b = WorkIds(doi=doi_a.lower()), WorkIds(doi=doi_b.lower())
    for s in (slug(a), slug(b)):
        assert _SAFE.match(s) and len(s) <= 170 and not s.startswith(".")
    if a != b:
        assert slug(a) != slug(b)


@pytest.mark.parametrize("text", ["10.", "10.5555", "10.5555/", "doi:10."])
def test_a_doi_cut_short_is_not_a_pmid(text: str) -> None:
    with pytest.raises(InvalidIdentifier):
        parse_identifier(text)
