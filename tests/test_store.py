"""The content-addressed store on a real filesystem (tmp_path): commit, dedupe, links, verify."""

from __future__ import annotations

import errno
import hashlib
import json
import os
from pathlib import Path

import pytest

from oafetch import __version__
from oafetch.errors import StoreError
from oafetch.ids import WorkIds
from oafetch.store import Store, validators_path

BODY = b"%PDF-1.7\n" + bytes(range(256)) * 40 + b"\n%%EOF\n"
SHA = hashlib.sha256(BODY).hexdigest()
WORK = WorkIds(doi="10.1371/journal.pone.0000308")


def _part(store: Store, body: bytes = BODY, job: str = "job-1", url: str = "http://x/a") -> Path:
    part = store.part_path(job, url)
    part.write_bytes(body)
    validators_path(part).write_text("{}")
    return part


def test_part_path_is_stable_per_job_and_url_and_beside_the_blobs(tmp_path: Path) -> None:
    store = Store(tmp_path)
    a = store.part_path("job-1", "http://x/a")
    assert a == store.part_path("job-1", "http://x/a")
    assert a != store.part_path("job-1", "http://x/b")
    assert a != store.part_path("job-2", "http://x/a")
    assert a.parent == tmp_path / "store" / "tmp" and a.suffix == ".part"
    assert os.stat(a.parent).st_dev == os.stat(tmp_path).st_dev


def test_commit_publishes_blob_and_removes_part(tmp_path: Path) -> None:
    store = Store(tmp_path)
    part = _part(store)
    blob, existed = store.commit(part, SHA, "pdf", size=len(BODY))
    assert not existed
    assert blob == tmp_path / "store" / "sha256" / SHA[:2] / f"{SHA}.pdf"
    assert hashlib.sha256(blob.read_bytes()).hexdigest() == SHA
    assert not part.exists() and not validators_path(part).exists()
    assert [b.sha256 for b in store.iter_blobs()] == [SHA]


def test_second_commit_of_same_bytes_is_deduped(tmp_path: Path) -> None:
    store = Store(tmp_path)
    first, _ = store.commit(_part(store, job="a"), SHA, "pdf")
    inode = first.stat().st_ino
    part2 = _part(store, job="b")
    second, existed = store.commit(part2, SHA, "pdf")
    assert existed and second == first
    assert first.stat().st_ino == inode  # the original blob was not replaced
    assert not part2.exists()
    assert list(store.iter_parts()) == []


def test_commit_refuses_size_mismatch(tmp_path: Path) -> None:
    store = Store(tmp_path)
    part = _part(store)
    with pytest.raises(StoreError, match="expected"):
        store.commit(part, SHA, "pdf", size=len(BODY) + 1)
    assert part.exists() and list(store.iter_blobs()) == []


def test_blob_path_rejects_bad_names(tmp_path: Path) -> None:
    store = Store(tmp_path)
    with pytest.raises(StoreError):
        store.blob_path("../../etc/passwd", "pdf")
    with pytest.raises(StoreError):
        store.blob_path(SHA, "pdf/../x")


def test_friendly_link_points_at_blob_and_is_replaced_atomically(tmp_path: Path) -> None:
    store = Store(tmp_path)
    blob, _ = store.commit(_part(store), SHA, "pdf")
    link = store.link_friendly(WORK, blob, "pdf")
    assert link == tmp_path / "by-id" / "10.1371_journal.pone.0000308.pdf"
    assert link.read_bytes() == BODY
    assert os.path.samefile(link, blob)

    other = b"%PDF-1.4 other bytes\n%%EOF\n"
    other_sha = hashlib.sha256(other).hexdigest()
    blob2, _ = store.commit(_part(store, other, job="j2"), other_sha, "pdf")
    link2 = store.link_friendly(WORK, blob2, "pdf")
    assert link2 == link and link.read_bytes() == other
    assert not [p for p in link.parent.iterdir() if p.name.endswith(".tmp")]


def test_slug_never_collides_for_different_keys(tmp_path: Path) -> None:
    store = Store(tmp_path)
    a = store.friendly_path(WorkIds(doi="10.1000/a_b"), "pdf")
    b = store.friendly_path(WorkIds(doi="10.1000/a/b"), "pdf")
    c = store.friendly_path(WorkIds(doi="10.1000/(sici)1:2<3>" + "x" * 300), "pdf")
    assert a != b
    assert c.parent == tmp_path / "by-id" and len(c.name) < 200
    assert all(ch.isalnum() or ch in "._-" for ch in c.name)


def test_sidecar_has_the_provenance_keys(tmp_path: Path) -> None:
    store = Store(tmp_path)
    path = store.write_sidecar(
        WORK,
        {
            "source": "unpaywall",
            "url": "http://x/a",
            "final_url": "http://x/a.pdf",
            "version": "publishedVersion",
            "license": "cc-by",
            "technique": "unpaywall.url_for_pdf",
            "sha256": SHA,
            "size": len(BODY),
            "format": "pdf",
            "identity_verified": True,
        },
    )
    data = json.loads(path.read_text())
    assert path == tmp_path / "by-id" / "10.1371_journal.pone.0000308.json"
    assert data["ids"] == {"doi": "10.1371/journal.pone.0000308"}
    assert data["sha256"] == SHA and data["source"] == "unpaywall"
    assert data["oafetch"] == __version__
    assert data["fetched_at"].endswith("+00:00")
    for key in ("final_url", "version", "license", "technique", "size", "format"):
        assert key in data


def test_verify_finds_corrupt_orphan_missing_and_stray(tmp_path: Path) -> None:
    store = Store(tmp_path)
    good, _ = store.commit(_part(store), SHA, "pdf")
    other = b"some xml <article/>"
    other_sha = hashlib.sha256(other).hexdigest()
    orphan, _ = store.commit(_part(store, other, job="o"), other_sha, "xml")
    assert store.verify(deep=True).ok

    os.chmod(good, 0o644)
    good.write_bytes(BODY[:-1] + b"X")  # same size, different bytes: only deep finds it
    (good.parent / "notahash.pdf").write_bytes(b"?")
    missing = "f" * 64
    shallow = store.verify({SHA: len(BODY), missing: 10})
    assert shallow.corrupt == [] and shallow.orphans == [orphan]
    deep = store.verify({SHA: len(BODY), missing: 10}, deep=True)
    assert deep.corrupt == [good]
    assert deep.missing == [missing]
    assert deep.strays == [good.parent / "notahash.pdf"]
    assert not deep.ok

    assert store.remove_orphans({SHA}) == [orphan]
    assert not orphan.exists() and good.exists()


def test_stale_parts_uses_the_given_clock(tmp_path: Path) -> None:
    store = Store(tmp_path)
    part = _part(store)
    mtime = part.stat().st_mtime
    assert store.stale_parts(3600, now=mtime + 10) == []
    assert store.stale_parts(3600, now=mtime + 7200) == [part]


def test_disk_full_during_commit_leaves_no_blob(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    store = Store(tmp_path)
    part = _part(store)

    def full(*args: object, **kwargs: object) -> None:
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(os, "link", full)
    monkeypatch.setattr(os, "replace", full)
    with pytest.raises(StoreError, match=r"disk full .* nothing was committed"):
        store.commit(part, SHA, "pdf")
    assert list(store.iter_blobs()) == []
    assert part.exists()


def test_disk_full_while_writing_sidecar_keeps_the_old_one(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    store = Store(tmp_path)
    path = store.write_sidecar(WORK, {"sha256": SHA})

    def full(fd: int, data: object) -> int:
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(os, "write", full)
    with pytest.raises(StoreError, match="disk full"):
        store.write_sidecar(WORK, {"sha256": "0" * 64})
    assert json.loads(path.read_text())["sha256"] == SHA
    assert [p.name for p in path.parent.iterdir()] == [path.name]
