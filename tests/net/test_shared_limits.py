"""Two real processes sharing one limiter (Redis, or an SQLite file) stay under the limit."""

from __future__ import annotations

import subprocess
import sys
import uuid
from pathlib import Path

import pytest

from .loopback import Loopback, max_in_window

WORKER = Path(__file__).with_name("rate_worker.py")
PER_PROCESS = 20  # two processes x 20 requests at a shared 10/s: at least ~3 s


def run_two(backend: str, prefix: str, web: Loopback) -> list[float]:
    procs = [
        subprocess.Popen(
            [sys.executable, str(WORKER), backend, prefix, web.url(""), str(PER_PROCESS), tag],
            stderr=subprocess.PIPE,
        )
        for tag in ("a", "b")
    ]
    for proc in procs:
        _, err = proc.communicate(timeout=120)
        assert proc.returncode == 0, err.decode()[-2000:]
    log = web.requests()
    assert {r["path"].split("/")[1] for r in log} == {"a", "b"}  # both really ran
    assert len(log) == 2 * PER_PROCESS
    return [r["ts"] for r in log]


def test_two_processes_share_a_sqlite_limiter(tmp_path: Path) -> None:
    with Loopback() as web:
        stamps = run_two(f"sqlite:///{tmp_path / 'limits.sqlite'}", "t", web)
    # Each process alone may send 10/s; sharing the file, both together stay at ~10/s.
    assert max_in_window(stamps) <= 11
    assert max(stamps) - min(stamps) >= 2.5


@pytest.mark.redis
def test_two_processes_share_a_redis_limiter() -> None:
    redis = pytest.importorskip("redis")
    conn = redis.Redis.from_url("redis://127.0.0.1:6379/0")
    try:
        conn.ping()
    except redis.exceptions.ConnectionError:
        pytest.skip("no Redis at 127.0.0.1:6379")
    prefix = f"oafetch-test-{uuid.uuid4().hex}"
    try:
        with Loopback() as web:
            stamps = run_two("redis://127.0.0.1:6379/0", prefix, web)
        assert max_in_window(stamps) <= 11
        assert max(stamps) - min(stamps) >= 2.5
        assert conn.keys(f"{prefix}:rl:*")  # the quota really lived in Redis
    finally:
        for key in conn.scan_iter(f"{prefix}:*"):
            conn.delete(key)
        conn.close()
