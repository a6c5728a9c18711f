"""Backend-neutral pieces: column lists, row decoding and argument checks.

Both backends select the same columns in the same order, so a row decodes the same way
whichever database produced it; only JSON decoding differs (SQLite stores text,
PostgreSQL hands back parsed jsonb).
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from ..outcomes import FailureClass
from .base import Job, Op, OpStatus, OpType, PlanResult, State
from .keys import canonical_json

JOB_COLUMNS: tuple[str, ...] = (
    "job_id",
    "idempotency_key",
    "work",
    "state",
    "attempts",
    "not_before",
    "lease_owner",
    "lease_until",
    "lease_epoch",
    "outcome_class",
    "outcome_reason",
    "source",
    "url",
    "sha256",
    "size",
    "format",
    "path",
    "created_at",
    "updated_at",
)
JOB_SELECT = ", ".join(JOB_COLUMNS)

OP_COLUMNS: tuple[str, ...] = (
    "op_key",
    "job_id",
    "op_type",
    "status",
    "started_at",
    "finished_at",
    "result_code",
    "result_json",
)
OP_SELECT = ", ".join(OP_COLUMNS)

# Fields a worker may set through `transition`; everything else is the ledger's business.
TRANSITION_FIELDS: frozenset[str] = frozenset(
    {
        "outcome_class",
        "outcome_reason",
        "source",
        "url",
        "sha256",
        "size",
        "format",
        "path",
        "not_before",
        "work",
    }
)

CHUNK = 10_000  # plan() commits this many jobs per transaction


def _json(value: Any) -> Any:
    if value is None or isinstance(value, dict):
        return value
    return json.loads(value)


def job_from_row(row: Sequence[Any]) -> Job:
    return Job(
        job_id=int(row[0]),
        idempotency_key=row[1],
        work=_json(row[2]),
        state=State(row[3]),
        attempts=int(row[4]),
        not_before=row[5],
        lease_owner=row[6],
        lease_until=row[7],
        lease_epoch=int(row[8]),
        outcome_class=row[9],
        outcome_reason=row[10],
        source=row[11],
        url=row[12],
        sha256=row[13],
        size=None if row[14] is None else int(row[14]),
        format=row[15],
        path=row[16],
        created_at=float(row[17]),
        updated_at=float(row[18]),
    )


def op_from_row(row: Sequence[Any]) -> Op:
    return Op(
        op_key=row[0],
        job_id=int(row[1]),
        op_type=OpType(row[2]),
        status=OpStatus(row[3]),
        started_at=float(row[4]),
        finished_at=row[5],
        result_code=row[6],
        result=_json(row[7]),
    )


def check_fields(fields: Mapping[str, Any]) -> dict[str, Any]:
    """Validate `transition(**fields)`; JSON-encode `work`. Unknown names are a bug → TypeError."""
    unknown = set(fields) - TRANSITION_FIELDS
    if unknown:
        raise TypeError(f"transition() got unknown field(s): {', '.join(sorted(unknown))}")
    out = dict(fields)
    if "work" in out and out["work"] is not None:
        out["work"] = canonical_json(dict(out["work"]))
    for name in ("outcome_class", "format"):
        if name in out and out[name] is not None:
            out[name] = str(out[name])  # StrEnum members stored by value
    return out


def check_finish_status(status: OpStatus) -> OpStatus:
    status = OpStatus(status)
    if status is OpStatus.STARTED:
        raise ValueError("finish_op status must be done or failed, not started")
    return status


def retry_classes(classes: Iterable[str] | None) -> list[str]:
    """Default: every retryable failure class (outcomes.FailureClass.retryable)."""
    if classes is None:
        return sorted(c.value for c in FailureClass if c.retryable)
    return sorted({str(FailureClass(c)) for c in classes})


def event_row(event: Mapping[str, Any], now: float) -> tuple[str, int | None, float, str, str]:
    """(run_id, job_id, ts, type, fields-json) from an `Event.as_dict()`-shaped mapping."""
    try:
        run_id = str(event["run_id"])
        etype = str(event["type"])
    except KeyError as exc:
        raise ValueError(f"event is missing {exc.args[0]!r}: {dict(event)!r}") from None
    job_id = event.get("job_id")
    ts = event.get("ts")
    fields = event.get("fields") or {}
    return (
        run_id,
        None if job_id is None else int(job_id),
        now if ts is None else float(ts),
        etype,
        json.dumps(fields, ensure_ascii=False, default=str),
    )


def plan_results(
    keys: Sequence[str], inserted: Mapping[str, int], existing: Mapping[str, int]
) -> list[PlanResult]:
    """Results in input order; a key repeated within one batch is inserted only once."""
    out: list[PlanResult] = []
    seen: set[str] = set()
    for key in keys:
        if key in inserted and key not in seen:
            out.append(PlanResult(inserted[key], True))
        else:
            out.append(PlanResult(inserted.get(key) or existing[key], False))
        seen.add(key)
    return out


def event_filter(
    run_id: str | None, types: Iterable[str] | None, mark: str
) -> tuple[str, list[Any]]:
    """` AND …` clauses and their parameters for an events query (`mark`: ? or %s)."""
    where = ""
    params: list[Any] = []
    if run_id is not None:
        where += f" AND run_id = {mark}"
        params.append(run_id)
    if types is not None:
        wanted = sorted({str(t) for t in types})
        if not wanted:
            return " AND 1 = 0", []
        where += f" AND type IN ({', '.join([mark] * len(wanted))})"
        params += wanted
    return where, params


def event_from_row(row: Sequence[Any]) -> dict[str, Any]:
    return {
        "run_id": row[1],
        "job_id": None if row[2] is None else int(row[2]),
        "ts": float(row[3]),
        "type": row[4],
        "fields": _json(row[5]),
    }


def check_key(key: str) -> str:
    """An idempotency key must be a non-empty string (keys.idempotency_key makes them)."""
    if not isinstance(key, str) or not key:
        raise ValueError(f"plan() needs non-empty string idempotency keys, got {key!r}")
    return key


def check_claim(ttl_s: float, limit: int) -> None:
    if not ttl_s > 0:
        raise ValueError(f"claim ttl_s must be positive, got {ttl_s!r}")
    if limit < 1:
        raise ValueError(f"claim limit must be at least 1, got {limit!r}")


def earliest(row: Sequence[Any] | None) -> float | None:
    """The smallest non-NULL value of a row of timestamps."""
    values = [float(v) for v in (row or ()) if v is not None]
    return min(values) if values else None
