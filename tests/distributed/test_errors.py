"""Issue 5, proof 5: clear errors — one line on stderr, exit code 1, nothing corrupt written.

Unreachable database, a role or database that does not exist (the local server trusts
127.0.0.1, so a wrong *password* still logs in; see `test_wrong_password_is_not_checked_…`),
a ledger schema newer than this program, and a disk that fills up mid-download (simulated
with RLIMIT_FSIZE, which makes the `.part` write fail with EFBIG).
"""

from __future__ import annotations

import hashlib
import resource
import signal
import sqlite3
import subprocess
from pathlib import Path

import pytest

from integration.helpers import OAFETCH, cli_env, run_cli, sim_args, write_inputs
from oafetch.simweb import SimWeb

from .conftest import PG_ADMIN


def _error_lines(stderr: str) -> list[str]:
    return [line for line in stderr.splitlines() if line.startswith("oafetch: error:")]


def _assert_one_line_error(proc: subprocess.CompletedProcess[str], *needles: str) -> str:
    assert proc.returncode == 1, (proc.returncode, proc.stdout, proc.stderr)
    lines = _error_lines(proc.stderr)
    assert len(lines) == 1, proc.stderr
    assert "Traceback" not in proc.stderr, proc.stderr
    for needle in needles:
        assert needle in lines[0], lines[0]
    return lines[0]


def _nothing_written(out: Path) -> None:
    """No ledger, no results, no store; at most an empty events.jsonl (see the report)."""
    if not out.exists():
        return
    leftovers = {p.name: p.stat().st_size for p in out.rglob("*") if p.is_file()}
    assert set(leftovers) <= {"events.jsonl"} and not any(leftovers.values()), leftovers


@pytest.mark.parametrize(
    ("url", "needles"),
    [
        ("postgresql://postgres@127.0.0.1:1/test", ("127.0.0.1:1", "refused")),
        ("postgresql://oafetch_no_such_role@127.0.0.1:5432/test", ("oafetch_no_such_role",)),
        ("postgresql://postgres@127.0.0.1:5432/oafetch_no_such_db", ("oafetch_no_such_db",)),
    ],
    ids=["unreachable", "unknown-role", "unknown-database"],
)
@pytest.mark.parametrize("command", ["fetch", "worker"])
def test_unusable_database_is_one_clear_line(
    tmp_path: Path, url: str, needles: tuple[str, ...], command: str
) -> None:
    out = tmp_path / "out"
    args = [command, "--ledger", url, "--out", str(out)]
    if command in ("fetch", "plan"):
        args.insert(1, "10.5555/sim.1.1")
    proc = run_cli(args, timeout=60)
    line = _assert_one_line_error(proc, "cannot connect to the PostgreSQL ledger", *needles)
    assert "--ledger" in line, "the message says what to fix"
    _nothing_written(out)


def test_password_is_never_echoed(tmp_path: Path) -> None:
    """A password in the URL never reaches the terminal, even when the connection fails."""
    proc = run_cli(
        ["status", "--ledger", "postgresql://postgres:s3cr3t-pw@127.0.0.1:1/test"], timeout=60
    )
    _assert_one_line_error(proc, "cannot connect")
    assert "s3cr3t-pw" not in proc.stderr + proc.stdout


def test_wrong_password_is_not_checked_by_the_local_server(tmp_path: Path) -> None:
    """Documents the environment: 127.0.0.1 uses trust auth, so a wrong password logs in.

    That is why the credential errors above use a role and a database that do not exist.
    If this ever fails, the server checks passwords and a wrong one must fail like them.
    """
    psycopg = pytest.importorskip("psycopg")
    with psycopg.connect(PG_ADMIN, autocommit=True) as conn:
        conn.execute("DROP ROLE IF EXISTS oafetch_pw")
        conn.execute("CREATE ROLE oafetch_pw LOGIN PASSWORD 'x'")
    try:
        wrong = "postgresql://oafetch_pw:wrong@127.0.0.1:5432/test"
        try:
            with psycopg.connect(wrong, connect_timeout=5):
                trusted = True
        except psycopg.OperationalError:
            trusted = False
        proc = run_cli(["status", "--ledger", wrong, "--out", str(tmp_path / "o")], timeout=60)
        if trusted:
            pytest.skip("the local server trusts 127.0.0.1: a wrong password is not rejected")
        _assert_one_line_error(proc, "cannot connect", "oafetch_pw")
    finally:
        with psycopg.connect(PG_ADMIN, autocommit=True) as conn:
            conn.execute("DROP ROLE IF EXISTS oafetch_pw")


def _bump_schema_sqlite(db: Path) -> None:
    con = sqlite3.connect(db)
    con.execute("INSERT INTO schema_version (version, name, applied_at) VALUES (99, 'future', 0)")
    con.commit()
    con.close()


def test_sqlite_schema_newer_than_program(tmp_path: Path) -> None:
    out = tmp_path / "out"
    made = run_cli(["ledger", "migrate", "--out", str(out)])
    assert made.returncode == 0, made.stderr
    db = out / "ledger.sqlite3"
    _bump_schema_sqlite(db)
    before = db.read_bytes()
    for args in (["plan", "10.5555/sim.1.1"], ["status"], ["worker"], ["verify"]):
        proc = run_cli([*args, "--out", str(out)], timeout=60)
        _assert_one_line_error(proc, "schema is version 99", "upgrade oafetch")
    con = sqlite3.connect(db)
    assert con.execute("SELECT count(*) FROM artifact_jobs").fetchone() == (0,)
    con.close()
    assert db.read_bytes() == before or db.stat().st_size == len(before)


def test_postgres_schema_newer_than_program(tmp_path: Path, pg_url: str) -> None:
    psycopg = pytest.importorskip("psycopg")
    made = run_cli(["ledger", "migrate", "--ledger", pg_url, "--out", str(tmp_path / "o")])
    assert made.returncode == 0, made.stderr
    with psycopg.connect(pg_url, autocommit=True) as conn:
        conn.execute("INSERT INTO schema_version VALUES (42, 'future', 0)")
    proc = run_cli(["plan", "10.5555/sim.1.1", "--ledger", pg_url, "--out", str(tmp_path / "o")])
    _assert_one_line_error(proc, "schema is version 42", "upgrade oafetch")
    with psycopg.connect(pg_url) as conn:
        assert conn.execute("SELECT count(*) FROM artifact_jobs").fetchone() == (0,)


def test_disk_fills_up_mid_download(tmp_path: Path) -> None:
    """RLIMIT_FSIZE makes the big `.part` write fail (EFBIG): mapped like ENOSPC."""
    limit = 1_500_000

    def small_disk() -> None:
        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)  # EFBIG instead of a fatal signal
        resource.setrlimit(resource.RLIMIT_FSIZE, (limit, limit))

    with SimWeb(tmp_path / "web", works=4, seed=2, profile="crash", big_pdf_bytes=4_000_000) as web:
        out = tmp_path / "out"
        inputs = write_inputs(tmp_path / "works.txt", web)
        proc = subprocess.run(
            [*OAFETCH, "fetch", "--input", str(inputs), *sim_args(web, out), "--quiet"],
            capture_output=True,
            text=True,
            timeout=180,
            env=cli_env(),
            preexec_fn=small_disk,
        )
    _assert_one_line_error(proc, "disk full", "free space and rerun")
    con = sqlite3.connect(out / "ledger.sqlite3")
    states = [s for (s,) in con.execute("SELECT state FROM artifact_jobs")]
    con.close()
    assert "RETRY_WAIT" in states, states  # parked for later, not failed and not lost
    assert "FAILED" not in states, states
    for blob in (out / "store" / "sha256").rglob("*.*"):
        assert hashlib.sha256(blob.read_bytes()).hexdigest() == blob.name.partition(".")[0]
        assert blob.stat().st_size < limit
