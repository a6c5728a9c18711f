"""The one job-state transition table (DESIGN §7).

Every edge names *who* may take it, because the ledger enforces the actor as well as the
pair: a worker holding a lease may only take WORKER edges through `Ledger.transition`;
CLAIM edges are taken only by the atomic claim statement, RELEASE only by `release`, and
COMMAND only by an operator command (`oafetch retry`). Keeping the actor in the table
means a worker can never "claim" a job by transitioning it, and a retry can never be
smuggled through a lease.

Pure: no I/O, no clock. Both backends build their compare-and-set `WHERE state IN (…)`
from `allowed_from`, so the table below is the only place the state machine lives.
"""

from __future__ import annotations

from enum import StrEnum

from .base import State

__all__ = ["TRANSITIONS", "Via", "allowed_from", "can_transition", "claim_result"]


class Via(StrEnum):
    """Who takes an edge."""

    CLAIM = "claim"  # the atomic claim statement (sets a new lease)
    WORKER = "worker"  # Ledger.transition by the current lease holder
    RELEASE = "release"  # Ledger.release by the current lease holder
    COMMAND = "command"  # an operator command (retry_failed)


S = State

TRANSITIONS: dict[tuple[State, State], Via] = {
    # --- claims: the only way into LEASED -------------------------------------------------
    (S.PLANNED, S.LEASED): Via.CLAIM,  # fresh job picked up by a worker
    (S.RETRY_WAIT, S.LEASED): Via.CLAIM,  # not_before has passed; try again
    # --- from LEASED (the worker has the job, nothing done yet) ---------------------------
    (S.LEASED, S.HEAD_DONE): Via.WORKER,  # cascade found a candidate and HEAD/probe answered
    (S.LEASED, S.RESUME_OK): Via.WORKER,  # a .part from an earlier attempt validated for Range
    (S.LEASED, S.STREAMING): Via.WORKER,  # candidate needs no HEAD: stream straight away
    (S.LEASED, S.FAILED): Via.WORKER,  # terminal failure class (no_oa_location, invalid_input…)
    (S.LEASED, S.RETRY_WAIT): Via.WORKER,  # retryable failure (rate_limited, transient…)
    (S.LEASED, S.INDEXED): Via.WORKER,  # already_done: the artifact exists and is indexed
    (S.LEASED, S.DEDUPED): Via.WORKER,  # already_done: same bytes belong to another work
    (S.LEASED, S.PLANNED): Via.RELEASE,  # graceful shutdown gives an untouched job back
    # --- from HEAD_DONE ------------------------------------------------------------------
    (S.HEAD_DONE, S.HEAD_DONE): Via.WORKER,  # that candidate was rejected; next one probed
    (S.HEAD_DONE, S.RESUME_OK): Via.WORKER,  # existing .part matches the validators (ETag/size)
    (S.HEAD_DONE, S.STREAMING): Via.WORKER,  # download begins from byte 0
    (S.HEAD_DONE, S.FAILED): Via.WORKER,  # every candidate exhausted, terminal class
    (S.HEAD_DONE, S.RETRY_WAIT): Via.WORKER,  # host cooling down / breaker open
    # --- from RESUME_OK ------------------------------------------------------------------
    (S.RESUME_OK, S.STREAMING): Via.WORKER,  # ranged download continues the .part
    (S.RESUME_OK, S.FAILED): Via.WORKER,  # terminal failure while resuming
    (S.RESUME_OK, S.RETRY_WAIT): Via.WORKER,  # transient failure while resuming
    # --- from STREAMING ------------------------------------------------------------------
    (S.STREAMING, S.FINALIZED): Via.WORKER,  # bytes validated and committed to the blob store
    (S.STREAMING, S.STREAMING): Via.WORKER,  # validation failed; next candidate streams directly
    (S.STREAMING, S.HEAD_DONE): Via.WORKER,  # validation failed; next candidate needed a HEAD
    (S.STREAMING, S.FAILED): Via.WORKER,  # no candidate left, terminal class
    (S.STREAMING, S.RETRY_WAIT): Via.WORKER,  # connection reset / deadline: try later
    # --- from FINALIZED ------------------------------------------------------------------
    (S.FINALIZED, S.INDEXED): Via.WORKER,  # per-work path written, index upserted
    (S.FINALIZED, S.DEDUPED): Via.WORKER,  # the blob already belonged to another work
    (S.FINALIZED, S.FAILED): Via.WORKER,  # store unwritable after the blob check (rare)
    # --- operator commands ----------------------------------------------------------------
    (S.FAILED, S.PLANNED): Via.COMMAND,  # `oafetch retry`: only retry_failed takes this edge
}


def can_transition(frm: State, to: State, via: Via | None = None) -> bool:
    """Whether `frm → to` is an edge (taken by `via`, when given)."""
    edge = TRANSITIONS.get((frm, to))
    return edge is not None and (via is None or edge is via)


def allowed_from(to: State, via: Via = Via.WORKER) -> frozenset[State]:
    """The states from which `via` may move a job to `to` (the CAS `state IN (…)` set)."""
    return _ALLOWED_FROM.get((to, via), frozenset())


def claim_result(current: State) -> State:
    """The state a claim leaves a job in.

    PLANNED and RETRY_WAIT become LEASED. A job reclaimed after its lease expired keeps its
    progress state (HEAD_DONE, STREAMING, …): the runner restarts the pipeline from there
    (a STREAMING job resumes from its `.part`), so resetting it to LEASED would lose the
    fact that a partial download exists.
    """
    return S.LEASED if current in (S.PLANNED, S.RETRY_WAIT) else current


def _index() -> dict[tuple[State, Via], frozenset[State]]:
    acc: dict[tuple[State, Via], set[State]] = {}
    for (frm, to), via in TRANSITIONS.items():
        acc.setdefault((to, via), set()).add(frm)
    return {k: frozenset(v) for k, v in acc.items()}


_ALLOWED_FROM = _index()

# States a claim may take over when their lease has expired (or was released).
RESUMABLE: frozenset[State] = frozenset(
    {S.LEASED, S.HEAD_DONE, S.RESUME_OK, S.STREAMING, S.FINALIZED}
)
