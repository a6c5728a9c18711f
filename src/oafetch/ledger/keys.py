"""Deterministic keys for jobs and ops (DESIGN §7).

A key is the sha256 of canonical JSON, so the same work (or the same side effect of the
same job) gets the same key on every machine and every run — that is what makes `plan`
idempotent and lets a replayed op find its stored result. The `"v":1` field versions the
recipe: changing what goes into a key must bump it rather than silently re-key a ledger.
"""

from __future__ import annotations

import functools
import hashlib
import json
from typing import Any

from ..ids import WorkIds
from .base import OpType

__all__ = ["canonical_json", "idempotency_key", "op_key"]


def canonical_json(value: Any) -> str:
    """One spelling per value: sorted keys, no whitespace, UTF-8 kept as is."""
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def _sha256(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def idempotency_key(work: WorkIds | str) -> str:
    """The job key of one work: `work` is a `WorkIds` or its normalised key (`doi:10.…`)."""
    work_key = work.key() if isinstance(work, WorkIds) else work
    if not work_key:
        raise ValueError("idempotency_key needs a non-empty work key")
    return _sha256(canonical_json({"v": 1, "work": work_key, "artifact": "fulltext"}))


@functools.lru_cache(maxsize=8192)
def op_key(job_key: str, op_type: OpType | str, ctx: str) -> str:
    """The key of one side effect: job idempotency key + op type + its context.

    `ctx` is what distinguishes two effects of the same type within one job: the URL for
    HEAD/STREAM, the sha256 for FINALIZE/INDEX/DEDUPE, the source name for RESOLVE.
    Cached: a journalled op asks for its key three times (get, start, finish).
    """
    op = OpType(op_type)
    return _sha256(canonical_json({"v": 1, "job": job_key, "op": op.value, "ctx": ctx}))
