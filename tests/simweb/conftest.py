"""Shared simweb processes for the simweb tests (one per profile per session: startup ~0.5 s)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from oafetch.simweb import SimWeb


@pytest.fixture(scope="session")
def slice_web(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SimWeb]:
    with SimWeb(tmp_path_factory.mktemp("slice"), works=28, seed=3, profile="slice") as web:
        yield web


@pytest.fixture(scope="session")
def cascade_web(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SimWeb]:
    with SimWeb(tmp_path_factory.mktemp("cascade"), works=82, seed=1, profile="cascade") as web:
        yield web


@pytest.fixture(scope="session")
def faults_web(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SimWeb]:
    with SimWeb(tmp_path_factory.mktemp("faults"), works=2, profile="bench") as web:
        yield web
