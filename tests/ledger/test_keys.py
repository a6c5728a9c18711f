"""Idempotency and op keys: sha256 of the canonical JSON spelled out in DESIGN §7."""

from __future__ import annotations

import hashlib

import pytest

from oafetch.ids import WorkIds
from oafetch.ledger.base import OpType
from oafetch.ledger.keys import canonical_json, idempotency_key, op_key


def _sha(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


def test_canonical_json_is_sorted_compact_and_keeps_unicode() -> None:
    assert canonical_json({"b": 1, "a": [1, "é"]}) == '{"a":[1,"é"],"b":1}'


def test_idempotency_key_is_sha256_of_the_documented_json() -> None:
    doc = '{"artifact":"fulltext","v":1,"work":"doi:10.1371/journal.pone.0000308"}'
    assert idempotency_key("doi:10.1371/journal.pone.0000308") == _sha(doc)


def test_idempotency_key_accepts_workids() -> None:
    ids = WorkIds(doi="10.1/x", pmid="123")
    assert idempotency_key(ids) == idempotency_key("doi:10.1/x")
    assert idempotency_key(ids) != idempotency_key(WorkIds(pmid="123"))


def test_empty_work_key_is_refused() -> None:
    with pytest.raises(ValueError, match="non-empty"):
        idempotency_key("")


def test_op_key_is_sha256_of_the_documented_json() -> None:
    job = idempotency_key("arxiv:1706.03762")
    doc = '{"ctx":"https://arxiv.org/pdf/1706.03762","job":"' + job + '","op":"STREAM","v":1}'
    assert op_key(job, OpType.STREAM, "https://arxiv.org/pdf/1706.03762") == _sha(doc)


def test_op_keys_differ_by_type_and_context() -> None:
    job = idempotency_key("doi:10.1/x")
    keys = {
        op_key(job, OpType.HEAD, "https://a/x.pdf"),
        op_key(job, OpType.STREAM, "https://a/x.pdf"),
        op_key(job, "HEAD", "https://b/x.pdf"),
        op_key(idempotency_key("doi:10.1/y"), OpType.HEAD, "https://a/x.pdf"),
    }
    assert len(keys) == 4


def test_unknown_op_type_is_refused() -> None:
    with pytest.raises(ValueError):
        op_key("k", "DELETE", "x")
