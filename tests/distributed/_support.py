"""Shared machinery for the distributed proofs: a worker supervisor and the soundness check.

The supervisor is deliberately dumb, like a process manager in production: it keeps N
`oafetch worker` processes alive, SIGKILLs one at random every few seconds and starts a
replacement, and stops replacing once workers start exiting on their own (the queue is
drained). Everything it proves, it proves from outside: the ledger rows, the files on disk,
`events.jsonl` and `oafetch verify --deep`.
"""

from __future__ import annotations

import hashlib
import json
import random
import signal
import subprocess
import time
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from integration.helpers import OAFETCH, cli_env, run_cli
from oafetch.ledger import open_ledger
from oafetch.ledger.base import Job, State

SUCCESS = (State.INDEXED, State.DEDUPED)


@dataclass
class Supervisor:
    """Keeps `n` worker processes running `args`, killing one every `kill_every` seconds."""

    args: list[str]
    n: int
    logs: Path
    env: dict[str, str]
    kill_every: float = 2.5
    max_kills: int = 8
    seed: int = 0
    kills: int = 0
    started: int = 0
    exits: list[int] = field(default_factory=list)  # codes of workers that ended by themselves
    _procs: list[subprocess.Popen[bytes]] = field(default_factory=list)

    def _spawn(self) -> None:
        self.logs.mkdir(parents=True, exist_ok=True)
        log = (self.logs / f"worker-{self.started}.log").open("wb")
        proc = subprocess.Popen(
            [*OAFETCH, *self.args], stdout=log, stderr=subprocess.STDOUT, env=self.env
        )
        log.close()
        self._procs.append(proc)
        self.started += 1

    def run(self, timeout: float) -> None:
        rng = random.Random(self.seed)
        for _ in range(self.n):
            self._spawn()
        deadline = time.monotonic() + timeout
        next_kill = time.monotonic() + self.kill_every
        draining = False
        try:
            while self._procs:
                if time.monotonic() > deadline:
                    raise AssertionError(f"workers still running after {timeout:.0f} s")
                for proc in list(self._procs):
                    code = proc.poll()
                    if code is not None:
                        self._procs.remove(proc)
                        self.exits.append(code)
                        draining = True  # a worker found nothing left to claim
                if (
                    not draining
                    and self.kills < self.max_kills
                    and self._procs
                    and time.monotonic() >= next_kill
                ):
                    victim = rng.choice(self._procs)
                    victim.send_signal(signal.SIGKILL)
                    victim.wait(timeout=10)
                    self._procs.remove(victim)
                    self.kills += 1
                    self._spawn()
                    next_kill = time.monotonic() + self.kill_every * rng.uniform(0.6, 1.4)
                time.sleep(0.05)
        finally:
            for proc in self._procs:
                proc.kill()
                proc.wait()

    def log_tail(self, chars: int = 3000) -> str:
        text = "".join(
            f"--- {p.name}\n{p.read_text('utf-8', 'replace')[-600:]}"
            for p in sorted(self.logs.glob("worker-*.log"))
        )
        return text[-chars:]


def read_events(out: Path) -> list[dict[str, Any]]:
    """Every event line of `events.jsonl` (and its rotations); torn last lines are skipped
    (a SIGKILLed writer can only lose its own last line, never corrupt another's)."""
    events: list[dict[str, Any]] = []
    for path in sorted(out.glob("events.jsonl*")):
        for line in path.read_text("utf-8").splitlines():
            if line.strip():
                try:
                    events.append(json.loads(line))
                except ValueError:
                    continue
    return events


def stream_done_per_job(events: Sequence[dict[str, Any]]) -> Counter[int]:
    """How many times each job streamed an artifact to completion.

    A completion counts when `operation_completed` (op STREAM, status done) follows an
    `operation_started` STREAM of the same run and job: a download really ran. A replayed
    STREAM (its bytes reused from an earlier attempt's `.part`) emits `idempotency_replay`
    and no start, so it is not a second download even if the op is finished again.
    """
    open_starts: Counter[tuple[str, int, str]] = Counter()
    done: Counter[int] = Counter()
    for e in events:
        f = e["fields"]
        if e["job_id"] is None or f.get("op") != "STREAM":
            continue
        key = (e["run_id"], int(e["job_id"]), str(f.get("ctx")))
        if e["type"] == "operation_started":
            open_starts[key] += 1
        elif e["type"] == "operation_completed" and open_starts[key] > 0:
            open_starts[key] -= 1
            if f.get("status") == "done":
                done[key[1]] += 1
    return done


def sha256_file(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def load_jobs(target: str | Path) -> list[Job]:
    ledger = open_ledger(target, migrate=False)
    try:
        return list(ledger.jobs())
    finally:
        ledger.close()


def assert_sound(
    target: str | Path, out: Path, *, n_jobs: int, ledger_flags: Sequence[str] = ()
) -> list[Job]:
    """The invariants every crash scenario must leave behind (see the module docstring)."""
    jobs = load_jobs(target)
    assert len(jobs) == n_jobs, f"{len(jobs)} jobs in the ledger, expected {n_jobs}"
    stuck = [(j.job_id, j.state.value, j.lease_owner) for j in jobs if not j.state.terminal]
    assert not stuck, f"jobs not terminal: {stuck[:10]}"

    blobs = {p.name.partition(".")[0]: p for p in (out / "store" / "sha256").rglob("*.*")}
    for sha, path in blobs.items():
        assert sha256_file(path) == sha, f"blob {path} holds other bytes than its name says"
    for job in jobs:
        if job.state not in SUCCESS:
            continue
        assert job.sha256 and job.format and job.path, job
        blob = out / "store" / "sha256" / job.sha256[:2] / f"{job.sha256}.{job.format}"
        assert blob.is_file(), f"job {job.job_id}: finalized artifact {blob} is missing"
        friendly = out / job.path
        assert sha256_file(friendly) == job.sha256, f"job {job.job_id}: {friendly} differs"
    wanted = {j.sha256 for j in jobs if j.state in SUCCESS}
    assert set(blobs) == wanted, f"blobs nobody owns: {sorted(set(blobs) - wanted)[:5]}"
    assert not list(out.rglob("*.part")), "a .part file survived a finished queue"

    events = read_events(out)
    twice = {job: n for job, n in stream_done_per_job(events).items() if n > 1}
    assert not twice, f"artifacts streamed to completion more than once: {twice}"
    finished = Counter(
        e["job_id"]
        for e in events
        if e["type"] == "job_finished" and e["fields"].get("status") in ("downloaded", "deduped")
    )
    assert not [j for j, n in finished.items() if n > 1], finished.most_common(3)

    verify = run_cli(["verify", "--deep", "--out", str(out), *ledger_flags], timeout=120)
    assert verify.returncode == 0, verify.stdout + verify.stderr
    return jobs


def worker_env(**extra: str) -> dict[str, str]:
    return cli_env(PYTHONUNBUFFERED="1", **extra)
