"""Content-addressed artifact store + friendly per-work paths + sidecars (DESIGN §5).

Why content addressing: a blob is named by the sha256 of its bytes, so the same paper reached
through two works (or two runs) is stored once (`DEDUPED`), a crash can never leave a blob
that holds the wrong bytes under a valid name, and `verify --deep` can prove every blob by
re-hashing it.

Durability rules, in the order a commit runs:

1. the download streams into `store/tmp/<key>.part` (same filesystem as the blobs, so the
   final step is a rename, never a copy);
2. `commit` fsyncs the part, makes it read-only, and publishes it with `os.link` (which fails
   if the blob already exists: the atomic "create if absent" that makes dedupe race-free
   between workers), then removes the part and fsyncs the directory;
3. friendly links and sidecars are written to a temp name and renamed over the old one, so a
   reader sees the old file or the new one, never half of either.

`commit` trusts the caller's sha256 (it was computed while streaming; hashing 200 MB again
would double the CPU per download) but re-checks the size when the caller passes it.
`verify(deep=True)` is where hashes are re-proved.

A full disk (ENOSPC/EDQUOT, or EFBIG from a file-size limit) raises `StoreError` with a
one-line "free space and rerun" message; no blob is left behind (a `.part` may stay and is
reused or reaped later).
"""

from __future__ import annotations

import contextlib
import errno
import hashlib
import json
import os
import re
import shutil
import time
import uuid
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from . import __version__
from .errors import StoreError
from .ids import WorkIds, slug

__all__ = [
    "SIDECAR_KEYS",
    "Blob",
    "Store",
    "VerifyReport",
    "atomic_write_bytes",
    "fsync_dir",
    "validators_path",
]

_SHA_RE = re.compile(r"^[0-9a-f]{64}$")
_EXT_RE = re.compile(r"^[a-z0-9]{1,10}$")
# EFBIG: a file-size limit (RLIMIT_FSIZE, a quota'd container, FAT32) is the same story.
_FULL_DISK = frozenset({errno.ENOSPC, errno.EDQUOT, errno.EFBIG})
_HASH_CHUNK = 1 << 20

# The sidecar's keys, in the order they are written (DESIGN §5 provenance).
SIDECAR_KEYS = (
    "ids",
    "source",
    "url",
    "final_url",
    "version",
    "license",
    "technique",
    "sha256",
    "size",
    "format",
    "identity_verified",
    "fetched_at",
    "oafetch",
)


def validators_path(part: Path) -> Path:
    """Where the resume validators of a `.part` live (`x.part` -> `x.part.json`)."""
    return part.with_name(part.name + ".json")


def _disk_error(exc: OSError, what: str) -> StoreError:
    if exc.errno in _FULL_DISK:
        return StoreError(
            f"disk full while writing {what}: free space and rerun; nothing was committed"
        )
    return StoreError(f"cannot write {what}: {exc.strerror or exc}")


def fsync_dir(path: Path) -> None:
    """Make a rename/link in `path` durable (a no-op where directories can't be opened)."""
    try:
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_DIRECTORY", 0))
    except OSError:
        return
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _write_all(fd: int, data: bytes) -> None:
    view = memoryview(data)
    while view:
        written = os.write(fd, view)
        view = view[written:]


def atomic_write_bytes(path: Path, data: bytes) -> None:
    """Write `data` to `path` via temp + fsync + rename: readers never see a torn file."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{uuid.uuid4().hex[:8]}.tmp")
    try:
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o644)
        try:
            _write_all(fd, data)
            os.fsync(fd)
        finally:
            os.close(fd)
        os.replace(tmp, path)
    except OSError as exc:
        with contextlib.suppress(OSError):
            tmp.unlink()
        raise _disk_error(exc, str(path)) from exc
    fsync_dir(path.parent)


def _sha256_file(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        while chunk := fh.read(_HASH_CHUNK):
            digest.update(chunk)
    return digest.hexdigest()


@dataclass(frozen=True, slots=True)
class Blob:
    """One stored artifact, as found on disk."""

    sha256: str
    ext: str
    path: Path


@dataclass(slots=True)
class VerifyReport:
    """What `Store.verify` found; `ok` is what `oafetch verify` turns into its exit code."""

    checked: int = 0
    missing: list[str] = field(default_factory=list)  # sha256 expected but no blob
    corrupt: list[Path] = field(default_factory=list)  # wrong size, or hash != name (deep)
    orphans: list[Path] = field(default_factory=list)  # blobs nobody expects
    strays: list[Path] = field(default_factory=list)  # files in the blob tree with bad names

    @property
    def ok(self) -> bool:
        return not (self.missing or self.corrupt or self.orphans or self.strays)


class Store:
    """Layout under `root`:

    store/sha256/ab/abcdef….pdf    the blobs, named by their hash, written once
    store/tmp/<key>.part            in-progress downloads (+ .part.json validators)
    by-id/<slug>.<ext>              friendly hard link (symlink fallback) per work
    by-id/<slug>.json               the sidecar with provenance
    """

    def __init__(self, root: Path) -> None:
        self.root = root
        self.blobs_dir = root / "store" / "sha256"
        self.tmp_dir = root / "store" / "tmp"
        self.by_id_dir = root / "by-id"

    # ---- paths -------------------------------------------------------------------------

    def part_path(self, job_key: str, url: str) -> Path:
        """The `.part` for one (job, url): stable across runs so a retry finds it to resume."""
        digest = hashlib.sha256(f"{job_key}\x00{url}".encode()).hexdigest()[:32]
        self.tmp_dir.mkdir(parents=True, exist_ok=True)
        return self.tmp_dir / f"{digest}.part"

    def blob_path(self, sha256: str, ext: str) -> Path:
        if not _SHA_RE.match(sha256):
            raise StoreError(f"not a lower-case sha256 hex digest: {sha256!r}")
        if not _EXT_RE.match(ext):
            raise StoreError(f"not a plain file extension: {ext!r}")
        return self.blobs_dir / sha256[:2] / f"{sha256}.{ext}"

    def friendly_path(self, ids: WorkIds, ext: str) -> Path:
        return self.by_id_dir / f"{slug(ids)}.{ext}"

    def sidecar_path(self, ids: WorkIds) -> Path:
        return self.by_id_dir / f"{slug(ids)}.json"

    # ---- writing -----------------------------------------------------------------------

    def commit(
        self, part: Path, sha256: str, ext: str, *, size: int | None = None
    ) -> tuple[Path, bool]:
        """fsync + atomic publish of `part` as the blob `sha256`; returns (blob, existed_before).

        `existed_before=True` means the same bytes were already stored (DEDUPED); the part is
        then removed. An existing blob whose size differs from the part is treated as damaged
        and replaced. `size`, when given, must equal the part's size (a cheap guard against
        committing a part that changed after it was hashed).
        """
        blob = self.blob_path(sha256, ext)
        try:
            part_size = part.stat().st_size
        except FileNotFoundError as exc:
            raise StoreError(f"nothing to commit: {part} does not exist") from exc
        if size is not None and size != part_size:
            raise StoreError(f"{part} has {part_size} bytes, expected {size}: not committed")
        try:
            if blob.exists():
                if blob.stat().st_size == part_size:
                    self.remove_part(part)
                    return blob, True
                blob.unlink()  # damaged: same name, wrong size
            fd = os.open(part, os.O_RDONLY)
            try:
                os.fsync(fd)
            finally:
                os.close(fd)
            os.chmod(part, 0o444)
            blob.parent.mkdir(parents=True, exist_ok=True)
            existed = self._publish(part, blob)
            self.remove_part(part)
            fsync_dir(blob.parent)
        except OSError as exc:
            raise _disk_error(exc, f"blob {blob.name}") from exc
        return blob, existed

    @staticmethod
    def _publish(part: Path, blob: Path) -> bool:
        """Link the part into place; True if another writer got there first."""
        try:
            os.link(part, blob)
        except FileExistsError:
            return True
        except OSError as exc:
            if exc.errno in _FULL_DISK:
                raise
            os.replace(part, blob)  # filesystem without hard links: rename is still atomic
        return False

    def remove_part(self, part: Path) -> None:
        """Delete a `.part` and its validators (missing files are fine)."""
        for path in (part, validators_path(part)):
            with contextlib.suppress(FileNotFoundError):
                path.unlink()

    def link_friendly(self, ids: WorkIds, blob: Path, ext: str) -> Path:
        """Point `by-id/<slug>.<ext>` at `blob`: hard link, else relative symlink, else copy.

        The new link is made under a temp name and renamed over the old one, so the friendly
        path always names a complete file.
        """
        dest = self.friendly_path(ids, ext)
        self.by_id_dir.mkdir(parents=True, exist_ok=True)
        tmp = dest.with_name(f".{dest.name}.{uuid.uuid4().hex[:8]}.tmp")
        try:
            try:
                os.link(blob, tmp)
            except OSError as exc:
                if exc.errno in _FULL_DISK:
                    raise
                try:
                    os.symlink(os.path.relpath(blob, dest.parent), tmp)
                except OSError:
                    shutil.copyfile(blob, tmp)
            os.replace(tmp, dest)
        except OSError as exc:
            with contextlib.suppress(OSError):
                tmp.unlink()
            raise _disk_error(exc, str(dest)) from exc
        fsync_dir(self.by_id_dir)
        return dest

    def write_sidecar(self, ids: WorkIds, provenance: Mapping[str, Any]) -> Path:
        """Write `by-id/<slug>.json` atomically: the provenance of the work's stored file.

        Keys are `SIDECAR_KEYS` (absent ones are null; `fetched_at` defaults to now, UTC);
        extra provenance keys are kept after them rather than dropped.
        """
        record: dict[str, Any] = {k: provenance.get(k) for k in SIDECAR_KEYS}
        record["ids"] = ids.as_dict()
        record["oafetch"] = __version__
        if not record["fetched_at"]:
            record["fetched_at"] = datetime.now(UTC).isoformat(timespec="seconds")
        for key, value in provenance.items():
            record.setdefault(key, value)
        data = json.dumps(record, indent=2, sort_keys=False, default=str).encode() + b"\n"
        dest = self.sidecar_path(ids)
        atomic_write_bytes(dest, data)
        return dest

    # ---- inspection, for reconcile / verify / gc ---------------------------------------

    def iter_blobs(self) -> Iterator[Blob]:
        """Every well-named blob (`<sha256>.<ext>` in its `ab/` shard)."""
        for path, ok in self._walk_blob_tree():
            if ok:
                sha, _, ext = path.name.partition(".")
                yield Blob(sha, ext, path)

    def _walk_blob_tree(self) -> Iterator[tuple[Path, bool]]:
        if not self.blobs_dir.is_dir():
            return
        for shard in sorted(self.blobs_dir.iterdir()):
            if not shard.is_dir():
                yield shard, False
                continue
            for path in sorted(shard.iterdir()):
                sha, dot, ext = path.name.partition(".")
                ok = bool(
                    dot and _SHA_RE.match(sha) and _EXT_RE.match(ext) and sha[:2] == shard.name
                )
                yield path, ok and path.is_file()

    def iter_parts(self) -> Iterator[Path]:
        """Every in-progress `.part` (its validators file is not listed separately)."""
        if self.tmp_dir.is_dir():
            yield from sorted(self.tmp_dir.glob("*.part"))

    def stale_parts(self, older_than_s: float, *, now: float | None = None) -> list[Path]:
        """Parts neither written nor checkpointed for `older_than_s` (wall clock, mtime)."""
        current = time.time() if now is None else now
        stale = []
        for part in self.iter_parts():
            mtimes = [part.stat().st_mtime]
            meta = validators_path(part)
            if meta.exists():
                mtimes.append(meta.stat().st_mtime)
            if current - max(mtimes) > older_than_s:
                stale.append(part)
        return stale

    def verify(self, expected: Mapping[str, int] | None = None, deep: bool = False) -> VerifyReport:
        """Check the blob tree against `expected` (sha256 -> size, from the ledger).

        Without `expected` only self-consistency is checked (names; hashes when `deep`).
        """
        report = VerifyReport()
        seen: set[str] = set()
        for path, ok in self._walk_blob_tree():
            if not ok:
                report.strays.append(path)
                continue
            report.checked += 1
            sha = path.name.partition(".")[0]
            seen.add(sha)
            size = path.stat().st_size
            if expected is not None and sha not in expected:
                report.orphans.append(path)
            elif (expected is not None and expected[sha] != size) or (
                deep and _sha256_file(path) != sha
            ):
                report.corrupt.append(path)
        if expected is not None:
            report.missing.extend(sorted(set(expected) - seen))
        return report

    def remove_orphans(self, known: set[str]) -> list[Path]:
        """Delete blobs whose sha256 is not in `known`; returns what was removed."""
        removed = []
        for blob in list(self.iter_blobs()):
            if blob.sha256 not in known:
                blob.path.unlink()
                removed.append(blob.path)
        return removed
