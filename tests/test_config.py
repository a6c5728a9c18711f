"""Configuration layering: defaults < file < env < flags, and the errors users see."""

from __future__ import annotations

from pathlib import Path

import pytest

from oafetch.config import config_from_json, config_to_json, load_config
from oafetch.errors import ConfigError


def test_layers_override_in_order(tmp_path: Path) -> None:
    cfg_file = tmp_path / "c.toml"
    cfg_file.write_text(
        'workers = 3\nmailto = "file@example.org"\n[sources.openalex]\nbase_url = "http://f"\n'
    )
    env = {"OAFETCH_WORKERS": "5", "OAFETCH_SOURCE_OPENALEX_BASE_URL": "http://env"}
    cfg = load_config(cfg_file, env=env, overrides={"workers": 9})
    assert cfg.workers == 9
    assert cfg.mailto == "file@example.org"
    assert cfg.source("openalex").base_url == "http://env"
    assert cfg.source("unpaywall").base_url == "https://api.unpaywall.org"  # packaged default kept


def test_well_known_key_variables_are_secret(tmp_path: Path) -> None:
    cfg = load_config(env={"OAFETCH_OPENALEX_API_KEY": "sekrit", "OAFETCH_CORE_API_KEY": "k2"})
    key = cfg.source("openalex").api_key
    assert key is not None and key.get_secret_value() == "sekrit"
    assert "sekrit" not in repr(cfg) and "sekrit" not in str(cfg.model_dump())
    # ...but the worker hand-over keeps it.
    assert (
        config_from_json(config_to_json(cfg)).source("openalex").api_key.get_secret_value()
        == "sekrit"
    )  # type: ignore[union-attr]


def test_a_roleless_rate_lifts_the_packaged_per_role_defaults() -> None:
    default = load_config(env={})
    assert default.politeness.rates["*.artifact"] == "2/s"
    lifted = load_config(env={}, overrides={"politeness": {"rates": {"*": "1000/s"}}})
    assert "*.artifact" not in lifted.politeness.rates and lifted.politeness.rates["*"] == "1000/s"
    assert lifted.politeness.rates["arxiv.org"] == "1/3s"  # a named host keeps its etiquette


@pytest.mark.parametrize(
    ("text", "needle"),
    [
        ("workers = 'many'", "workers"),
        ("[fallback]\nmax_attempts = 0", "fallback.max_attempts"),
        ("nonsense = 1", "nonsense"),
        ("workers = ", "not valid TOML"),
    ],
)
def test_broken_config_is_one_clear_line(tmp_path: Path, text: str, needle: str) -> None:
    bad = tmp_path / "bad.toml"
    bad.write_text(text)
    with pytest.raises(ConfigError) as exc:
        load_config(bad, env={})
    assert needle in str(exc.value) and "\n" not in str(exc.value)


def test_missing_config_file(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="does not exist"):
        load_config(tmp_path / "nope.toml", env={})


def test_a_flag_rate_beats_a_config_file_per_role_rate(tmp_path: Path) -> None:
    cfg_file = tmp_path / "c.toml"
    cfg_file.write_text('[politeness.rates]\n"*.metadata" = "50/s"\n"api.x.org" = "7/s"\n')
    cfg = load_config(cfg_file, env={}, overrides={"politeness": {"rates": {"*": "5/s"}}})
    assert cfg.politeness.rates["*"] == "5/s"
    assert "*.metadata" not in cfg.politeness.rates
    assert cfg.politeness.rates["api.x.org"] == "7/s"
