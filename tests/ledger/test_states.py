"""The transition table, checked over every (from, to) pair of states."""

from __future__ import annotations

import itertools

import pytest

from oafetch.ledger.base import State
from oafetch.ledger.states import TRANSITIONS, Via, allowed_from, can_transition, claim_result

S = State

# Written independently of states.py, as the design reads: any drift fails here.
EXPECTED: dict[tuple[State, State], Via] = {
    (S.PLANNED, S.LEASED): Via.CLAIM,
    (S.RETRY_WAIT, S.LEASED): Via.CLAIM,
    (S.LEASED, S.PLANNED): Via.RELEASE,
    (S.FAILED, S.PLANNED): Via.COMMAND,
    **{
        (S.LEASED, to): Via.WORKER
        for to in (S.HEAD_DONE, S.RESUME_OK, S.STREAMING, S.FAILED, S.RETRY_WAIT)
    },
    (S.LEASED, S.INDEXED): Via.WORKER,
    (S.LEASED, S.DEDUPED): Via.WORKER,
    **{
        (S.HEAD_DONE, to): Via.WORKER
        for to in (S.HEAD_DONE, S.RESUME_OK, S.STREAMING, S.FAILED, S.RETRY_WAIT)
    },
    **{(S.RESUME_OK, to): Via.WORKER for to in (S.STREAMING, S.FAILED, S.RETRY_WAIT)},
    **{
        (S.STREAMING, to): Via.WORKER
        for to in (S.FINALIZED, S.STREAMING, S.FAILED, S.RETRY_WAIT, S.HEAD_DONE)
    },
    **{(S.FINALIZED, to): Via.WORKER for to in (S.INDEXED, S.DEDUPED, S.FAILED)},
}


@pytest.mark.parametrize(("frm", "to"), list(itertools.product(State, State)))
def test_every_pair(frm: State, to: State) -> None:
    want = EXPECTED.get((frm, to))
    assert can_transition(frm, to) is (want is not None)
    for via in Via:
        assert can_transition(frm, to, via) is (want is via), (frm, to, via)


def test_table_has_no_extra_edges() -> None:
    assert TRANSITIONS == EXPECTED


def test_terminal_states_only_leave_by_command() -> None:
    for frm, to in itertools.product(State, State):
        if frm.terminal and can_transition(frm, to):
            assert (frm, to) == (S.FAILED, S.PLANNED)
            assert can_transition(frm, to, Via.COMMAND)


def test_workers_can_never_claim() -> None:
    assert allowed_from(S.LEASED, Via.WORKER) == frozenset()
    assert allowed_from(S.LEASED, Via.CLAIM) == {S.PLANNED, S.RETRY_WAIT}
    assert allowed_from(S.PLANNED, Via.WORKER) == frozenset()


def test_allowed_from_matches_pairs() -> None:
    for to in State:
        for via in Via:
            assert allowed_from(to, via) == {f for f in State if can_transition(f, to, via)}


def test_claim_keeps_progress() -> None:
    assert claim_result(S.PLANNED) is S.LEASED
    assert claim_result(S.RETRY_WAIT) is S.LEASED
    assert claim_result(S.STREAMING) is S.STREAMING
    assert claim_result(S.HEAD_DONE) is S.HEAD_DONE
