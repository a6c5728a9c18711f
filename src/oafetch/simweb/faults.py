"""The `faults` host: named endpoints that misbehave on purpose, for oafetch's network tests.

Every endpoint is deterministic given its query (and, for stateful ones, a per-key counter
that `/_control/reset` clears):

/status/{code}                     answer that status (small HTML body);
                                   `retry_after=S` adds a Retry-After header
/sequence/{key}?codes=429,429,200&retry_after=2
                                   n-th request for `key` answers the n-th code, then the last one
                                   forever; a 200 serves a PDF (`size`, `title`, `doi` as /pdf)
/retry-after-date/{key}?secs=2[&code=429]
                                   first request per key: `code` with Retry-After as an HTTP-date
                                   `secs` ahead; later requests: a PDF
/drip?size=N&bps=1                 200 with N bytes sent at `bps` bytes/s (slow loris)
/delay?ms=N[&size=N]               wait N ms before answering (latency), then bytes
/bytes?size=N&seed=S               random bytes with ETag/Last-Modified, Range/If-Range, 304
/pdf?size=N&title=T&doi=D&seed=S   a valid PDF (pdfgen) with the same validator/Range support
/reset-after?size=N&after=K&key=X[&pdf=1&rst=1]
                                   first request per key: headers (Content-Length N) + K bytes,
                                   then the socket is closed (FIN; `rst=1` for a TCP RST); later
                                   requests complete (Range/If-Range honoured: resume tests)
/truncate?size=N&send=K            Content-Length N, then close after K body bytes, every time
/redirect/{n}                      n 302 hops (to /redirect/{n-1}), then a PDF
/redirect-loop                     302 -> /redirect-loop/b -> /redirect-loop -> ... forever
/gzip?size=N                       N bytes of text sent with Content-Encoding: gzip (always)
/wrong-type                        HTML served as Content-Type: application/pdf
/cloudflare                        403 Cloudflare "Just a moment..." managed challenge
/login                             200 sign-in form (password field)
/robots.txt                        allow-all, or 503 when the server runs with --robots-5xx
/_control/reset                    clear every per-key counter (not logged)
/_control/flush                    flush the request log to disk now (not logged)
"""

from __future__ import annotations

import hashlib
import random
import time
from urllib.parse import quote

from .bodies import Blob, http_date, serve_blob
from .content import html_response, robots
from .pages import cloudflare_page, login_page, wrong_type_page
from .pdfgen import make_pdf
from .state import SimState
from .wire import Request, Response

__all__ = ["faults_handler"]

MAX_SIZE = 512 * 1024 * 1024


def _int(req: Request, name: str, default: int) -> int:
    try:
        return max(0, min(MAX_SIZE, int(req.query.get(name, default))))
    except ValueError:
        return default


def _random_blob(st: SimState, size: int, seed: int) -> Blob:
    return st.cached(
        ("bytes", size, seed),
        lambda: Blob(
            random.Random(seed).randbytes(size), "application/octet-stream", 1_650_000_000.0 + seed
        ),
    )


def _pdf_blob(st: SimState, req: Request, default_title: str) -> Blob:
    size = _int(req, "size", 20_000)
    title = req.query.get("title", default_title)
    doi = req.query.get("doi") or None
    seed = _int(req, "seed", 0)
    return st.cached(
        ("fpdf", size, title, doi, seed),
        lambda: Blob(
            make_pdf(title, doi, pages=2, size=size, seed=seed),
            "application/pdf",
            1_650_000_000.0 + seed,
        ),
    )


def _bad(msg: str) -> Response:
    return Response(400, [("Content-Type", "text/plain")], msg.encode())


def _code(text: str) -> int | None:
    return int(text) if text.isdigit() and 100 <= int(text) <= 599 else None


def faults_handler(st: SimState, req: Request) -> Response:
    path = req.path
    parts = path.strip("/").split("/")
    head = parts[0] if parts else ""
    if path == "/robots.txt":
        return robots(st, req)
    if head == "_control":
        return _control(st, req, parts[1] if len(parts) > 1 else "")
    if head == "status" and len(parts) == 2:
        code = _code(parts[1])
        if code is None:
            return _bad("status code must be 100..599")
        extra = [("Retry-After", req.query["retry_after"])] if "retry_after" in req.query else []
        if code in (204, 304):
            return Response(code, extra)
        if code in (301, 302, 303, 307, 308):
            extra.append(("Location", "/pdf"))
        return html_response(code, f"<html><body><h1>{code}</h1></body></html>", extra)
    if head == "sequence" and len(parts) == 2:
        codes = [_code(c.strip()) for c in req.query.get("codes", "200").split(",")]
        if not codes or any(c is None for c in codes):
            return _bad("codes must be a comma-separated list of status codes")
        n = st.hit(f"sequence:{parts[1]}")
        code = codes[min(n, len(codes) - 1)] or 200
        if code == 200:
            return serve_blob(req, _pdf_blob(st, req, f"Sequence {parts[1]}"))
        extra = [("Retry-After", req.query["retry_after"])] if "retry_after" in req.query else []
        return html_response(code, f"<html><body><h1>{code}</h1></body></html>", extra)
    if head == "retry-after-date" and len(parts) == 2:
        if st.hit(f"rad:{parts[1]}") == 0:
            code = _code(req.query.get("code", "429")) or 429
            when = http_date(time.time() + _int(req, "secs", 2))
            return html_response(
                code, "<html><body>Slow down</body></html>", [("Retry-After", when)]
            )
        return serve_blob(req, _pdf_blob(st, req, f"Retry {parts[1]}"))
    if head == "drip":
        resp = serve_blob(req, _random_blob(st, _int(req, "size", 10), _int(req, "seed", 0)))
        resp.bps = max(0.1, float(req.query.get("bps", "1")))
        return resp
    if head == "delay":
        resp = serve_blob(req, _random_blob(st, _int(req, "size", 100), _int(req, "seed", 0)))
        resp.delay = _int(req, "ms", 1000) / 1000.0
        return resp
    if head == "bytes":
        return serve_blob(req, _random_blob(st, _int(req, "size", 1024), _int(req, "seed", 0)))
    if head == "pdf":
        return serve_blob(req, _pdf_blob(st, req, "Simulated fault-host document"))
    if head == "reset-after":
        return _reset_after(st, req)
    if head == "truncate":
        size, send = _int(req, "size", 10_000), _int(req, "send", 100)
        blob = _random_blob(st, size, _int(req, "seed", 0))
        return Response(
            200,
            [("Content-Type", "application/octet-stream"), ("Content-Length", str(size))],
            blob.data,
            send_bytes=min(send, size),
        )
    if head == "redirect" and len(parts) == 2 and parts[1].isdigit():
        n = int(parts[1])
        if n <= 0:
            return serve_blob(req, _pdf_blob(st, req, "Redirect target"))
        q = f"?{req.raw_query}" if req.raw_query else ""
        return Response(302, [("Location", f"/redirect/{n - 1}{q}")])
    if head == "redirect-loop":
        target = "/redirect-loop" if parts[-1] == "b" else "/redirect-loop/b"
        return Response(302, [("Location", target)])
    if head == "gzip":
        size = _int(req, "size", 10_000)
        line = b"The quick brown fox jumps over the lazy dog. "
        text = (line * (size // len(line) + 1))[:size]
        blob = st.cached(("gzip", size), lambda: Blob(text, "text/plain; charset=utf-8"))
        return Response(
            200,
            [
                ("Content-Type", blob.content_type),
                ("Content-Encoding", "gzip"),
                ("ETag", blob.etag),
            ],
            blob.gzipped(),
        )
    if head == "wrong-type":
        return Response(
            200, [("Content-Type", "application/pdf")], wrong_type_page("Document").encode()
        )
    if head == "cloudflare":
        ray = hashlib.sha1(req.target.encode()).hexdigest()[:16]
        return html_response(403, cloudflare_page(ray), [("cf-mitigated", "challenge")])
    if head == "login":
        return html_response(200, login_page("Fault Host"))
    return html_response(
        404,
        f"<html><body><h1>Not Found</h1><p>Unknown fault endpoint {quote(path)}</p></body></html>",
    )


def _reset_after(st: SimState, req: Request) -> Response:
    size, after = _int(req, "size", 100_000), _int(req, "after", 1000)
    key = req.query.get("key", "default")
    if req.query.get("pdf") == "1":
        blob = _pdf_blob(st, req, f"Resumable {key}")
    else:
        blob = _random_blob(st, size, _int(req, "seed", 0))
    resp = serve_blob(req, blob)
    if st.hit(f"reset:{key}") == 0 and resp.status in (200, 206):
        resp.headers.append(("Content-Length", str(len(resp.body))))
        resp.send_bytes = min(after, len(resp.body))
        resp.rst = req.query.get("rst") == "1"
    return resp


def _control(st: SimState, req: Request, action: str) -> Response:
    if action == "reset":
        st.reset()
    elif action == "flush":
        if st.flush is not None:
            st.flush()
    else:
        return Response(404, [("Content-Type", "text/plain")], b"unknown control action", log=False)
    return Response(200, [("Content-Type", "application/json")], b'{"ok": true}', log=False)
