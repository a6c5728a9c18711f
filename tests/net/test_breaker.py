"""The circuit breaker state machine, exhaustively, on an injected clock."""

from __future__ import annotations

import itertools

import pytest

from oafetch.net.breaker import Breaker, BreakerState

CLOSED, OPEN, HALF = BreakerState.CLOSED, BreakerState.OPEN, BreakerState.HALF_OPEN


class Clock:
    def __init__(self) -> None:
        self.t = 1000.0

    def __call__(self) -> float:
        return self.t


Made = tuple[Breaker, "Clock", list[tuple[str, str]]]


def make(threshold: int = 3, cooldown: float = 10.0) -> Made:
    clock = Clock()
    seen: list[tuple[str, str]] = []
    b = Breaker(threshold, cooldown, clock=clock,
                on_transition=lambda old, new, n: seen.append((old.value, new.value)))
    return b, clock, seen


def test_trips_after_threshold_consecutive_failures() -> None:
    b, _, seen = make(threshold=3)
    for _ in range(2):
        assert b.allow()
        b.failure()
    assert b.state is CLOSED
    assert b.allow()
    b.failure()
    assert b.state is OPEN and seen == [("closed", "open")]
    assert not b.allow()


def test_success_resets_the_count() -> None:
    b, _, _ = make(threshold=3)
    for outcome in ["f", "f", "s", "f", "f"]:
        assert b.allow()
        b.failure() if outcome == "f" else b.success()
    assert b.state is CLOSED


def test_open_refuses_until_cooldown_then_one_probe() -> None:
    b, clock, seen = make(threshold=1, cooldown=10)
    b.allow()
    b.failure()
    clock.t += 9.99
    assert not b.allow() and b.state is OPEN
    clock.t += 0.02
    assert b.allow()  # the probe
    assert b.state is HALF
    assert not b.allow() and not b.allow()  # only one probe at a time
    b.success()
    assert b.state is CLOSED and b.allow()
    assert seen == [("closed", "open"), ("open", "half_open"), ("half_open", "closed")]


def test_failed_probe_reopens_with_a_fresh_cooldown() -> None:
    b, clock, seen = make(threshold=1, cooldown=10)
    b.allow()
    b.failure()
    clock.t += 10
    assert b.allow()
    b.failure()
    assert b.state is OPEN and b.until == clock.t + 10
    clock.t += 5
    assert not b.allow()
    assert seen[-1] == ("half_open", "open")


def test_abandoned_probe_lets_the_next_caller_probe() -> None:
    b, clock, _ = make(threshold=1, cooldown=1)
    b.allow()
    b.failure()
    clock.t += 1
    assert b.allow()
    assert not b.allow()
    b.abandon()
    assert b.state is HALF and b.allow()


def test_late_failure_while_open_does_not_extend_the_cooldown() -> None:
    b, clock, seen = make(threshold=1, cooldown=10)
    b.allow()
    b.failure()
    opened = b.until
    clock.t += 3
    b.failure()  # a request admitted before the trip reports late
    assert b.until == opened and seen == [("closed", "open")]


def test_threshold_must_be_positive() -> None:
    with pytest.raises(ValueError):
        Breaker(0, 1.0, clock=Clock())


# --- exhaustive: every sequence of events up to length 6 agrees with a reference model ------

EVENTS = ("allow", "success", "failure", "tick", "abandon")


def _reference(seq: tuple[str, ...], threshold: int, cooldown: float) -> list[object]:
    """A straightforward re-statement of the rules, to compare against."""
    state, fails, opened, probing, t = "closed", 0, 0.0, False, 0.0
    out: list[object] = []
    for ev in seq:
        if ev == "tick":
            t += cooldown / 2
        elif ev == "allow":
            if state == "closed":
                out.append(True)
            elif state == "open":
                if t >= opened + cooldown:
                    state, probing = "half_open", True
                    out.append(True)
                else:
                    out.append(False)
            else:
                out.append(not probing)
                probing = True
        elif ev == "success":
            fails, probing, state = 0, False, "closed"
        elif ev == "failure":
            fails += 1
            if state == "half_open":
                state, probing, opened = "open", False, t
            elif state == "closed" and fails >= threshold:
                state, opened = "open", t
        else:
            probing = False
        out.append(state)
    return out


@pytest.mark.parametrize("threshold", [1, 2])
def test_exhaustive_against_reference(threshold: int) -> None:
    for length in range(1, 7):
        for seq in itertools.product(EVENTS, repeat=length):
            clock = Clock()
            clock.t = 0.0
            b = Breaker(threshold, 4.0, clock=clock)
            got: list[object] = []
            for ev in seq:
                if ev == "tick":
                    clock.t += 2.0
                elif ev == "allow":
                    got.append(b.allow())
                else:
                    getattr(b, ev)()
                got.append(b.state.value)
            assert got == _reference(seq, threshold, 4.0), seq
