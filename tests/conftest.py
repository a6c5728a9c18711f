"""Shared fixtures: where the real recorded responses live, and service availability."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
# Real recorded API responses are read in place, never copied into the project.
REALDATA = Path(os.environ.get("OAFETCH_REALDATA", REPO.parent / "shared" / "realdata"))


@pytest.fixture(scope="session")
def realdata() -> Path:
    if not REALDATA.is_dir():
        pytest.fail(f"real recorded responses not found at {REALDATA} (set OAFETCH_REALDATA)")
    return REALDATA
