"""The public surface is small, sorted and exactly what `__init__` exports (httpx-style)."""

from __future__ import annotations

import oafetch
from oafetch.config import load_config
from oafetch.sources.registry import SOURCE_MODULES, all_sources


def test_all_is_sorted_and_complete() -> None:
    assert oafetch.__all__ == sorted(oafetch.__all__)
    for name in oafetch.__all__:
        assert getattr(oafetch, name) is not None, name
    public = {name for name in vars(oafetch) if not name.startswith("_")}
    modules = {name for name, v in vars(oafetch).items() if type(v).__name__ == "module"}
    assert public - modules - {"annotations"} == set(oafetch.__all__) - {"__version__"}


def test_fetch_is_the_function_even_after_the_fetch_subpackage_loads() -> None:
    import importlib

    importlib.import_module("oafetch.fetch.validate")
    importlib.import_module("oafetch.fetch.classify")
    from oafetch import api

    assert oafetch.fetch is api.fetch and callable(oafetch.fetch)


def test_every_exception_is_an_oafetch_error() -> None:
    for name in oafetch.__all__:
        obj = getattr(oafetch, name)
        if isinstance(obj, type) and issubclass(obj, Exception):
            assert issubclass(obj, oafetch.OafetchError), name


def test_every_source_is_registered_and_configured() -> None:
    sources = all_sources()
    assert sorted(sources) == sorted(SOURCE_MODULES)
    cfg = load_config(env={})
    for name in sources:
        assert name in cfg.sources, f"defaults.toml lacks [sources.{name}]"
        if name != "landing":
            assert cfg.source(name).base_url.startswith("https://"), name
