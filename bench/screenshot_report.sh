#!/usr/bin/env bash
# Make docs/report.png: a screenshot of the HTML run report of a real simweb run.
#
#   bench/screenshot_report.sh [WORKS] [SEED]      (defaults: 40 works, seed 3)
#
# What it does, all offline on loopback:
#   1. starts the simulated scholarly web (oafetch.simweb.SimWeb, profile "slice");
#   2. runs the real command line, `python -m oafetch fetch`, against it into a temp folder;
#   3. renders that folder's report as self-contained HTML (oafetch.telemetry.report);
#   4. screenshots the page with headless Chromium (Debian: apt-get install -y chromium).
# Needs: the project installed in the venv (PYTHON, default /work/venv/bin/python) and chromium.
set -euo pipefail

WORKS="${1:-40}"
SEED="${2:-3}"
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
ROOT="$(dirname "$HERE")"
PYTHON="${PYTHON:-/work/venv/bin/python}"
CHROMIUM="$(command -v chromium || command -v chromium-browser || true)"
if [[ -z "$CHROMIUM" ]]; then
  echo "screenshot_report.sh: chromium not found (apt-get install -y chromium)" >&2
  exit 1
fi

TMP="$(mktemp -d)"
trap 'rm -rf "$TMP"' EXIT

"$PYTHON" - "$TMP" "$WORKS" "$SEED" <<'PY'
import os, subprocess, sys
from pathlib import Path

from oafetch.config import load_config
from oafetch.simweb import SimWeb
from oafetch.telemetry.report import render_html, report_from_out

tmp, works, seed = Path(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3])
env = {k: v for k, v in os.environ.items() if not k.startswith("OAFETCH_")}
with SimWeb(tmp / "web", works=works, seed=seed, profile="slice") as web:
    inputs = tmp / "works.txt"
    inputs.write_text("".join(f"{w.input}\n" for w in web.world))
    proc = subprocess.run(
        [sys.executable, "-m", "oafetch", "fetch", "--input", str(inputs), "--out", str(tmp / "out"),
         "--config", str(web.config_path), "--mailto", "bench@example.org",
         "--allow-private-networks", "--rate", "*=500/s", "--quiet"], env=env)
    if proc.returncode not in (0, 3):
        sys.exit(f"fetch failed with exit code {proc.returncode}")
cfg = load_config(env={}, overrides={"out": tmp / "out"})
(tmp / "report.html").write_text(render_html(report_from_out(cfg)), encoding="utf-8")
PY

"$CHROMIUM" --headless --no-sandbox --disable-gpu --disable-background-networking \
  --disable-component-update --disable-sync --no-first-run --user-data-dir="$TMP/profile" \
  --screenshot="$ROOT/docs/report.png" --window-size=1200,1600 "file://$TMP/report.html" \
  2>/dev/null
echo "wrote $ROOT/docs/report.png"
