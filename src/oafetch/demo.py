"""`oafetch demo`: the whole pipeline against the built-in simulated web, offline.

It starts `simweb` as a real process on loopback, fetches its works through the real
cascade, ledger and store, and then compares every outcome with the simulated world's
ground truth, so the demo also shows that failures are classified, not just counted.
"""

from __future__ import annotations

import json
import tempfile
from collections import Counter
from pathlib import Path

from rich.console import Console
from rich.table import Table

from .config import load_config
from .inputs import iter_inputs

__all__ = ["run_demo"]


def run_demo(*, works: int, out: Path | None, seed: int, workers: int | None, as_json: bool) -> int:
    from .cli import _run_fetch
    from .simweb import SimWeb

    console = Console()
    with tempfile.TemporaryDirectory(prefix="oafetch-demo-") as tmp:
        out_dir = out or Path(tmp) / "out"
        with SimWeb(Path(tmp) / "simweb", works=works, seed=seed, profile="demo") as web:
            cfg = load_config(
                web.config_path,
                overrides={
                    "out": out_dir,
                    "mailto": "demo@example.org",
                    "allow_private_networks": True,  # the simulated web lives on 127.0.0.1
                    "workers": workers,
                    "politeness": {"rates": {"*": "200/s"}},
                },
            )
            if not as_json:
                console.print(
                    f"[bold]oafetch demo[/]: {works} simulated works on loopback "
                    f"(simweb), output in {out_dir}"
                )
            items = iter_inputs([w.input for w in web.world], None)
            code = _run_fetch(cfg, items, as_json=as_json, quiet=as_json)
            expected = {w.input: w for w in web.world}
        results = [
            json.loads(line) for line in (out_dir / "results.jsonl").read_text().splitlines()
        ]
        matched = Counter[str]()
        mismatches = []
        for r in results:
            w = expected.get(r["input"])
            if w is None:
                continue
            got = r["class"] if r["status"] == "failed" else "ok"
            want = (w.expect_class or "failed") if w.expect_status == "failed" else "ok"
            if got == want:
                matched[want] += 1
            else:
                mismatches.append((r["input"], want, got, r.get("reason")))
        if not as_json:
            table = Table(title="outcome vs the simulated world's ground truth")
            table.add_column("expected")
            table.add_column("works", justify="right")
            for k, n in sorted(matched.items()):
                table.add_row(k, str(n))
            for inp, want, got, reason in mismatches:
                table.add_row(f"[red]{inp}: wanted {want}, got {got}[/] ({reason})", "1")
            console.print(table)
        if out is None and not as_json:
            console.print("(demo output was in a temporary folder; pass --out DIR to keep it)")
    return 0 if not mismatches and code in (0, 3) else 1
