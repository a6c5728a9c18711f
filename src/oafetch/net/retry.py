"""Retry policy as an immutable value with its history (urllib3 style), plus Retry-After parsing.

Why a value and not a loop: the client has to interleave retries with things tenacity's
loop cannot see (the per-host "not before" gate, redirects, robots re-checks on every hop).
So the client owns the loop and asks the policy, one step at a time, what to do next;
each step returns a *new* policy whose `history` records what happened. That makes the
decision logic a pure function, testable without sockets or clocks. The jittered backoff
itself is tenacity's "full jitter" strategy (`wait_random_exponential`).
"""

from __future__ import annotations

import email.utils
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from enum import Enum

from tenacity import RetryCallState, Retrying, wait_random_exponential

__all__ = [
    "Action",
    "RetryEvent",
    "RetryPlan",
    "RetryPolicy",
    "is_retryable_status",
    "parse_retry_after",
    "retry_after_from_headers",
]

# 501 Not Implemented and 505 HTTP Version Not Supported will not change on a retry.
_NOT_RETRYABLE_5XX = frozenset({501, 505})

# Headers that say "come back in N seconds". Retry-After is the standard; the RateLimit-*
# drafts and the X-RateLimit-Reset convention are used by APIs (OpenAlex, GitHub-style).
_RESET_HEADERS = ("ratelimit-reset", "x-ratelimit-reset")

# A reset header value above this is a UNIX timestamp, not a delta.
_EPOCH_THRESHOLD = 1_000_000_000


def is_retryable_status(status: int) -> bool:
    """429 and transient 5xx are worth another try; everything else is an answer."""
    return status == 429 or (500 <= status <= 599 and status not in _NOT_RETRYABLE_5XX)


def parse_retry_after(value: str | None, *, now: float) -> float | None:
    """Seconds to wait from `now` (a UNIX time) for a Retry-After value.

    Both RFC 9110 forms are accepted: delta-seconds ("120") and an HTTP-date. A date in
    the past means "now" (0.0). Anything unparseable is None (the header is ignored).
    """
    if value is None:
        return None
    text = value.strip()
    if not text:
        return None
    if text.isdigit():
        return float(int(text))
    try:
        seconds = float(text)
    except ValueError:
        pass
    else:
        return seconds if seconds >= 0 else None
    try:
        when = email.utils.parsedate_to_datetime(text)
    except (TypeError, ValueError, IndexError):
        return None
    if when.tzinfo is None:  # RFC 9110 dates are GMT; a naive result means "GMT" was missing
        return None
    return max(0.0, when.timestamp() - now)


def retry_after_from_headers(headers: Mapping[str, str], *, now: float) -> float | None:
    """Retry-After, else a rate-limit reset header (delta seconds or UNIX time)."""
    seconds = parse_retry_after(headers.get("retry-after"), now=now)
    if seconds is not None:
        return seconds
    for name in _RESET_HEADERS:
        raw = headers.get(name)
        if raw is None:
            continue
        try:
            number = float(raw.strip())
        except ValueError:
            continue
        if number < 0:
            continue
        return max(0.0, number - now) if number > _EPOCH_THRESHOLD else number
    return None


class Action(Enum):
    RETRY = "retry"  # sleep `delay_s`, then try again
    RATE_LIMITED = "rate_limited"  # give up this job for now; come back at `delay_s` from now
    GIVE_UP = "give_up"  # retries spent on a transient failure


@dataclass(frozen=True, slots=True)
class RetryEvent:
    """One failed attempt: what went wrong and how long we decided to wait."""

    status: int | None
    error: str | None
    delay_s: float
    server_asked: bool  # the delay came from Retry-After (or a reset header)


@dataclass(frozen=True, slots=True)
class RetryPlan:
    action: Action
    delay_s: float
    policy: RetryPolicy  # the policy to use for the next step (history appended)
    server_asked: bool = False


# tenacity's wait strategies read only `attempt_number` from the call state; one shared
# Retrying object serves as the state's owner (it is never run).
_OWNER = Retrying()


@dataclass(frozen=True, slots=True)
class RetryPolicy:
    """What to do after a failed attempt. Immutable: `plan()` returns the next policy."""

    total: int = 4
    backoff_base_s: float = 0.5
    backoff_max_s: float = 30.0
    retry_after_cap_s: float = 30.0
    history: tuple[RetryEvent, ...] = field(default=())

    @property
    def retries(self) -> int:
        return len(self.history)

    @property
    def exhausted(self) -> bool:
        return len(self.history) >= self.total

    def backoff_s(self) -> float:
        """Full jitter: uniform in [0, min(max, base * 2**n)] for the n-th retry (n from 0)."""
        if self.backoff_base_s <= 0 or self.backoff_max_s <= 0:
            return 0.0
        state = RetryCallState(_OWNER, None, (), {})
        state.attempt_number = len(self.history) + 1
        wait = wait_random_exponential(multiplier=self.backoff_base_s, max=self.backoff_max_s)
        return float(wait(state))

    def plan(
        self,
        *,
        status: int | None = None,
        error: str | None = None,
        retry_after_s: float | None = None,
    ) -> RetryPlan:
        """Decide after one failed attempt (a retryable status, or a transport `error`).

        - The server named a wait (Retry-After) above the cap: RATE_LIMITED at that time.
        - Retries left: RETRY after the server's wait if it gave one, else jittered backoff.
        - Retries spent: a 429 becomes RATE_LIMITED (the job waits, not fails); anything
          else GIVE_UP.
        """
        asked = retry_after_s is not None
        if retry_after_s is not None and retry_after_s > self.retry_after_cap_s:
            return RetryPlan(Action.RATE_LIMITED, retry_after_s, self, server_asked=True)
        delay = retry_after_s if retry_after_s is not None else self.backoff_s()
        event = RetryEvent(status=status, error=error, delay_s=delay, server_asked=asked)
        following = replace(self, history=(*self.history, event))
        if self.exhausted:
            if status == 429:
                return RetryPlan(Action.RATE_LIMITED, delay, following, server_asked=asked)
            return RetryPlan(Action.GIVE_UP, 0.0, following, server_asked=asked)
        return RetryPlan(Action.RETRY, delay, following, server_asked=asked)
