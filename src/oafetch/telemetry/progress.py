"""Live progress: a rich bar on a terminal, plain periodic lines otherwise (CI logs, pipes)."""

from __future__ import annotations

import sys
import time
from collections.abc import Callable
from typing import TextIO

from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    TaskID,
    TextColumn,
    TimeRemainingColumn,
)

from ..outcomes import Outcome, Status

__all__ = ["ProgressDisplay"]


class ProgressDisplay:
    """Counts outcomes as they arrive; `in_flight` is read from the runner when drawing."""

    def __init__(
        self,
        *,
        total: int | None = None,
        in_flight: Callable[[], int] = lambda: 0,
        stream: TextIO | None = None,
        interval_s: float = 5.0,
        force_plain: bool = False,
    ) -> None:
        self.stream = stream or sys.stderr
        self.total = total
        self.in_flight = in_flight
        self.done = 0
        self.failed = 0
        self.interval_s = interval_s
        self._t0 = time.monotonic()
        self._last = self._t0
        self._tty = self.stream.isatty() and not force_plain
        self._progress: Progress | None = None
        self._task: TaskID | None = None

    def __enter__(self) -> ProgressDisplay:
        if self._tty:
            self._progress = Progress(
                TextColumn("[bold]oafetch"),
                BarColumn(),
                MofNCompleteColumn(),
                TextColumn("{task.fields[detail]}"),
                TimeRemainingColumn(),
                console=Console(file=self.stream),
                transient=True,
            )
            self._progress.__enter__()
            self._task = self._progress.add_task("fetch", total=self.total, detail="")
        return self

    def __exit__(self, *exc: object) -> None:
        if self._progress is not None:
            self._progress.__exit__(None, None, None)
        elif self.done + self.failed:
            self._line()

    def set_total(self, total: int) -> None:
        self.total = total
        if self._progress is not None and self._task is not None:
            self._progress.update(self._task, total=total)

    def _detail(self) -> str:
        elapsed = max(time.monotonic() - self._t0, 1e-6)
        rate = (self.done + self.failed) / elapsed
        return (
            f"ok {self.done} · failed {self.failed} · in flight {self.in_flight()} · {rate:.1f}/s"
        )

    def _line(self) -> None:
        n = self.done + self.failed
        total = f"/{self.total}" if self.total else ""
        elapsed = time.monotonic() - self._t0
        rate = n / elapsed if elapsed > 0 else 0.0
        eta = ""
        if self.total and rate > 0:
            eta = f" · eta {max(0.0, (self.total - n) / rate):.0f}s"
        print(f"oafetch: {n}{total} works · {self._detail()}{eta}", file=self.stream, flush=True)

    def __call__(self, outcome: Outcome) -> None:
        if outcome.status is Status.FAILED:
            self.failed += 1
        else:
            self.done += 1
        if self._progress is not None and self._task is not None:
            self._progress.update(self._task, advance=1, detail=self._detail())
        elif time.monotonic() - self._last >= self.interval_s:
            self._last = time.monotonic()
            self._line()
