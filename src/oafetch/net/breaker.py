"""A per-host circuit breaker as a pure state machine with an injected clock.

Why: a host that is down (connection refused, timeouts, 5xx) should cost us one probe per
cool-down, not a full retry ladder for every job that happens to point at it. The machine
is deliberately free of I/O so every transition can be tested with a fake clock.

    CLOSED --(threshold consecutive failures)--> OPEN
    OPEN   --(cool-down elapsed, next allow())--> HALF_OPEN (exactly one probe admitted)
    HALF_OPEN --(probe succeeds)--> CLOSED
    HALF_OPEN --(probe fails)-----> OPEN (a fresh cool-down)

A success in CLOSED resets the failure count. While the probe is in flight every other
caller is refused. A probe whose outcome never arrives (the task was cancelled) is handed
back with `abandon()` so the next caller can probe instead.
"""

from __future__ import annotations

from collections.abc import Callable
from enum import StrEnum

__all__ = ["Breaker", "BreakerState"]


class BreakerState(StrEnum):
    CLOSED = "closed"
    OPEN = "open"
    HALF_OPEN = "half_open"


Transition = Callable[[BreakerState, BreakerState, int], None]


def _ignore(old: BreakerState, new: BreakerState, failures: int) -> None:
    return None


class Breaker:
    """One host's breaker. `allow()` before a request; `success()`/`failure()` after it."""

    __slots__ = (
        "_clock",
        "_on_transition",
        "cooldown_s",
        "failures",
        "opened_at",
        "probing",
        "state",
        "threshold",
    )

    def __init__(
        self,
        threshold: int,
        cooldown_s: float,
        *,
        clock: Callable[[], float],
        on_transition: Transition | None = None,
    ) -> None:
        if threshold < 1:
            raise ValueError("breaker threshold must be at least 1")
        self.threshold = threshold
        self.cooldown_s = cooldown_s
        self._clock = clock
        self._on_transition = on_transition or _ignore
        self.state = BreakerState.CLOSED
        self.failures = 0
        self.opened_at = 0.0
        self.probing = False

    @property
    def until(self) -> float:
        """When (on the injected clock) an OPEN breaker admits its probe."""
        return self.opened_at + self.cooldown_s

    def _move(self, new: BreakerState) -> None:
        old = self.state
        self.state = new
        if old is not new:
            self._on_transition(old, new, self.failures)

    def allow(self) -> bool:
        """May a request go out now? In HALF_OPEN only the single probe may."""
        if self.state is BreakerState.CLOSED:
            return True
        if self.state is BreakerState.OPEN:
            if self._clock() < self.until:
                return False
            self.probing = True
            self._move(BreakerState.HALF_OPEN)
            return True
        if self.probing:
            return False
        self.probing = True
        return True

    def success(self) -> None:
        self.failures = 0
        self.probing = False
        if self.state is not BreakerState.CLOSED:
            self._move(BreakerState.CLOSED)

    def failure(self) -> None:
        self.failures += 1
        if self.state is BreakerState.HALF_OPEN:
            self.probing = False
            self.opened_at = self._clock()
            self._move(BreakerState.OPEN)
        elif self.state is BreakerState.CLOSED and self.failures >= self.threshold:
            self.opened_at = self._clock()
            self._move(BreakerState.OPEN)
        # A late failure report while OPEN (a request admitted before the trip) changes
        # nothing: the cool-down already runs.

    def abandon(self) -> None:
        """The admitted request ended without a verdict (cancelled): free the probe slot."""
        self.probing = False
