"""The `faults` host: every named misbehaviour really happens on the wire."""

from __future__ import annotations

import socket
import time
from email.utils import parsedate_to_datetime

import httpx
import pytest

from oafetch.simweb import SimWeb


@pytest.fixture()
def client() -> httpx.Client:
    with httpx.Client(timeout=10) as c:
        yield c


def test_range_returns_exactly_the_requested_bytes(
    faults_web: SimWeb, client: httpx.Client
) -> None:
    url = faults_web.url("faults", "/bytes?size=5000&seed=9")
    full = client.get(url)
    assert full.status_code == 200 and len(full.content) == 5000
    assert full.headers["accept-ranges"] == "bytes"
    etag, lm = full.headers["etag"], full.headers["last-modified"]
    part = client.get(url, headers={"Range": "bytes=100-199"})
    assert part.status_code == 206
    assert part.content == full.content[100:200]
    assert part.headers["content-range"] == "bytes 100-199/5000"
    tail = client.get(url, headers={"Range": "bytes=-10"})
    assert tail.content == full.content[-10:]
    open_end = client.get(url, headers={"Range": "bytes=4990-", "If-Range": etag})
    assert open_end.status_code == 206 and open_end.content == full.content[4990:]
    by_date = client.get(url, headers={"Range": "bytes=0-0", "If-Range": lm})
    assert by_date.status_code == 206 and by_date.content == full.content[:1]
    stale = client.get(url, headers={"Range": "bytes=0-9", "If-Range": '"other"'})
    assert stale.status_code == 200 and stale.content == full.content
    beyond = client.get(url, headers={"Range": "bytes=6000-"})
    assert beyond.status_code == 416 and beyond.headers["content-range"] == "bytes */5000"
    assert client.get(url, headers={"If-None-Match": etag}).status_code == 304
    other = client.get(faults_web.url("faults", "/bytes?size=5000&seed=10"))
    assert other.headers["etag"] != etag and other.content != full.content


def test_pdf_endpoint_serves_a_pdf_with_ranges(faults_web: SimWeb, client: httpx.Client) -> None:
    url = faults_web.url("faults", "/pdf?size=30000&title=Hello%20world&doi=10.1/x&seed=1")
    full = client.get(url)
    assert full.headers["content-type"] == "application/pdf"
    assert full.content.startswith(b"%PDF-") and b"%%EOF" in full.content[-64:]
    assert abs(len(full.content) - 30000) < 2000
    assert client.get(url, headers={"Range": "bytes=5-9"}).content == full.content[5:10]


def test_drip_is_really_slow(faults_web: SimWeb, client: httpx.Client) -> None:
    t0 = time.monotonic()
    r = client.get(faults_web.url("faults", "/drip?size=6&bps=4"))
    took = time.monotonic() - t0
    assert r.status_code == 200 and len(r.content) == 6
    assert took >= 1.0, f"6 bytes at 4 B/s took only {took:.2f}s"


def test_drip_can_be_cut_by_a_read_timeout(faults_web: SimWeb) -> None:
    url = faults_web.url("faults", "/drip?size=100&bps=1&seed=77")
    with pytest.raises(httpx.ReadTimeout):
        httpx.get(url, timeout=httpx.Timeout(5, read=0.5))
    # The abandoned response is still logged once the server notices, with what it sent.
    recs: list[dict[str, object]] = []
    deadline = time.monotonic() + 10
    while not recs and time.monotonic() < deadline:
        time.sleep(0.2)
        recs = [r for r in faults_web.requests() if r["query"] == "size=100&bps=1&seed=77"]
    assert recs and recs[0]["aborted"] is True
    assert isinstance(recs[0]["bytes"], int) and 1 <= recs[0]["bytes"] < 100


def test_reset_after_closes_then_completes_and_resumes(
    faults_web: SimWeb, client: httpx.Client
) -> None:
    url = faults_web.url("faults", "/reset-after?size=20000&after=1500&key=resume-1")
    got = bytearray()
    with pytest.raises(httpx.RemoteProtocolError), client.stream("GET", url) as r:
        assert r.status_code == 200 and r.headers["content-length"] == "20000"
        etag = r.headers["etag"]
        for chunk in r.iter_raw():
            got += chunk
    assert len(got) == 1500, "exactly `after` body bytes arrive before the close"
    rest = client.get(url, headers={"Range": f"bytes={len(got)}-", "If-Range": etag})
    assert rest.status_code == 206
    whole = client.get(url).content
    assert bytes(got) + rest.content == whole and len(whole) == 20000


def test_reset_after_rst_variant(faults_web: SimWeb, client: httpx.Client) -> None:
    url = faults_web.url("faults", "/reset-after?size=50000&after=10&key=rst-1&rst=1")
    with pytest.raises((httpx.RemoteProtocolError, httpx.ReadError)):
        client.get(url)
    assert len(client.get(url).content) == 50000


def test_truncate_sends_fewer_bytes_than_promised(faults_web: SimWeb) -> None:
    port = faults_web.ports["faults"]
    with socket.create_connection(("127.0.0.1", port), timeout=5) as s:
        s.sendall(b"GET /truncate?size=1000&send=123 HTTP/1.1\r\nHost: x\r\n\r\n")
        data = b""
        while chunk := s.recv(65536):
            data += chunk
    head, _, body = data.partition(b"\r\n\r\n")
    assert b"Content-Length: 1000" in head
    assert len(body) == 123


def test_sequence_and_reset(faults_web: SimWeb, client: httpx.Client) -> None:
    url = faults_web.url("faults", "/sequence/seq-a?codes=429,503,200&retry_after=2")
    first = client.get(url)
    assert first.status_code == 429 and first.headers["retry-after"] == "2"
    assert client.get(url).status_code == 503
    third = client.get(url)
    assert third.status_code == 200 and third.content.startswith(b"%PDF-")
    assert client.get(url).status_code == 200, "after the sequence: the last code"
    faults_web.reset()
    assert client.get(url).status_code == 429, "reset starts the sequence again"


def test_retry_after_http_date(faults_web: SimWeb, client: httpx.Client) -> None:
    url = faults_web.url("faults", "/retry-after-date/rad-1?secs=30")
    r = client.get(url)
    assert r.status_code == 429
    when = parsedate_to_datetime(r.headers["retry-after"]).timestamp()
    assert 20 < when - time.time() <= 31
    assert client.get(url).status_code == 200


def test_redirects(faults_web: SimWeb, client: httpx.Client) -> None:
    r = client.get(faults_web.url("faults", "/redirect/3"), follow_redirects=True)
    assert r.status_code == 200 and len(r.history) == 3 and r.content.startswith(b"%PDF-")
    with httpx.Client(max_redirects=6, timeout=5) as c, pytest.raises(httpx.TooManyRedirects):
        c.get(faults_web.url("faults", "/redirect-loop"), follow_redirects=True)
    hop = client.get(faults_web.url("faults", "/redirect-loop"))
    assert hop.status_code == 302 and hop.headers["location"] == "/redirect-loop/b"


def test_gzip_wrong_type_cloudflare_status(faults_web: SimWeb, client: httpx.Client) -> None:
    g = client.get(faults_web.url("faults", "/gzip?size=5000"))
    assert g.headers["content-encoding"] == "gzip" and len(g.content) == 5000
    assert int(g.headers["content-length"]) < 5000
    w = client.get(faults_web.url("faults", "/wrong-type"))
    assert w.headers["content-type"] == "application/pdf" and w.content.startswith(
        b"<!DOCTYPE html>"
    )
    cf = client.get(faults_web.url("faults", "/cloudflare"))
    assert cf.status_code == 403
    for marker in (
        "<title>Just a moment...</title>",
        "_cf_chl_opt",
        "/cdn-cgi/challenge-platform/",
    ):
        assert marker in cf.text
    assert client.get(faults_web.url("faults", "/status/503")).status_code == 503
    assert client.get(faults_web.url("faults", "/status/abc")).status_code == 400
    assert client.get(faults_web.url("faults", "/robots.txt")).status_code == 200


def test_head_has_headers_but_no_body(faults_web: SimWeb, client: httpx.Client) -> None:
    r = client.head(faults_web.url("faults", "/bytes?size=777"))
    assert r.status_code == 200 and r.headers["content-length"] == "777" and r.content == b""
    assert client.get(faults_web.url("faults", "/bytes?size=777")).status_code == 200


def test_delay_delays(faults_web: SimWeb, client: httpx.Client) -> None:
    t0 = time.monotonic()
    assert client.get(faults_web.url("faults", "/delay?ms=400")).status_code == 200
    assert time.monotonic() - t0 >= 0.35


def test_robots_5xx_flag(tmp_path) -> None:  # type: ignore[no-untyped-def]
    with SimWeb(tmp_path, works=1, profile="bench", robots_5xx=True) as web:
        assert httpx.get(web.url("faults", "/robots.txt")).status_code == 503
        assert httpx.get(web.url("publisher1", "/robots.txt")).status_code == 200


def test_control_requests_are_not_logged(faults_web: SimWeb) -> None:
    faults_web.reset()
    assert not [r for r in faults_web.requests() if r["path"].startswith("/_control")]
