"""`download` against the real simulated web (a loopback server in its own process).

Expected hashes come from a plain httpx GET of the same URL, never from the code under test.
"""

from __future__ import annotations

import asyncio
import contextlib
import errno
import hashlib
import json
import os
import time
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from oafetch.errors import (
    DownloadDeadline,
    DownloadTooLarge,
    NetError,
    StoreError,
    TransientNetError,
)
from oafetch.fetch.download import HEAD_BYTES, download
from oafetch.net.client import ClientSettings, HttpClient
from oafetch.simweb import SimWeb
from oafetch.store import validators_path

MB = 1 << 20


@pytest.fixture(scope="module")
def web(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    with SimWeb(tmp_path_factory.mktemp("simweb"), works=1, profile="slice") as sim:
        yield sim


@pytest.fixture
async def client() -> AsyncIterator[HttpClient]:
    http = HttpClient(ClientSettings(allow_private_networks=True, read_timeout_s=10))
    try:
        yield http
    finally:
        await http.aclose()


def _truth(url: str, **headers: str) -> tuple[str, int]:
    """sha256 and length of the whole decoded body, fetched independently."""
    body = httpx.get(url, timeout=30, headers=headers).content
    return hashlib.sha256(body).hexdigest(), len(body)


def _log(web: Any, fragment: str, at_least: int = 1) -> list[dict[str, Any]]:
    """The server's log of requests whose path+query contains `fragment`, oldest first.

    The server logs a request after its last byte is written, which can be a moment after
    the client has it: poll briefly. An aborted response is never logged.
    """
    deadline = time.monotonic() + 5
    while True:
        found = [
            r for r in web.requests() if fragment in f"{r.get('path', '')}?{r.get('query', '')}"
        ]
        if len(found) >= at_least or time.monotonic() > deadline:
            return found
        time.sleep(0.05)


async def test_full_download_hash_and_size(web: Any, client: HttpClient, tmp_path: Path) -> None:
    url = web.url("faults", "/bytes?size=300000&seed=1")
    seen: list[int] = []
    result = await download(
        client, url, tmp_path / "a.part", max_bytes=MB, deadline_s=20, on_bytes=seen.append
    )
    sha, size = _truth(url)
    assert (result.sha256, result.size) == (sha, size)
    assert hashlib.sha256((tmp_path / "a.part").read_bytes()).hexdigest() == sha
    assert result.status == 200 and not result.resumed and sum(seen) == size
    assert result.head == (tmp_path / "a.part").read_bytes()[:HEAD_BYTES]
    assert result.etag  # /bytes sends an ETag
    assert not validators_path(tmp_path / "a.part").exists()


async def test_dripping_server_ends_on_the_total_deadline(
    web: Any, client: HttpClient, tmp_path: Path
) -> None:
    url = web.url("faults", "/drip?size=100&bps=1")
    started = time.monotonic()
    part = tmp_path / "d.part"
    with pytest.raises(DownloadDeadline):
        await download(client, url, part, max_bytes=MB, deadline_s=2)
    assert time.monotonic() - started < 4.5  # read timeout is 10 s: only the total deadline fits
    # what arrived is kept for a later attempt
    assert json.loads(validators_path(part).read_text())["bytes"] == part.stat().st_size > 0


async def test_stalled_server_ends_on_the_total_deadline(
    web: Any, client: HttpClient, tmp_path: Path
) -> None:
    url = web.url("faults", "/delay?ms=8000&size=10")  # no bytes at all for 8 s
    started = time.monotonic()
    with pytest.raises(DownloadDeadline):
        await download(client, url, tmp_path / "s.part", max_bytes=MB, deadline_s=1.5)
    assert time.monotonic() - started < 4


async def test_injected_clock_ends_the_download(
    web: Any, client: HttpClient, tmp_path: Path
) -> None:
    ticks = iter(range(0, 10_000, 50))  # every chunk looks 50 s later
    url = web.url("faults", "/bytes?size=600000&seed=7")
    with pytest.raises(DownloadDeadline):
        await download(
            client, url, tmp_path / "c.part", max_bytes=MB, deadline_s=60,
            clock=lambda: float(next(ticks)),
        )


async def test_max_bytes_refused_from_content_length(
    web: Any, client: HttpClient, tmp_path: Path
) -> None:
    url = web.url("faults", "/bytes?size=200000&seed=2")
    part = tmp_path / "big.part"
    with pytest.raises(DownloadTooLarge):
        await download(client, url, part, max_bytes=100_000, deadline_s=20)
    assert not part.exists()


async def test_max_bytes_counts_decoded_gzip_bytes(
    web: Any, client: HttpClient, tmp_path: Path
) -> None:
    url = web.url("faults", "/gzip?size=400000")
    part = tmp_path / "bomb.part"
    with pytest.raises(DownloadTooLarge):
        await download(client, url, part, max_bytes=100_000, deadline_s=20)
    assert not part.exists()


async def test_gzip_body_is_hashed_decoded(web: Any, client: HttpClient, tmp_path: Path) -> None:
    url = web.url("faults", "/gzip?size=200000")
    result = await download(client, url, tmp_path / "g.part", max_bytes=MB, deadline_s=20)
    sha, size = _truth(url)  # httpx decodes too
    assert result.content_encoding == "gzip"
    assert (result.sha256, result.size) == (sha, size)


@pytest.mark.parametrize("rst", ["0", "1"])
async def test_resume_after_reset_asks_only_for_missing_range(
    web: Any, client: HttpClient, tmp_path: Path, rst: str
) -> None:
    key = f"resume-{rst}"
    url = web.url("faults", f"/reset-after?size=400000&after=150000&key={key}&rst={rst}")
    part = tmp_path / "r.part"
    with pytest.raises(TransientNetError):
        await download(client, url, part, max_bytes=MB, deadline_s=20)
    kept = part.stat().st_size
    meta = json.loads(validators_path(part).read_text())
    assert meta["bytes"] == kept and meta["url"] == url
    if rst == "0":
        assert kept == 150_000  # a FIN delivers every byte sent
    else:
        assert 0 <= kept <= 150_000  # a RST may discard bytes in flight

    result = await download(client, url, part, max_bytes=MB, deadline_s=20)
    sha, size = _truth(url)
    assert result.resumed == bool(kept) and result.status == (206 if kept else 200)
    assert (result.sha256, result.size) == (sha, size)
    assert result.fetched == size - kept
    ranges = [r.get("range") for r in _log(web, f"key={key}&", 2)]
    assert ranges[:2] == [None, f"bytes={kept}-" if kept else None]


def _interrupted(part: Path, url: str, keep: int) -> None:
    """A .part holding the first `keep` bytes of `url` plus validators, as a crash leaves."""
    body = httpx.get(url, timeout=30)
    part.write_bytes(body.content[:keep])
    validators_path(part).write_text(
        json.dumps({"url": url, "etag": body.headers["etag"], "last_modified": None,
                    "total": len(body.content), "bytes": keep, "encoding": None})
    )


async def test_changed_etag_restarts_cleanly(web: Any, client: HttpClient, tmp_path: Path) -> None:
    url = web.url("faults", "/bytes?size=250000&seed=3")
    part = tmp_path / "e.part"
    _interrupted(part, url, 100_000)
    meta = json.loads(validators_path(part).read_text())
    meta["etag"] = '"an-older-version"'
    validators_path(part).write_text(json.dumps(meta))
    part.write_bytes(b"\0" * 100_000)  # bytes of the "old version"

    result = await download(client, url, part, max_bytes=MB, deadline_s=20)
    sha, size = _truth(url)
    assert result.status == 200 and not result.resumed
    assert (result.sha256, result.size) == (sha, size)
    assert hashlib.sha256(part.read_bytes()).hexdigest() == sha
    sent = [r for r in _log(web, "seed=3", 3) if r.get("range")]
    assert sent and sent[-1]["range"] == "bytes=100000-"
    assert sent[-1]["if_range"] == '"an-older-version"' and sent[-1]["status"] == 200


async def test_server_ignoring_range_restarts_cleanly(
    web: Any, client: HttpClient, tmp_path: Path
) -> None:
    url = web.url("faults", "/gzip?size=120000&seed=4")  # no Range support: answers 200
    part = tmp_path / "n.part"
    sha, _ = _truth(url)
    part.write_bytes(b"\xff" * 5000)
    validators_path(part).write_text(
        json.dumps({"url": url, "etag": '"x"', "last_modified": None,
                    "total": None, "bytes": 5000, "encoding": None})
    )
    result = await download(client, url, part, max_bytes=MB, deadline_s=20)
    assert result.status == 200 and not result.resumed
    assert result.sha256 == sha


async def test_resume_of_a_complete_part_gets_416_and_restarts(
    web: Any, client: HttpClient, tmp_path: Path
) -> None:
    url = web.url("faults", "/bytes?size=50000&seed=5")
    part = tmp_path / "f.part"
    _interrupted(part, url, 50_000)
    result = await download(client, url, part, max_bytes=MB, deadline_s=20)
    sha, size = _truth(url)
    assert (result.sha256, result.size) == (sha, size) and not result.resumed
    ranges = [r.get("range") for r in _log(web, "seed=5", 4)]
    assert "bytes=50000-" in ranges


async def test_conditional_revalidation_304(web: Any, client: HttpClient, tmp_path: Path) -> None:
    url = web.url("faults", "/bytes?size=20000&seed=6")
    first = await download(client, url, tmp_path / "v.part", max_bytes=MB, deadline_s=20)
    part = tmp_path / "v2.part"
    again = await download(
        client, url, part, max_bytes=MB, deadline_s=20, validators={"etag": first.etag}
    )
    assert again.not_modified and again.status == 304 and again.size == 0
    assert not part.exists()
    changed = await download(
        client, url, part, max_bytes=MB, deadline_s=20, validators={"etag": '"stale"'}
    )
    assert not changed.not_modified and changed.sha256 == first.sha256


async def test_dead_link_raises_net_error_with_status(
    web: Any, client: HttpClient, tmp_path: Path
) -> None:
    for code in (404, 410):
        with pytest.raises(NetError) as info:
            await download(
                client, web.url("faults", f"/status/{code}"), tmp_path / "x.part",
                max_bytes=MB, deadline_s=20,
            )
        assert type(info.value) is NetError and info.value.status == code
    with pytest.raises(TransientNetError) as info:
        await download(
            client, web.url("faults", "/status/503"), tmp_path / "y.part",
            max_bytes=MB, deadline_s=20,
        )
    assert info.value.status == 503


async def test_cancellation_keeps_part_and_validators_then_resumes(
    web: Any, client: HttpClient, tmp_path: Path
) -> None:
    url = web.url("faults", "/drip?size=200&bps=100&seed=9")
    part = tmp_path / "k.part"
    got_bytes = asyncio.Event()
    task = asyncio.create_task(
        download(
            client, url, part, max_bytes=MB, deadline_s=60, on_bytes=lambda n: got_bytes.set()
        )
    )
    await asyncio.wait_for(got_bytes.wait(), 10)
    await asyncio.sleep(0.2)
    task.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await task
    assert task.cancelled()
    kept = part.stat().st_size
    meta = json.loads(validators_path(part).read_text())
    assert 0 < kept < 200 and meta["bytes"] == kept and meta["url"] == url

    result = await download(client, url, part, max_bytes=MB, deadline_s=20)
    sha, size = _truth(web.url("faults", "/bytes?size=200&seed=9"))  # same bytes, no drip
    assert result.resumed and (result.sha256, result.size) == (sha, size)
    # Two requests reached the server: the cancelled one (no Range) and the resume, which
    # asked for exactly the missing bytes.
    drips = _log(web, "bps=100&seed=9", at_least=2)
    assert sorted(str(r["range"]) for r in drips) == sorted(["None", f"bytes={kept}-"])


async def test_disk_full_while_streaming_is_a_store_error(
    web: Any, client: HttpClient, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    url = web.url("faults", "/bytes?size=100000&seed=10")
    real_write = os.write

    def write(fd: int, data: Any) -> int:
        if len(data) > 1000:  # the body chunks, not the small validators file
            raise OSError(errno.ENOSPC, "No space left on device")
        return real_write(fd, data)

    monkeypatch.setattr(os, "write", write)
    with pytest.raises(StoreError, match="disk full"):
        await download(client, url, tmp_path / "full.part", max_bytes=MB, deadline_s=20)
