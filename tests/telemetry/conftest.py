"""One real run of the pipeline, shared by the telemetry tests.

`sim_run` starts the simulated web as a real process and runs the real command line
(`python -m oafetch fetch`) against it, the way a user would; the report, SLO, metrics and
inspect tests then read the output folder it left.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

HERE = Path(__file__).resolve().parent


def cli_env(**extra: str) -> dict[str, str]:
    """The environment without any OAFETCH_* a developer may have set."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("OAFETCH_")}
    env.update(extra)
    return env


def read_jsonl(path: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in path.read_text().splitlines() if line.strip()]


def _registered(name: str) -> bool:
    from oafetch.cli import app

    return any(c.name == name for c in app.registered_commands)


def oafetch_cmd(command: str) -> list[str]:
    """`python -m oafetch` once cli.py registers `command`, else the test shim."""
    if _registered(command):
        return [sys.executable, "-m", "oafetch", command]
    return [sys.executable, str(HERE / "_cli_shim.py"), command]


def run_oafetch(command: str, args: Sequence[str], *, env: dict[str, str] | None = None,
                timeout: float = 120) -> subprocess.CompletedProcess[str]:
    return subprocess.run([*oafetch_cmd(command), *args], capture_output=True, text=True,
                          timeout=timeout, env=env or cli_env())


@dataclass
class SimRun:
    out: Path
    proc: subprocess.CompletedProcess[str]
    web: Any

    @property
    def results(self) -> list[dict[str, Any]]:
        return read_jsonl(self.out / "results.jsonl")

    @property
    def events(self) -> list[dict[str, Any]]:
        return read_jsonl(self.out / "events.jsonl")


@pytest.fixture(scope="session")
def sim_run(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SimRun]:
    from oafetch.simweb import SimWeb

    base = tmp_path_factory.mktemp("telemetry-run")
    with SimWeb(base / "web", works=40, seed=3, profile="slice") as web:
        inputs = base / "works.txt"
        inputs.write_text("".join(f"{w.input}\n" for w in web.world))
        out = base / "out"
        proc = subprocess.run(
            [sys.executable, "-m", "oafetch", "fetch", "--input", str(inputs), "--out", str(out),
             "--config", str(web.config_path), "--mailto", "t@example.org",
             "--allow-private-networks", "--rate", "*=500/s", "--quiet"],
            capture_output=True, text=True, timeout=300, env=cli_env(),
        )
        assert proc.returncode in (0, 3), proc.stderr
        yield SimRun(out, proc, web)
