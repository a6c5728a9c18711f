"""How a job ends: success statuses and the failure classes of DESIGN §8.

Every failure ends in exactly one `FailureClass`; whether the ledger may try it again is a
property of the class, so the decision lives in one place.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


class Status(StrEnum):
    DOWNLOADED = "downloaded"
    DEDUPED = "deduped"
    ALREADY_DONE = "already_done"
    FAILED = "failed"


class Format(StrEnum):
    PDF = "pdf"
    XML = "xml"
    HTML = "html"


class FailureClass(StrEnum):
    NO_OA_LOCATION = "no_oa_location"
    LINK_DEAD = "link_dead"
    LANDING_NO_LINK = "landing_no_link"
    BOT_WALL = "bot_wall"
    LOGIN_OR_PAYWALL = "login_or_paywall"
    REDIRECT_PATHOLOGY = "redirect_pathology"
    WRONG_TYPE = "wrong_type"
    CORRUPT_OR_PARTIAL = "corrupt_or_partial"
    WRONG_WORK = "wrong_work"
    NOT_A_PAPER = "not_a_paper"
    RATE_LIMITED = "rate_limited"
    POLICY_SKIP = "policy_skip"
    TRANSIENT = "transient"
    BUDGET_EXHAUSTED = "budget_exhausted"
    INVALID_INPUT = "invalid_input"

    @property
    def retryable(self) -> bool:
        """Whether `oafetch retry` / RETRY_WAIT may try this class again without user action."""
        return self in _RETRYABLE

    @property
    def severity(self) -> int:
        """Rank used to pick "the best failure class seen" when a budget ends a job.

        Higher means more informative: a wrong work or a bot wall says more about the
        world than "nothing was found".
        """
        return _SEVERITY.index(self)


_RETRYABLE = frozenset(
    {FailureClass.RATE_LIMITED, FailureClass.TRANSIENT, FailureClass.BUDGET_EXHAUSTED}
)

# Least to most informative.
_SEVERITY: list[FailureClass] = [
    FailureClass.INVALID_INPUT,
    FailureClass.BUDGET_EXHAUSTED,
    FailureClass.NO_OA_LOCATION,
    FailureClass.TRANSIENT,
    FailureClass.RATE_LIMITED,
    FailureClass.POLICY_SKIP,
    FailureClass.LINK_DEAD,
    FailureClass.LANDING_NO_LINK,
    FailureClass.REDIRECT_PATHOLOGY,
    FailureClass.WRONG_TYPE,
    FailureClass.LOGIN_OR_PAYWALL,
    FailureClass.BOT_WALL,
    FailureClass.CORRUPT_OR_PARTIAL,
    FailureClass.NOT_A_PAPER,
    FailureClass.WRONG_WORK,
]


@dataclass(frozen=True, slots=True)
class Outcome:
    """The end of one job, as written to results.jsonl and the ledger."""

    status: Status
    failure_class: FailureClass | None = None
    reason: str | None = None
    format: Format | None = None
    sha256: str | None = None
    size: int | None = None
    path: str | None = None
    source: str | None = None
    url: str | None = None
    version: str | None = None
    technique: str | None = None
    identity_verified: bool | None = None
    # Set on a failure that is parked in RETRY_WAIT beyond this run: when to try again.
    retry_at: float | None = None

    @property
    def ok(self) -> bool:
        return self.status is not Status.FAILED
