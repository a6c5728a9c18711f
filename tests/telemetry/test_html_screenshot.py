"""The HTML report rendered by a real browser (headless Chromium) must show something.

Skips with a reason when Chromium is absent (Debian: `apt-get install -y chromium`).
"""

from __future__ import annotations

import shutil
import subprocess
import tempfile
from pathlib import Path

import pytest

from ._png import decode_rows, distinct_colours
from .conftest import SimRun, run_oafetch

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
pytestmark = pytest.mark.skipif(
    CHROMIUM is None, reason="chromium not installed (apt-get install -y chromium)"
)


def screenshot(page: Path, png: Path) -> bytes:
    assert CHROMIUM is not None
    with tempfile.TemporaryDirectory() as profile:
        proc = subprocess.run(
            [CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu",
             "--disable-background-networking", "--disable-component-update", "--disable-sync",
             "--no-first-run", f"--user-data-dir={profile}", f"--screenshot={png}",
             "--window-size=1200,1600", page.resolve().as_uri()],
            capture_output=True, text=True, timeout=120,
        )
    assert png.exists(), proc.stderr[-2000:]
    return png.read_bytes()


def test_html_report_renders_in_chromium(sim_run: SimRun, tmp_path: Path) -> None:
    page = tmp_path / "report.html"
    proc = run_oafetch("report", ["--out", str(sim_run.out), "--html", str(page)])
    assert proc.returncode == 0, proc.stderr
    shot = screenshot(page, tmp_path / "report.png")
    width, height, _, _ = decode_rows(shot)
    assert (width, height) == (1200, 1600)
    # Control: a blank page gives a handful of colours; charts and text give hundreds.
    blank = tmp_path / "blank.html"
    blank.write_text("<!DOCTYPE html><html><body></body></html>")
    assert distinct_colours(screenshot(blank, tmp_path / "blank.png")) < 5
    assert distinct_colours(shot) > 50
