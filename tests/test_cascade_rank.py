"""Candidate merging and ranking (DESIGN §3): pure functions, tested directly."""

from __future__ import annotations

from oafetch.cascade import classify_exception, merge_candidates, rank_candidates
from oafetch.errors import NetError, PolicySkip, RateLimited, RedirectPathology, TransientNetError
from oafetch.outcomes import FailureClass, Format
from oafetch.sources.base import Candidate, HostType, Kind, Version


def c(url: str, kind: Kind = Kind.PDF, source: str = "s", **kw: object) -> Candidate:
    return Candidate(url, kind, source, "t", **kw)  # type: ignore[arg-type]


def test_one_candidate_per_canonical_url_with_every_proposer() -> None:
    merged = merge_candidates(
        [c("https://X.org/a.pdf", source="openalex")],
        [
            c("https://x.org/a.pdf#page=2", source="unpaywall", license="cc-by"),
            c("https://x.org/a.pdf", source="openalex"),
            c("https://x.org/b.pdf", source="crossref"),
        ],
    )
    assert [m.url for m in merged] == ["https://X.org/a.pdf", "https://x.org/b.pdf"]
    assert merged[0].also_from == ("unpaywall",) and merged[0].license == "cc-by"


def test_rank_by_kind_then_version_then_host_then_yield_then_order() -> None:
    cands = [
        c("1", Kind.HTML),
        c("2", Kind.PDF, version=Version.SUBMITTED),
        c("3", Kind.XML),
        c("4", Kind.PDF, version=Version.PUBLISHED, host_type=HostType.REPOSITORY),
        c("5", Kind.PDF, version=Version.PUBLISHED, host_type=HostType.PUBLISHER, source="low"),
        c("6", Kind.PDF, version=Version.PUBLISHED, host_type=HostType.PUBLISHER, source="high"),
    ]
    ranked = rank_candidates(
        cands,
        [Format.PDF, Format.XML, Format.HTML],
        lambda s: {"high": 0.9, "low": 0.1}.get(s, 0.0),
    )
    assert [r.url for r in ranked] == ["6", "5", "4", "2", "3", "1"]
    xml_first = rank_candidates(cands, [Format.XML, Format.PDF, Format.HTML])
    assert xml_first[0].url == "3"


def test_each_network_error_maps_to_one_class() -> None:
    assert classify_exception(PolicySkip("robots")) is FailureClass.POLICY_SKIP
    assert classify_exception(RateLimited("429")) is FailureClass.RATE_LIMITED
    assert classify_exception(RedirectPathology("loop")) is FailureClass.REDIRECT_PATHOLOGY
    assert classify_exception(TransientNetError("reset")) is FailureClass.TRANSIENT
    assert classify_exception(NetError("gone", status=404)) is FailureClass.LINK_DEAD
    assert classify_exception(NetError("no", status=403)) is FailureClass.LOGIN_OR_PAYWALL
    wall = NetError("no", status=403)
    wall.head = (
        b"<html><head><title>Just a moment...</title></head><body>"
        b"<script>window._cf_chl_opt={};</script></body></html>"
    )
    assert classify_exception(wall) is FailureClass.BOT_WALL
