"""The first vertical slice, end to end through the real command line against simweb.

Each test drives `python -m oafetch` as a subprocess against a real loopback server process
and checks what a user would: results.jsonl, the store on disk, the ledger and the exit code.
"""

from __future__ import annotations

import hashlib
import json
import sqlite3
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from oafetch.simweb import SimWeb

from .helpers import confusion, print_confusion, read_jsonl, run_cli, sim_args, write_inputs


@pytest.fixture(scope="module")
def web(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    with SimWeb(tmp_path_factory.mktemp("simweb"), works=40, seed=11, profile="slice") as w:
        yield w


@pytest.fixture(scope="module")
def first_run(web: Any, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """One full fetch of the slice world; later tests inspect and re-run it."""
    base = tmp_path_factory.mktemp("run")
    out = base / "out"
    inputs = write_inputs(base / "works.txt", web)
    before = len(web.requests())
    proc = run_cli(["fetch", "--input", str(inputs), *sim_args(web, out), "--quiet"])
    return {
        "out": out,
        "inputs": inputs,
        "proc": proc,
        "requests_before": before,
        "requests_after": len(web.requests()),
    }


def test_every_work_gets_its_expected_outcome(web: Any, first_run: dict[str, Any]) -> None:
    proc = first_run["proc"]
    results = read_jsonl(first_run["out"] / "results.jsonl")
    table, wrong = confusion(web, results)
    print_confusion(table)
    assert not wrong, "\n".join(wrong)
    assert len(results) == len(web.world), "one results line per input work"
    expect_failures = any(w.expect_status == "failed" for w in web.world)
    assert proc.returncode == (3 if expect_failures else 0), proc.stderr


def test_successes_are_stored_by_hash_with_sidecar(first_run: dict[str, Any]) -> None:
    out: Path = first_run["out"]
    results = read_jsonl(out / "results.jsonl")
    ok = [r for r in results if r["status"] in ("downloaded", "deduped")]
    assert ok
    for r in ok:
        friendly = out / r["path"]
        data = friendly.read_bytes()
        assert hashlib.sha256(data).hexdigest() == r["sha256"]
        blob = out / "store" / "sha256" / r["sha256"][:2] / f"{r['sha256']}.{r['format']}"
        assert (
            blob.exists() and blob.stat().st_ino == friendly.stat().st_ino
        ) or blob.read_bytes() == data
        sidecar = json.loads(friendly.with_suffix(".json").read_text())
        assert sidecar["sha256"] == r["sha256"] and sidecar["url"] == r["url"]
        assert sidecar["source"] == r["source"] and sidecar["size"] == len(data)
    # Every blob's name is its hash; nothing half-written remains.
    for blob in (out / "store" / "sha256").rglob("*.*"):
        assert hashlib.sha256(blob.read_bytes()).hexdigest() == blob.stem
    assert not list(out.rglob("*.part"))


def test_no_wall_or_fake_pdf_is_ever_stored(web: Any, first_run: dict[str, Any]) -> None:
    out: Path = first_run["out"]
    for blob in (out / "store" / "sha256").rglob("*.pdf"):
        head = blob.read_bytes()[:1024]
        assert head.startswith(b"%PDF-"), f"{blob} is not a PDF"
        assert b"Just a moment" not in blob.read_bytes()
    results = {r["input"]: r for r in read_jsonl(out / "results.jsonl")}
    for w in web.world:
        if w.expect_class in ("bot_wall", "wrong_type", "corrupt_or_partial", "wrong_work"):
            assert results[w.input]["status"] == "failed"
            assert results[w.input]["sha256"] is None


def test_second_run_is_free(web: Any, first_run: dict[str, Any]) -> None:
    """Re-running the same fetch downloads nothing and asks no API the ledger answered."""
    out: Path = first_run["out"]
    before = len(web.requests())
    proc = run_cli(["fetch", "--input", str(first_run["inputs"]), *sim_args(web, out), "--json"])
    after = web.requests()[before:]
    assert after == [], f"second run made requests: {after[:5]}"
    results = read_jsonl(out / "results.jsonl")
    assert len(results) == len(web.world)
    for r in results:
        assert r["status"] in ("already_done", "failed"), r
    done = sum(r["status"] == "already_done" for r in results)
    assert done == sum(w.expect_status == "downloaded" for w in web.world)
    summary = json.loads(proc.stdout)
    assert summary["bytes"] == 0


def test_status_reports_the_ledger(web: Any, first_run: dict[str, Any]) -> None:
    proc = run_cli(["status", "--out", str(first_run["out"]), "--json"])
    assert proc.returncode == 0, proc.stderr
    data = json.loads(proc.stdout)
    expected_ok = sum(w.expect_status == "downloaded" for w in web.world)
    assert data["succeeded"] == expected_ok
    assert data["pending"] == 0
    db = sqlite3.connect(first_run["out"] / "ledger.sqlite3")
    (n,) = db.execute("SELECT count(*) FROM artifact_jobs").fetchone()
    assert data["total"] == n == len({w.input for w in web.world})


def test_events_cover_the_ledger_story(first_run: dict[str, Any]) -> None:
    events = read_jsonl(first_run["out"] / "events.jsonl")
    types = {e["type"] for e in events}
    for needed in (
        "job_planned",
        "job_leased",
        "job_state_changed",
        "operation_started",
        "operation_completed",
        "source_queried",
        "candidate_found",
        "http_request",
        "attempt_finished",
        "artifact_stored",
        "job_finished",
    ):
        assert needed in types, needed
    blob = json.dumps(events)
    assert "tester@example.org" not in blob, "the contact email leaked into events"


def test_contact_email_appears_nowhere_but_the_user_agent(first_run: dict[str, Any]) -> None:
    out: Path = first_run["out"]
    proc = first_run["proc"]
    for text in (proc.stdout, proc.stderr, (out / "results.jsonl").read_text()):
        assert "tester@example.org" not in text
    for sidecar in (out / "by-id").glob("*.json"):
        assert "tester@example.org" not in sidecar.read_text()


def test_invalid_lines_are_reported_and_the_rest_goes_on(web: Any, tmp_path: Path) -> None:
    good = next(w for w in web.world if w.expect_status == "downloaded")
    inputs = tmp_path / "mixed.txt"
    inputs.write_text(f"not-an-id\n{good.input}\n10.\n")
    out = tmp_path / "out"
    proc = run_cli(["fetch", "--input", str(inputs), *sim_args(web, out), "--quiet"])
    assert proc.returncode == 3
    results = read_jsonl(out / "results.jsonl")
    invalid = [r for r in results if r["class"] == "invalid_input"]
    assert len(invalid) == 2
    assert any("line 1" in r["reason"] for r in invalid) and any(
        "line 3" in r["reason"] for r in invalid
    )
    assert [r["status"] for r in results if r["input"] == good.input] == ["downloaded"]


def test_disable_idempotency_writes_no_database(web: Any, tmp_path: Path) -> None:
    good = [w for w in web.world if w.expect_status == "downloaded"][:3]
    out = tmp_path / "out"
    proc = run_cli(
        ["fetch", *[w.input for w in good], *sim_args(web, out), "--disable-idempotency"]
    )
    assert proc.returncode == 0, proc.stderr
    assert not list(out.glob("ledger*")), "no database may be written"
    results = read_jsonl(out / "results.jsonl")
    assert [r["status"] for r in results].count("downloaded") + [
        r["status"] for r in results
    ].count("deduped") == 3


def test_bad_config_is_a_one_line_usage_error(tmp_path: Path) -> None:
    bad = tmp_path / "bad.toml"
    bad.write_text("workers = 'many'\n")
    proc = run_cli(["fetch", "10.1/x", "--config", str(bad), "--out", str(tmp_path / "o")])
    assert proc.returncode == 2
    assert proc.stderr.strip().count("\n") == 0 and "workers" in proc.stderr


def test_resolve_ranks_candidates_without_downloading(web: Any, tmp_path: Path) -> None:
    works = [w for w in web.world if w.scenario in ("oa_pdf", "unpaywall_pdf", "arxiv_pdf")][:3]
    assert works
    before = len(web.requests())
    proc = run_cli(
        [
            "resolve",
            *[w.input for w in works],
            "--config",
            str(web.config_path),
            "--mailto",
            "tester@example.org",
            "--allow-private-networks",
            "--json",
            "--rate",
            "*=500/s",
        ]
    )
    assert proc.returncode == 0, proc.stderr
    decoder = json.JSONDecoder()
    rows, text = [], proc.stdout.strip()
    while text:
        row, end = decoder.raw_decode(text)
        rows.append(row)
        text = text[end:].strip()
    assert [r["input"] for r in rows] == [w.input for w in works]
    for row in rows:
        assert row["candidates"], row
        first = row["candidates"][0]
        assert first["kind"] == "pdf" and first["url"].startswith("http://127.0.0.1:")
    made = web.requests()[before:]
    assert made, "resolve must ask the sources"
    from urllib.parse import urlsplit

    proposed = {
        urlsplit(c["url"]).path for row in rows for c in row["candidates"] if c["kind"] == "pdf"
    }
    fetched = [r for r in made if r["path"] in proposed]
    assert not fetched, f"resolve downloaded a candidate: {fetched}"


def test_discovered_private_addresses_are_refused_by_default(web: Any, tmp_path: Path) -> None:
    """The configured API (loopback here) may be asked; URLs it names on 127.0.0.1 may not."""
    good = next(w for w in web.world if w.scenario == "oa_pdf")
    out = tmp_path / "out"
    strict = tmp_path / "strict.toml"  # simweb's own config allows private networks
    strict.write_text(web.config_path.read_text().replace("allow_private_networks = true", ""))
    args = [a for a in sim_args(web, out) if a != "--allow-private-networks"]
    args[args.index(str(web.config_path))] = str(strict)
    before = len(web.requests())
    proc = run_cli(["fetch", good.input, *args, "--disable-source", "arxiv"])
    assert proc.returncode == 3, proc.stderr
    (result,) = read_jsonl(out / "results.jsonl")
    assert result["status"] == "failed" and result["class"] == "policy_skip", result
    assert "--allow-private-networks" in result["reason"]
    made = web.requests()[before:]
    assert made and all(r["host"] not in ("publisher1", "publisher2", "repository") for r in made)


def test_a_source_missing_its_credential_is_skipped_with_one_notice(
    web: Any, tmp_path: Path
) -> None:
    works = [w for w in web.world if w.expect_status == "downloaded"][:4]
    no_mail = tmp_path / "nomail.toml"  # simweb's config carries a contact email: drop it
    no_mail.write_text(
        "\n".join(
            line
            for line in web.config_path.read_text().splitlines()
            if not line.startswith("mailto")
        )
    )
    args = sim_args(web, tmp_path / "out")
    i = args.index("--mailto")
    del args[i : i + 2]
    args[args.index(str(web.config_path))] = str(no_mail)
    before = len(web.requests())
    proc = run_cli(["fetch", *[w.input for w in works], *args, "--quiet"])
    assert proc.returncode in (0, 3), proc.stderr
    assert proc.stderr.count("source 'unpaywall' skipped: it needs a contact email") == 1
    assert not [r for r in web.requests()[before:] if r["host"] == "unpaywall"]


def test_revalidate_uses_conditional_requests(web: Any, first_run: dict[str, Any]) -> None:
    out: Path = first_run["out"]
    before = len(web.requests())
    proc = run_cli(
        [
            "revalidate",
            "--out",
            str(out),
            "--config",
            str(web.config_path),
            "--allow-private-networks",
            "--rate",
            "*=500/s",
            "--json",
        ]
    )
    assert proc.returncode == 0, proc.stderr
    data = json.loads(proc.stdout)
    ok = sum(
        r["status"] in ("downloaded", "deduped", "already_done")
        for r in read_jsonl(out / "results.jsonl")
    )
    assert data["counts"] == {"unchanged": ok}
    made = [r for r in web.requests()[before:] if r["path"] != "/robots.txt"]
    conditional = [r for r in made if r["if_none_match"]]
    # Works whose server sent an ETag are revalidated by a bodiless 304; the few served
    # without validators (the flaky-server scenarios) are compared by hash instead.
    assert len(conditional) > len(made) / 2
    assert all(r["status"] == 304 and r["bytes"] == 0 for r in conditional), conditional


def test_a_tier_stops_asking_once_an_unbeatable_candidate_is_in_hand(
    web: Any, tmp_path: Path
) -> None:
    """OpenAlex names the publisher's published PDF: no other API of the tier is asked."""
    work = next(w for w in web.world if w.scenario == "oa_pdf")
    before = len(web.requests())
    proc = run_cli(
        [
            "fetch",
            work.input,
            *sim_args(web, tmp_path / "out"),
            "--fallback-tier",
            "direct_oa:parallel=1",
        ]
    )
    assert proc.returncode == 0, proc.stderr
    hosts = {r["host"] for r in web.requests()[before:]}
    assert "openalex" in hosts
    assert not hosts & {"unpaywall", "pmc", "europepmc", "semantic_scholar"}, hosts


def test_every_request_event_of_a_job_names_the_job(first_run: dict[str, Any]) -> None:
    events = read_jsonl(first_run["out"] / "events.jsonl")
    first = events[0]["run_id"]  # later tests append their own runs to the same file
    requests = [e for e in events if e["type"] == "http_request" and e["run_id"] == first]
    tagged = [e for e in requests if e["job_id"] is not None]
    # Source calls and downloads happen inside jobs; only robots.txt fetches are job-less.
    untagged = {e["fields"]["url"].rsplit("/", 1)[-1] for e in requests if e["job_id"] is None}
    assert tagged and untagged <= {"robots.txt"}, untagged
