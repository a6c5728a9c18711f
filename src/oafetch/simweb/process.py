"""`SimWeb`: start the simweb server as a real child process and talk to it from Python.

Why a child process: tests and benchmarks must not share an event loop or a GIL with the
server they measure, and crash tests need a server that outlives the workers they kill.
The log is made current on demand through `/_control/flush` (synchronous: when the reply
arrives, every earlier request is on disk), so `requests()` is exact even while running.
"""

from __future__ import annotations

import http.client
import json
import os
import selectors
import signal
import subprocess
import sys
import time
from pathlib import Path
from types import TracebackType
from typing import Any

from .world import SimWork

__all__ = ["SimWeb", "SimWebError"]

_FLAGS = {
    "pdf_min_bytes": "--pdf-min-bytes",
    "pdf_max_bytes": "--pdf-max-bytes",
    "throttle_bps": "--throttle-bps",
    "big_pdf_bytes": "--big-pdf-bytes",
}


class SimWebError(RuntimeError):
    """The simweb process could not be started or did not answer."""


class SimWeb:
    """Context manager around `python -m oafetch.simweb serve` (see docs/simweb.md).

    Options (`**opts`): pdf_min_bytes, pdf_max_bytes, throttle_bps, big_pdf_bytes (ints or
    floats) and robots_5xx (bool). `ready_timeout` bounds the wait for the ready line.
    """

    def __init__(
        self,
        workdir: Path,
        *,
        works: int = 40,
        seed: int = 0,
        profile: str = "demo",
        ready_timeout: float = 20.0,
        **opts: Any,
    ) -> None:
        unknown = set(opts) - set(_FLAGS) - {"robots_5xx"}
        if unknown:
            raise ValueError(f"unknown SimWeb option(s): {', '.join(sorted(unknown))}")
        self.dir = Path(workdir)
        self.args = [
            sys.executable,
            "-m",
            "oafetch.simweb",
            "serve",
            "--works",
            str(works),
            "--seed",
            str(seed),
            "--profile",
            profile,
            "--dir",
            str(self.dir),
        ]
        for key, flag in _FLAGS.items():
            if opts.get(key) is not None:
                self.args += [flag, str(opts[key])]
        if opts.get("robots_5xx"):
            self.args.append("--robots-5xx")
        self.ready_timeout = ready_timeout
        self.ports: dict[str, int] = {}
        self.config_path = self.dir / "oafetch.toml"
        self.world_path = self.dir / "world.json"
        self.log_path = self.dir / "requests.jsonl"
        self._proc: subprocess.Popen[bytes] | None = None
        self._world: list[SimWork] | None = None

    # --- lifecycle ------------------------------------------------------------------------

    def start(self) -> SimWeb:
        self.dir.mkdir(parents=True, exist_ok=True)
        stderr = (self.dir / "simweb.stderr").open("wb")
        env = dict(os.environ, PYTHONUNBUFFERED="1")
        self._proc = subprocess.Popen(
            self.args, stdout=subprocess.PIPE, stderr=stderr, stdin=subprocess.DEVNULL, env=env
        )
        stderr.close()
        line = self._read_ready_line()
        try:
            record = json.loads(line)
        except ValueError:
            self.stop()
            raise SimWebError(f"simweb printed {line!r} instead of its ready line") from None
        self.ports = {str(k): int(v) for k, v in record["ports"].items()}
        self.config_path = Path(record["config"])
        self.world_path = Path(record["world"])
        self.log_path = Path(record["log"])
        return self

    def _read_ready_line(self) -> str:
        assert self._proc is not None and self._proc.stdout is not None
        sel = selectors.DefaultSelector()
        sel.register(self._proc.stdout, selectors.EVENT_READ)
        deadline = time.monotonic() + self.ready_timeout
        buf = b""
        fd = self._proc.stdout.fileno()
        try:
            while b"\n" not in buf:
                left = deadline - time.monotonic()
                if left <= 0:
                    self.stop()
                    raise SimWebError(
                        f"simweb not ready after {self.ready_timeout:.0f} s "
                        f"(see {self.dir / 'simweb.stderr'})"
                    )
                if sel.select(left):
                    chunk = os.read(fd, 65536)
                    if not chunk:
                        code = self._proc.wait()
                        tail = (self.dir / "simweb.stderr").read_text("utf-8", "replace")[-800:]
                        raise SimWebError(
                            f"simweb exited with code {code} before ready: {tail.strip()}"
                        )
                    buf += chunk
        finally:
            sel.close()
        return buf.split(b"\n", 1)[0].decode("utf-8", "replace")

    def stop(self) -> int | None:
        """SIGTERM, wait up to 10 s (then SIGKILL); returns the exit code."""
        proc, self._proc = self._proc, None
        if proc is None:
            return None
        if proc.poll() is None:
            proc.send_signal(signal.SIGTERM)
            try:
                proc.wait(10)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
        if proc.stdout is not None:
            proc.stdout.close()
        return proc.returncode

    @property
    def running(self) -> bool:
        return self._proc is not None and self._proc.poll() is None

    @property
    def pid(self) -> int | None:
        return None if self._proc is None else self._proc.pid

    def __enter__(self) -> SimWeb:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    # --- queries --------------------------------------------------------------------------

    def url(self, host: str, path: str = "/") -> str:
        if host not in self.ports:
            raise KeyError(f"simweb has no host {host!r}; hosts: {', '.join(sorted(self.ports))}")
        return f"http://127.0.0.1:{self.ports[host]}{path if path.startswith('/') else '/' + path}"

    @property
    def world(self) -> list[SimWork]:
        if self._world is None:
            data = json.loads(self.world_path.read_text("utf-8"))
            self._world = [SimWork.from_json(item) for item in data["works"]]
        return self._world

    def world_data(self) -> dict[str, Any]:
        """world.json as written (with ports, keys, sizes, URLs)."""
        data: dict[str, Any] = json.loads(self.world_path.read_text("utf-8"))
        return data

    def _control(self, action: str) -> None:
        conn = http.client.HTTPConnection("127.0.0.1", self.ports["faults"], timeout=10)
        try:
            conn.request("GET", f"/_control/{action}")
            resp = conn.getresponse()
            resp.read()
            if resp.status != 200:
                raise SimWebError(f"simweb control {action} answered {resp.status}")
        finally:
            conn.close()

    def reset(self) -> None:
        """Clear every per-key counter (sequences, reset-after, flaky scenarios)."""
        self._control("reset")

    def requests(self) -> list[dict[str, Any]]:
        """Every logged request so far (flushes first when the server is running)."""
        if self.running:
            self._control("flush")
        if not self.log_path.exists():
            return []
        out = []
        for line in self.log_path.read_text("utf-8").splitlines():
            if line.strip():
                out.append(json.loads(line))
        return out
