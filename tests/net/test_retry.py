"""The retry policy value and Retry-After parsing: pure functions, injected `now`."""

from __future__ import annotations

import email.utils
import random

import pytest

from oafetch.net.retry import (
    Action,
    RetryPolicy,
    is_retryable_status,
    parse_retry_after,
    retry_after_from_headers,
)

NOW = 1_800_000_000.0


def test_retry_after_delta_seconds() -> None:
    assert parse_retry_after("2", now=NOW) == 2.0
    assert parse_retry_after(" 120 ", now=NOW) == 120.0
    assert parse_retry_after("1.5", now=NOW) == 1.5


def test_retry_after_http_date() -> None:
    date = email.utils.formatdate(NOW + 90, usegmt=True)
    assert parse_retry_after(date, now=NOW) == pytest.approx(90.0)
    past = email.utils.formatdate(NOW - 90, usegmt=True)
    assert parse_retry_after(past, now=NOW) == 0.0


@pytest.mark.parametrize("value", [None, "", "soon", "-5", "Mon, 99 Foo 2026"])
def test_retry_after_garbage_is_ignored(value: str | None) -> None:
    assert parse_retry_after(value, now=NOW) is None


def test_reset_headers_as_fallback() -> None:
    assert retry_after_from_headers({"x-ratelimit-reset": "30"}, now=NOW) == 30.0
    assert retry_after_from_headers({"ratelimit-reset": str(NOW + 45)}, now=NOW) == 45.0
    assert retry_after_from_headers({"retry-after": "3", "ratelimit-reset": "99"}, now=NOW) == 3.0
    assert retry_after_from_headers({}, now=NOW) is None


@pytest.mark.parametrize(("status", "retry"), [
    (429, True), (500, True), (502, True), (503, True), (504, True),
    (501, False), (505, False), (404, False), (403, False), (200, False), (301, False),
])
def test_retryable_statuses(status: int, retry: bool) -> None:
    assert is_retryable_status(status) is retry


def test_policy_is_immutable_and_keeps_history() -> None:
    p0 = RetryPolicy(total=2, backoff_base_s=0.5, backoff_max_s=30)
    plan = p0.plan(status=503)
    assert plan.action is Action.RETRY
    assert p0.history == ()  # the original value did not change
    assert plan.policy.retries == 1
    assert plan.policy.history[0].status == 503
    with pytest.raises(AttributeError):
        p0.total = 5  # type: ignore[misc]
    plan2 = plan.policy.plan(error="ReadTimeout")
    assert plan2.action is Action.RETRY
    assert [e.error for e in plan2.policy.history] == [None, "ReadTimeout"]
    # retries spent on a 5xx/timeout: give up
    assert plan2.policy.plan(status=500).action is Action.GIVE_UP


def test_full_jitter_bounds_grow_and_cap() -> None:
    random.seed(7)
    policy = RetryPolicy(total=10, backoff_base_s=0.5, backoff_max_s=4.0)
    for n, cap in enumerate([0.5, 1.0, 2.0, 4.0, 4.0, 4.0]):
        delays = [policy.backoff_s() for _ in range(200)]
        assert all(0 <= d <= cap for d in delays), n
        assert max(delays) > cap * 0.8  # jitter spreads over the whole window
        assert min(delays) < cap * 0.2
        policy = policy.plan(status=503).policy


def test_server_wait_within_cap_is_used() -> None:
    plan = RetryPolicy(total=3, retry_after_cap_s=30).plan(status=429, retry_after_s=2.0)
    assert (plan.action, plan.delay_s, plan.server_asked) == (Action.RETRY, 2.0, True)


def test_server_wait_beyond_cap_is_rate_limited_at_once() -> None:
    plan = RetryPolicy(total=3, retry_after_cap_s=30).plan(status=429, retry_after_s=3600.0)
    assert (plan.action, plan.delay_s) == (Action.RATE_LIMITED, 3600.0)


def test_429_after_retries_spent_waits_instead_of_failing() -> None:
    policy = RetryPolicy(total=0)
    assert policy.plan(status=429, retry_after_s=5.0).action is Action.RATE_LIMITED
    assert policy.plan(status=503, retry_after_s=5.0).action is Action.GIVE_UP
    assert policy.plan(error="ConnectError").action is Action.GIVE_UP
