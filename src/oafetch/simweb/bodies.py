"""Serving a fixed body the way a good origin does: ETag, Last-Modified, 304, Range, gzip.

Why in one function: resume (Range + If-Range), revalidation (If-None-Match) and
compression interact (a gzip body has other offsets), and every content host and fault
endpoint must agree on those rules so oafetch's download code meets one behaviour.
"""

from __future__ import annotations

import gzip
import hashlib
import re
from dataclasses import dataclass, field
from email.utils import formatdate

from .wire import Request, Response

__all__ = ["Blob", "http_date", "serve_blob"]

_RANGE = re.compile(r"^\s*bytes\s*=\s*(\d*)\s*-\s*(\d*)\s*$")


def http_date(ts: float) -> str:
    return formatdate(ts, usegmt=True)


@dataclass(slots=True)
class Blob:
    """Bytes plus their validators, computed once (bodies are cached, hashing is not free)."""

    data: bytes
    content_type: str
    mtime: float = 1_700_000_000.0
    etag: str = ""
    last_modified: str = ""
    _gz: bytes | None = field(default=None, repr=False)

    def __post_init__(self) -> None:
        if not self.etag:
            self.etag = '"' + hashlib.blake2b(self.data, digest_size=10).hexdigest() + '"'
        if not self.last_modified:
            self.last_modified = http_date(self.mtime)

    def gzipped(self) -> bytes:
        if self._gz is None:
            self._gz = gzip.compress(self.data, compresslevel=5, mtime=0)
        return self._gz


def _byte_range(spec: str, size: int) -> tuple[int, int] | bool | None:
    """(start, end inclusive), None if unparseable (ignore it), False if unsatisfiable."""
    m = _RANGE.match(spec)
    if not m:
        return None
    first, last = m.group(1), m.group(2)
    if first == "" and last == "":
        return None
    if first == "":
        n = int(last)
        if n == 0:
            return False
        return max(0, size - n), size - 1
    start = int(first)
    end = size - 1 if last == "" else min(int(last), size - 1)
    if start >= size or end < start:
        return False
    return start, end


def serve_blob(
    req: Request,
    blob: Blob,
    *,
    allow_gzip: bool = False,
    status: int = 200,
    extra: list[tuple[str, str]] | None = None,
) -> Response:
    """Answer `req` from `blob`, honouring If-None-Match, Range/If-Range and gzip."""
    headers = [
        ("Content-Type", blob.content_type),
        ("ETag", blob.etag),
        ("Last-Modified", blob.last_modified),
        ("Accept-Ranges", "bytes"),
    ]
    headers += extra or []
    inm = req.header("if-none-match")
    if (
        status == 200
        and inm is not None
        and (
            inm.strip() == "*"
            or blob.etag in inm.split(",")
            or blob.etag in [t.strip() for t in inm.split(",")]
        )
    ):
        return Response(304, [h for h in headers if h[0] != "Content-Type"])
    rng = req.header("range")
    if status == 200 and rng is not None:
        if_range = req.header("if-range")
        if if_range is None or if_range.strip() in (blob.etag, blob.last_modified):
            span = _byte_range(rng, len(blob.data))
            if span is False:
                headers.append(("Content-Range", f"bytes */{len(blob.data)}"))
                return Response(416, headers, b"")
            if span is not None and span is not True:
                start, end = span
                headers.append(("Content-Range", f"bytes {start}-{end}/{len(blob.data)}"))
                return Response(206, headers, blob.data[start : end + 1])
    if allow_gzip and "gzip" in (req.header("accept-encoding") or ""):
        headers += [("Content-Encoding", "gzip"), ("Vary", "Accept-Encoding")]
        return Response(status, headers, blob.gzipped())
    return Response(status, headers, blob.data)
