"""Drive the real `oafetch` command line as a subprocess, the way a user does."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections import Counter
from collections.abc import Sequence
from pathlib import Path
from typing import Any

OAFETCH = [sys.executable, "-m", "oafetch"]


def cli_env(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("OAFETCH_")}
    env.update(extra)
    return env


def run_cli(
    args: Sequence[str],
    *,
    env: dict[str, str] | None = None,
    timeout: float = 300,
    cwd: Path | None = None,
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [*OAFETCH, *args],
        capture_output=True,
        text=True,
        timeout=timeout,
        env=env or cli_env(),
        cwd=cwd,
    )


def start_cli(args: Sequence[str], *, env: dict[str, str] | None = None) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [*OAFETCH, *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env or cli_env(),
    )


def read_jsonl(path: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in path.read_text().splitlines() if line.strip()]


def sim_args(web: Any, out: Path, *extra: str) -> list[str]:
    """Flags that point oafetch at a running simweb (loopback: private networks allowed)."""
    return [
        "--out",
        str(out),
        "--config",
        str(web.config_path),
        "--mailto",
        "tester@example.org",
        "--allow-private-networks",
        "--rate",
        "*=500/s",
        *extra,
    ]


def write_inputs(path: Path, web: Any) -> Path:
    path.write_text("".join(f"{w.input}\n" for w in web.world))
    return path


def confusion(
    web: Any, results: list[dict[str, Any]]
) -> tuple[Counter[tuple[str, str]], list[str]]:
    """(expected, got) counts over the world, and the works whose outcome was wrong."""
    by_input = {r["input"]: r for r in results}
    table: Counter[tuple[str, str]] = Counter()
    wrong = []
    for w in web.world:
        r = by_input.get(w.input)
        want = "ok" if w.expect_status == "downloaded" else (w.expect_class or "failed")
        if r is None:
            got = "missing"
        elif r["status"] in ("downloaded", "deduped", "already_done"):
            got = "ok"
        else:
            got = r["class"]
        table[(want, got)] += 1
        if want != got:
            wrong.append(
                f"{w.scenario} {w.input}: expected {want}, got {got} ({r and r.get('reason')})"
            )
    return table, wrong


def print_confusion(table: Counter[tuple[str, str]]) -> None:
    print("\nexpected -> got : works")
    for (want, got), n in sorted(table.items()):
        mark = "" if want == got else "   <-- MISMATCH"
        print(f"  {want:22s} -> {got:22s}: {n}{mark}")
