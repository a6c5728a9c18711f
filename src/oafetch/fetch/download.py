"""Stream one URL to a `.part` file while hashing; resume with Range + If-Range (DESIGN §5).

Why this shape: a body is never held in memory (sha256 and size are computed while the
bytes go to disk), a TOTAL deadline bounds the whole download (a server dripping one byte a
second still ends), and an interrupted download keeps its `.part` plus a validators file
(`<part>.json`: url, etag, last_modified, total, bytes, encoding) so the next attempt asks
only for the missing bytes.

Resume protocol: with a `.part` and validators for the same URL, the request carries
`Range: bytes=N-`, `If-Range: <strong ETag, else Last-Modified>` and
`Accept-Encoding: identity`. Then

- 206 whose `Content-Range` starts at N (identity-encoded): the existing N bytes are
  re-hashed from disk and the rest appended; `resumed=True`;
- 200 (the validator no longer matches, or the server ignores Range): truncate, restart;
- 416, or a 206 that does not fit: drop the part and ask again once without `Range`.

A gzip/deflate/br body is decoded (`aiter_bytes`): the file and the hash hold the DECODED
bytes and `max_bytes` counts decoded bytes, so a compression bomb is stopped; its length is
never compared with Content-Length (that counts encoded bytes). Decoded bytes cannot be
resumed by byte range, so such a part is restarted.

Conditional re-validation: `validators={"etag": …, "last_modified": …}` sends
`If-None-Match` / `If-Modified-Since`; a 304 returns `not_modified=True` and writes nothing.

What is raised for what (the cascade maps classes and `status` to failure classes):

    404, 410, other 4xx (401, 403, 451, …)   NetError(status=code)      (404/410 drop the part)
    408, 5xx                                  TransientNetError(status=code)
    429                                       RateLimited(status=429, retry_at=<Retry-After>)
    204, 205, 3xx reaching us, stray 206/304  NetError(status=code)
    connection reset / truncated body          TransientNetError (part + validators kept)
    undecodable gzip body                     TransientNetError (part dropped)
    too many redirects / loop                 RedirectPathology
    body or Content-Length > max_bytes        DownloadTooLarge (part dropped)
    total deadline passed                     DownloadDeadline (part + validators kept)
    disk full / unwritable                    StoreError (part kept)
    task cancelled                            CancelledError (part + validators kept)

Before returning, the part is fsynced and its validators file removed: what remains is a
complete body for `Store.commit`, which publishes it.
"""

from __future__ import annotations

import asyncio
import contextlib
import errno
import hashlib
import json
import os
import re
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass
from email.utils import parsedate_to_datetime
from pathlib import Path
from typing import Any

import httpx

from ..errors import (
    DownloadDeadline,
    DownloadTooLarge,
    NetError,
    RateLimited,
    RedirectPathology,
    StoreError,
    TransientNetError,
)
from ..net.client import HttpClient, Role
from ..store import atomic_write_bytes, validators_path

__all__ = ["HEAD_BYTES", "DownloadResult", "download"]

HEAD_BYTES = 64 * 1024
# fsync + validators rewrite interval while streaming: whichever comes first. A SIGKILL
# loses at most this much resume progress; small artifacts never checkpoint mid-body.
_CHECKPOINT_EVERY = 1024 * 1024
_CHECKPOINT_SECONDS = 1.0
_CONTENT_RANGE = re.compile(r"^\s*bytes\s+(\d+)-(\d+)/(\d+|\*)\s*$", re.IGNORECASE)


@dataclass(frozen=True, slots=True)
class DownloadResult:
    part_path: Path
    sha256: str  # "" when not_modified
    size: int  # bytes in the part file (decoded), including resumed bytes
    status: int
    content_type: str | None
    final_url: str
    resumed: bool  # True only when a 206 was appended to existing bytes
    head: bytes  # the first 64 KiB of the body, for classification
    etag: str | None = None
    last_modified: str | None = None
    not_modified: bool = False
    content_encoding: str | None = None  # None for identity
    fetched: int = 0  # body bytes received by this call (decoded)


@dataclass(slots=True)
class _PartState:
    """The validators file next to a `.part`."""

    url: str
    etag: str | None
    last_modified: str | None
    total: int | None
    bytes: int
    encoding: str | None

    def if_range(self) -> str | None:
        """If-Range needs a strong ETag (RFC 9110 §13.1.5), else a Last-Modified date."""
        if self.etag and not self.etag.startswith("W/"):
            return self.etag
        return self.last_modified


class _Restart(Exception):
    """The resume request cannot be used; drop the part and ask once more without Range."""


def _load_state(part: Path, url: str) -> _PartState | None:
    """The resumable state of `part`, or None (missing, other URL, encoded, no validator)."""
    try:
        raw: dict[str, Any] = json.loads(validators_path(part).read_bytes())
        state = _PartState(
            url=str(raw["url"]),
            etag=raw.get("etag"),
            last_modified=raw.get("last_modified"),
            total=raw.get("total"),
            bytes=int(raw.get("bytes") or 0),
            encoding=raw.get("encoding"),
        )
        on_disk = part.stat().st_size
    except (OSError, ValueError, TypeError, KeyError):
        return None
    if state.url != url or state.encoding or not state.if_range():
        return None
    state.bytes = min(state.bytes, on_disk)
    if state.bytes <= 0:
        return None
    return state


def _save_state(part: Path, state: _PartState) -> None:
    atomic_write_bytes(validators_path(part), json.dumps(asdict(state)).encode())


def _drop_part(part: Path) -> None:
    for path in (part, validators_path(part)):
        with contextlib.suppress(FileNotFoundError):
            path.unlink()


def _retry_at(value: str | None) -> float:
    """Retry-After (delta-seconds or HTTP-date) as a wall-clock UNIX time; 0 if absent."""
    if not value:
        return 0.0
    value = value.strip()
    if value.isdigit():
        return time.time() + int(value)
    try:
        return parsedate_to_datetime(value).timestamp()
    except (TypeError, ValueError):
        return 0.0


def _status_error(response: httpx.Response, url: str) -> NetError:
    code = response.status_code
    message = f"HTTP {code} for the artifact"
    if code == 429:
        retry = _retry_at(response.headers.get("retry-after"))
        return RateLimited(message, url=url, status=code, retry_at=retry)
    if code == 408 or code >= 500:
        return TransientNetError(message, url=url, status=code)
    return NetError(message, url=url, status=code)


async def _read_head(response: httpx.Response, limit: int = HEAD_BYTES) -> bytes:
    head = bytearray()
    with contextlib.suppress(httpx.HTTPError):
        async for chunk in response.aiter_bytes():
            head += chunk
            if len(head) >= limit:
                break
    return bytes(head[:limit])


def _rehash(part: Path, length: int) -> tuple[Any, bytes]:
    """Hash the first `length` bytes already on disk (streamed, off the event loop)."""
    digest = hashlib.sha256()
    head = bytearray()
    with part.open("rb") as fh:
        left = length
        while left > 0:
            chunk = fh.read(min(left, 1 << 20))
            if not chunk:
                raise OSError(errno.EIO, f"{part} is shorter than its validators say")
            digest.update(chunk)
            if len(head) < HEAD_BYTES:
                head += chunk[: HEAD_BYTES - len(head)]
            left -= len(chunk)
    return digest, bytes(head)


def _write_all(fd: int, data: bytes) -> None:
    view = memoryview(data)
    while view:
        view = view[os.write(fd, view) :]


class _Download:
    """One call of `download`: the request loop and the streaming of one response."""

    def __init__(
        self,
        client: HttpClient,
        url: str,
        part: Path,
        *,
        max_bytes: int,
        deadline_s: float,
        on_bytes: Callable[[int], None] | None,
        clock: Callable[[], float],
        validators: dict[str, str | None] | None,
    ) -> None:
        self.client = client
        self.url = url
        self.part = part
        self.max_bytes = max_bytes
        self.deadline_s = deadline_s
        self.on_bytes = on_bytes
        self.clock = clock
        self.validators = validators
        self.started = clock()

    async def run(self) -> DownloadResult:
        state = _load_state(self.part, self.url)
        for _ in range(2):
            try:
                async with self.client.stream(
                    self.url, role=Role.ARTIFACT, headers=self._headers(state)
                ) as response:
                    return await self._handle(response, state)
            except _Restart:
                _drop_part(self.part)
                state = None
            except httpx.TooManyRedirects as exc:
                raise RedirectPathology(str(exc), url=self.url) from exc
            except httpx.DecodingError as exc:
                _drop_part(self.part)
                raise TransientNetError(f"undecodable body: {exc}", url=self.url) from exc
        raise NetError("the server refused the resume and the plain request", url=self.url)

    def _headers(self, state: _PartState | None) -> dict[str, str]:
        headers: dict[str, str] = {}
        if state is not None:
            headers["Range"] = f"bytes={state.bytes}-"
            headers["If-Range"] = state.if_range() or ""
            headers["Accept-Encoding"] = "identity"  # byte offsets of the decoded file
        if self.validators:
            if etag := self.validators.get("etag"):
                headers["If-None-Match"] = etag
            if modified := self.validators.get("last_modified"):
                headers["If-Modified-Since"] = modified
        return headers

    async def _handle(self, response: httpx.Response, state: _PartState | None) -> DownloadResult:
        code = response.status_code
        offset = state.bytes if state is not None else 0
        if code == 304 and self.validators:
            return self._result(response, "", 0, b"", resumed=False, not_modified=True)
        if code == 416 and state is not None:
            raise _Restart
        if code == 206 and state is not None:
            total = self._check_content_range(response, offset)
        elif 200 <= code < 300 and code not in (204, 205, 206):
            offset, total = 0, None
        else:
            if code in (404, 410):
                _drop_part(self.part)
            error = _status_error(response, self.url)
            if 400 <= code < 500 and code != 429:
                # Keep the start of an error page: a 403 is often a bot wall or a login page.
                error.head = await _read_head(response)
            raise error
        return await self._stream(response, offset, total, state)

    def _check_content_range(self, response: httpx.Response, offset: int) -> int | None:
        """Accept a 206 only if it continues exactly where our bytes end."""
        match = _CONTENT_RANGE.match(response.headers.get("content-range", ""))
        encoding = response.headers.get("content-encoding", "identity").lower()
        if not match or int(match.group(1)) != offset or encoding not in ("", "identity"):
            raise _Restart
        return None if match.group(3) == "*" else int(match.group(3))

    def _encoding(self, response: httpx.Response) -> str | None:
        value = response.headers.get("content-encoding", "").strip().lower()
        return None if value in ("", "identity") else value

    def _refuse_early(self, response: httpx.Response, offset: int, total: int | None) -> None:
        declared = total
        if declared is None and self._encoding(response) is None:
            length = response.headers.get("content-length", "")
            declared = offset + int(length) if length.isdigit() else None
        if declared is not None and declared > self.max_bytes:
            _drop_part(self.part)
            raise DownloadTooLarge(
                f"the server announces {declared} bytes, over max_bytes={self.max_bytes}",
                url=self.url,
            )

    async def _stream(
        self,
        response: httpx.Response,
        offset: int,
        total: int | None,
        previous: _PartState | None,
    ) -> DownloadResult:
        self._refuse_early(response, offset, total)
        encoding = self._encoding(response)
        if total is None and encoding is None:
            length = response.headers.get("content-length", "")
            total = offset + int(length) if length.isdigit() else None
        # A 206 may omit the validators; the ones that got us the 206 still hold.
        kept = previous if offset and previous is not None else None
        state = _PartState(
            url=self.url,
            etag=response.headers.get("etag") or (kept.etag if kept else None),
            last_modified=response.headers.get("last-modified")
            or (kept.last_modified if kept else None),
            total=total,
            bytes=offset,
            encoding=encoding,
        )
        try:
            if offset:
                digest, head = await asyncio.to_thread(_rehash, self.part, offset)
                fd = os.open(self.part, os.O_RDWR)
                try:
                    os.ftruncate(fd, offset)
                    os.lseek(fd, offset, os.SEEK_SET)
                except OSError:
                    os.close(fd)
                    raise
            else:
                digest, head = hashlib.sha256(), b""
                self.part.parent.mkdir(parents=True, exist_ok=True)
                fd = os.open(self.part, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
        except OSError as exc:
            raise _store_error(exc, self.part) from exc
        return await self._copy_body(response, fd, digest, bytearray(head), state)

    async def _copy_body(
        self,
        response: httpx.Response,
        fd: int,
        digest: Any,
        head: bytearray,
        state: _PartState,
    ) -> DownloadResult:
        resumed_from = state.bytes
        size, fetched, since_checkpoint = resumed_from, 0, 0
        last_checkpoint = self.clock()
        keep = True  # keep part + validators on failure, so the next attempt resumes
        done = False
        try:
            if state.bytes:
                # A fresh part (0 bytes) is not resumable (`_load_state` ignores bytes <= 0),
                # so its validators are first written at the first checkpoint or on failure:
                # that spares a small artifact a write + 2 fsyncs + rename + unlink.
                _save_state(self.part, state)
            async for chunk in response.aiter_bytes():
                if size + len(chunk) > self.max_bytes:
                    keep = False  # it will not get smaller next time
                    raise DownloadTooLarge(f"body passed max_bytes={self.max_bytes}", url=self.url)
                if self.clock() - self.started > self.deadline_s:
                    raise DownloadDeadline(
                        f"download passed its total deadline of {self.deadline_s:g}s",
                        url=self.url,
                    )
                self._disk(_write_all, fd, chunk)
                digest.update(chunk)
                if len(head) < HEAD_BYTES:
                    head += chunk[: HEAD_BYTES - len(head)]
                size += len(chunk)
                fetched += len(chunk)
                since_checkpoint += len(chunk)
                if self.on_bytes is not None:
                    self.on_bytes(len(chunk))
                if since_checkpoint >= _CHECKPOINT_EVERY or (
                    self.clock() - last_checkpoint >= _CHECKPOINT_SECONDS
                ):
                    self._disk(os.fsync, fd)
                    state.bytes, since_checkpoint = size, 0
                    last_checkpoint = self.clock()
                    _save_state(self.part, state)
            if state.encoding is None and state.total is not None and size != state.total:
                raise TransientNetError(
                    f"body ended at {size} of {state.total} bytes", url=self.url
                )
            self._disk(os.fsync, fd)
            done = True
        finally:
            os.close(fd)
            self._finish(state, size, done=done, keep=keep)
        return self._result(
            response,
            digest.hexdigest(),
            size,
            bytes(head),
            resumed=bool(resumed_from),
            state=state,
            fetched=fetched,
        )

    def _disk(self, op: Callable[..., Any], *args: Any) -> None:
        """Run one file operation; a failing disk becomes a StoreError, never a NetError."""
        try:
            op(*args)
        except OSError as exc:
            raise _store_error(exc, self.part) from exc

    def _finish(self, state: _PartState, size: int, *, done: bool, keep: bool) -> None:
        """On success drop the validators; on failure checkpoint them (or drop the part).

        Runs on every exit, including cancellation and the deadline, so the next attempt
        can resume from the bytes already on disk.
        """
        if done:
            with contextlib.suppress(FileNotFoundError):
                validators_path(self.part).unlink()
        elif not keep:
            _drop_part(self.part)
        else:
            state.bytes = size
            with contextlib.suppress(StoreError):
                _save_state(self.part, state)

    def _result(
        self,
        response: httpx.Response,
        sha256: str,
        size: int,
        head: bytes,
        *,
        resumed: bool,
        not_modified: bool = False,
        state: _PartState | None = None,
        fetched: int = 0,
    ) -> DownloadResult:
        return DownloadResult(
            part_path=self.part,
            sha256=sha256,
            size=size,
            status=response.status_code,
            content_type=response.headers.get("content-type"),
            final_url=str(response.url),
            resumed=resumed,
            head=head,
            etag=state.etag if state else response.headers.get("etag"),
            last_modified=state.last_modified if state else response.headers.get("last-modified"),
            not_modified=not_modified,
            content_encoding=state.encoding if state else None,
            fetched=fetched,
        )


def _store_error(exc: OSError, part: Path) -> StoreError:
    if exc.errno in (errno.ENOSPC, errno.EDQUOT, errno.EFBIG):  # EFBIG: RLIMIT_FSIZE
        return StoreError(
            f"disk full while writing {part.name}: free space and rerun; nothing was committed"
        )
    return StoreError(f"cannot write {part}: {exc.strerror or exc}")


async def download(
    client: HttpClient,
    url: str,
    part_path: Path,
    *,
    max_bytes: int,
    deadline_s: float,
    on_bytes: Callable[[int], None] | None = None,
    clock: Callable[[], float] = time.monotonic,
    validators: dict[str, str | None] | None = None,
) -> DownloadResult:
    """Download `url` into `part_path` (resuming it when possible) within `deadline_s`.

    `on_bytes(n)` is called with the size of every chunk written (for progress bars).
    `clock` is checked between chunks; the event loop's timer enforces the same deadline
    while a read is blocked, so both a stalled and a dripping server end on time.
    """
    job = _Download(
        client,
        url,
        part_path,
        max_bytes=max_bytes,
        deadline_s=deadline_s,
        on_bytes=on_bytes,
        clock=clock,
        validators=validators,
    )
    timeout = asyncio.timeout(deadline_s)
    try:
        async with timeout:
            return await job.run()
    except TimeoutError as exc:
        if not timeout.expired():
            raise
        raise DownloadDeadline(
            f"download passed its total deadline of {deadline_s:g}s", url=url
        ) from exc
