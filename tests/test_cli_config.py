"""Flags become configuration: tiers, rates, sources — and bad ones are usage errors."""

from __future__ import annotations

import pytest

from oafetch.cli import build_config
from oafetch.errors import ConfigError


def test_fallback_tier_flags_set_parallelism_and_order() -> None:
    cfg = build_config(config_file=None, tier_specs=["landing_scrape:parallel=4", "direct_oa"])
    names = [t.name for t in cfg.fallback.tiers]
    assert names[:2] == ["landing_scrape", "direct_oa"]
    assert set(names) == {"direct_oa", "doi_follow", "landing_scrape", "archive"}
    assert cfg.fallback.tiers[0].parallel == 4


@pytest.mark.parametrize(
    ("kwargs", "needle"),
    [
        ({"tier_specs": ["nosuch:parallel=2"]}, "unknown tier"),
        ({"tier_specs": ["direct_oa:parallel=0"]}, "parallel=N"),
        ({"sources": "openalex,nosuch"}, "unknown source 'nosuch'"),
        ({"rates": ["api.example.org"]}, "HOST[.role]=N/s"),
        ({"rates": ["api.example.org=fast"]}, "api.example.org"),
        ({"prefer": "pdf,docx"}, "prefer"),
    ],
)
def test_bad_flags_are_config_errors(kwargs: dict[str, object], needle: str) -> None:
    with pytest.raises(ConfigError) as exc:
        build_config(config_file=None, **kwargs)  # type: ignore[arg-type]
    assert needle in str(exc.value)


def test_sources_and_prefer_flags() -> None:
    cfg = build_config(
        config_file=None, sources="openalex,arxiv", prefer="xml,pdf", disable_source=["arxiv"]
    )
    assert cfg.source_active("openalex") and not cfg.source_active("arxiv")
    assert not cfg.source_active("unpaywall")
    assert [f.value for f in cfg.prefer] == ["xml", "pdf"]
