"""MetadataCache write-behind: answers are visible at once, written in batches and on close."""

from __future__ import annotations

import gzip
from pathlib import Path

import httpx

from oafetch.net import cache as cache_mod
from oafetch.net.cache import MetadataCache

URL = "http://api.example.org/works/W1"


def _gzipped_answer(body: bytes) -> httpx.Response:
    """What httpx hands us for a gzip answer: decoded content, wire headers still there."""
    raw = gzip.compress(body)
    response = httpx.Response(200, headers={"content-encoding": "gzip",
                                            "content-type": "application/json"}, content=raw)
    assert response.content == body
    return response


async def test_a_pending_answer_is_served_before_it_reaches_disk(tmp_path: Path) -> None:
    path = tmp_path / "cache.sqlite"
    cache = MetadataCache(path, ttl_s=3600)
    await cache.put(URL, _gzipped_answer(b'{"id": "W1"}'))
    hit = await cache.get(URL)
    assert hit is not None and hit.json() == {"id": "W1"}
    assert "content-encoding" not in hit.headers and hit.extensions["from_cache"] is True
    reader = MetadataCache(path, ttl_s=3600)  # another process: not on disk yet
    assert await reader.get(URL) is None
    await cache.aclose()  # close flushes
    again = await reader.get(URL)
    assert again is not None and again.json() == {"id": "W1"}
    await reader.aclose()


async def test_a_full_batch_is_written_without_waiting_for_close(tmp_path: Path) -> None:
    path = tmp_path / "cache.sqlite"
    cache = MetadataCache(path, ttl_s=3600)
    urls = [f"{URL}?page={i}" for i in range(cache_mod._FLUSH_EVERY)]
    for i, url in enumerate(urls):
        await cache.put(url, httpx.Response(200, json={"i": i}))
    reader = MetadataCache(path, ttl_s=3600)
    got = await reader.get(urls[-1])
    assert got is not None and got.json() == {"i": len(urls) - 1}
    assert await cache.get(urls[0]) is not None  # the writer reads its own flushed answers
    await reader.aclose()
    await cache.aclose()


async def test_an_existing_cache_is_read_from_disk(tmp_path: Path) -> None:
    path = tmp_path / "cache.sqlite"
    first = MetadataCache(path, ttl_s=3600)
    await first.put(URL, httpx.Response(404, json={"error": "not found"}))
    await first.aclose()
    rerun = MetadataCache(path, ttl_s=3600)  # the file existed: no shortcut to "miss"
    hit = await rerun.get(URL)
    assert hit is not None and hit.status_code == 404
    await rerun.aclose()
