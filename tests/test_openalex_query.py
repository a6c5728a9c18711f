"""`--openalex FILTER` pages the real OpenAlex list shape by cursor and plans each work."""

from __future__ import annotations

import json
import subprocess
import sys
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest


@pytest.fixture
def openalex_list(realdata: Path) -> Iterator[tuple[str, list[dict[str, list[str]]], str]]:
    """Serves the two recorded cursor pages: `cursor=*` → page 1, its next_cursor → page 2."""
    page1 = (realdata / "openalex/oapro_keypaper_works_list_cursor_page1.json").read_bytes()
    page2 = (realdata / "openalex/oapro_keypaper_works_list_cursor_page2_empty.json").read_bytes()
    nxt = json.loads(page1)["meta"]["next_cursor"]
    seen: list[dict[str, list[str]]] = []

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            parts = urlsplit(self.path)
            query = parse_qs(parts.query)
            body, status = b"{}", 404
            if parts.path == "/works" and "filter" in query:
                seen.append(query)
                body, status = {"*": (page1, 200), nxt: (page2, 200)}.get(
                    query["cursor"][0], (b"{}", 400)
                )
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_address[1]}", seen, nxt
    server.shutdown()


def test_openalex_query_plans_every_work_of_every_page(
    openalex_list: tuple[str, list[dict[str, list[str]]], str], tmp_path: Path
) -> None:
    base, seen, next_cursor = openalex_list
    out = tmp_path / "out"
    env = {"OAFETCH_SOURCE_OPENALEX_BASE_URL": base, "PATH": "/usr/bin:/bin"}
    # Only arXiv may fetch, so the run exercises the query and the planning, not downloads.
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "oafetch",
            "fetch",
            "--openalex",
            "openalex:W2755950973|W2741809807",
            "--out",
            str(out),
            "--sources",
            "arxiv",
            "--json",
            "--mailto",
            "q@example.org",
        ],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
    )
    assert proc.returncode in (0, 3), proc.stderr
    assert [q["cursor"][0] for q in seen] == ["*", next_cursor]
    assert seen[0]["filter"] == ["openalex:W2755950973|W2741809807"]
    results = [json.loads(line) for line in (out / "results.jsonl").read_text().splitlines()]
    assert sorted(r["ids"].get("openalex") for r in results) == ["W2741809807", "W2755950973"]
    assert {r["ids"].get("doi") for r in results} >= {"10.7717/peerj.4375"}


def test_search_without_openalex_is_a_usage_error(tmp_path: Path) -> None:
    proc = subprocess.run(
        [sys.executable, "-m", "oafetch", "fetch", "--search", "x", "--out", str(tmp_path)],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert proc.returncode == 2 and "--openalex" in proc.stderr
