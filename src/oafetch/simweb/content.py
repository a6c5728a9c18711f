"""Content hosts (publisher1, publisher2, repository, and the file paths of API hosts),
the doi.org resolver and the Wayback Machine.

Why one `serve_resource`: a world route says *what* a (host, path) is (a PDF, a landing
page, a challenge, a redirect...), and every host must render it the same way, so a
scenario can move a file between hosts without changing behaviour.
"""

from __future__ import annotations

import base64
import hashlib
import json
import re
from urllib.parse import urlsplit

from .bodies import Blob, serve_blob
from .pages import (
    article_html,
    cloudflare_page,
    jats_xml,
    landing_page,
    login_page,
    not_found_page,
    wrong_type_page,
)
from .state import JOURNALS, SimState
from .wire import Request, Response
from .world import Resource

__all__ = ["content_handler", "doi_handler", "robots", "serve_resource", "wayback_handler"]

HTML = "text/html; charset=utf-8"
ROBOTS_CONTENT = "User-agent: *\nDisallow: /private/\nAllow: /\n"
ROBOTS_OPEN = "User-agent: *\nAllow: /\n"


def html_response(status: int, text: str, extra: list[tuple[str, str]] | None = None) -> Response:
    return Response(status, [("Content-Type", HTML), *(extra or [])], text.encode("utf-8"))


def not_found() -> Response:
    return html_response(404, not_found_page())


def robots(st: SimState, req: Request) -> Response:
    """robots.txt: content hosts disallow /private/; `faults` can answer 503 (flag)."""
    if req.host == "faults" and st.opts.robots_5xx:
        return html_response(503, "<html><body>Service Unavailable</body></html>")
    text = ROBOTS_CONTENT if req.host in JOURNALS else ROBOTS_OPEN
    return Response(200, [("Content-Type", "text/plain; charset=utf-8")], text.encode())


def _status_page(code: int, retry_after: str | None) -> Response:
    extra = [("Retry-After", retry_after)] if retry_after else []
    text = f"<html><head><title>{code}</title></head><body><h1>Error {code}</h1></body></html>"
    return html_response(code, text, extra)


def _text_blob(st: SimState, res: Resource, kind: str, host: str) -> Blob:
    spec = st.world.works[res.work]
    journal = JOURNALS.get(host, "Simulated Letters")
    ids = spec.sim.ids

    def make() -> Blob:
        if kind == "xml":
            text = jats_xml(
                title=spec.sim.title,
                doi=spec.doi,
                pmcid=ids.get("pmcid"),
                pmid=ids.get("pmid"),
                journal=journal,
                year=spec.year,
            )
            return Blob(text.encode(), "application/xml", st.mtime(spec))
        if kind == "html":
            text = article_html(title=spec.sim.title, doi=spec.doi, journal=journal, year=spec.year)
            return Blob(text.encode(), HTML, st.mtime(spec))
        pdf_href = None
        if res.target is not None:
            t_host, t_path = res.target
            absolute = res.variant in ("citation", "signposting") or t_host != host
            pdf_href = st.url(t_host, t_path) if absolute else t_path
        text = landing_page(
            title=spec.sim.title,
            doi=spec.doi,
            journal=journal,
            year=spec.year,
            variant=res.variant,
            pdf_href=pdf_href,
        )
        return Blob(text.encode(), HTML, st.mtime(spec))

    return st.cached((kind, res.work, host, res.variant), make)


def serve_resource(st: SimState, req: Request, res: Resource) -> Response:
    """Render what the world says lives at this (host, path)."""
    kind = res.kind
    if kind == "pdf":
        resp = serve_blob(req, st.pdf(res))
        if st.opts.throttle_bps:
            resp.bps = st.opts.throttle_bps
        return resp
    if kind in ("landing", "xml", "html"):
        blob = _text_blob(st, res, kind, req.host)
        extra: list[tuple[str, str]] = []
        if kind == "landing" and res.variant == "signposting" and res.target is not None:
            spec = st.world.works[res.work]
            links = [f'<{st.url(*res.target)}>; rel="item"; type="application/pdf"']
            if spec.doi:
                links.append(f'<https://doi.org/{spec.doi}>; rel="cite-as"')
            extra.append(("Link", ", ".join(links)))
        return serve_blob(req, blob, allow_gzip=req.host == "publisher2", extra=extra)
    if kind == "status":
        return _status_page(res.codes[0], res.retry_after)
    if kind == "sequence":
        n = st.hit(f"seq:{req.host}:{req.path}")
        code = res.codes[min(n, len(res.codes) - 1)]
        if code == 200:
            return serve_resource(st, req, Resource("pdf", res.work))
        return _status_page(code, res.retry_after)
    if kind == "redirect" and res.target is not None:
        return Response(
            302,
            [("Location", st.url(*res.target)), ("Content-Type", HTML)],
            b"<html><body>Redirecting</body></html>",
        )
    if kind == "cloudflare":
        ray = hashlib.sha1(req.path.encode()).hexdigest()[:16]
        return html_response(
            403, cloudflare_page(ray), [("cf-mitigated", "challenge"), ("cf-ray", f"{ray}-AMS")]
        )
    if kind == "wrong_type":
        text = wrong_type_page(st.world.works[res.work].sim.title)
        return Response(200, [("Content-Type", "application/pdf")], text.encode())
    if kind == "login":
        return html_response(200, login_page(JOURNALS.get(req.host, "Simulated Publishing")))
    return not_found()


def content_handler(st: SimState, req: Request) -> Response:
    if req.path == "/robots.txt":
        return robots(st, req)
    res = st.world.routes.get((req.host, req.path))
    if res is not None:
        return serve_resource(st, req, res)
    if req.path == "/" and req.host in JOURNALS:
        return html_response(
            200,
            f"<html><head><title>{JOURNALS[req.host]}</title></head>"
            "<body><h1>Welcome</h1></body></html>",
        )
    return not_found()


def doi_handler(st: SimState, req: Request) -> Response:
    """doi.org: `/{doi}` -> 302 to the registered URL; unknown DOIs get the 404 page."""
    if req.path == "/robots.txt":
        return robots(st, req)
    doi = req.path.lstrip("/")
    spec = st.world.find("doi", doi)
    if spec is None or "doi" not in spec.apis:
        return html_response(
            404,
            "<!DOCTYPE html><html><head><title>Error: DOI Not Found"
            "</title></head><body><h1>DOI Not Found</h1>"
            f"<p>{doi}</p><p>This DOI cannot be found in the DOI System."
            "</p></body></html>",
        )
    host, path = spec.apis["doi"]
    return Response(
        302,
        [("Location", st.url(host, path)), ("Content-Type", HTML)],
        f'<html><head><title>Handle Redirect</title></head><body><a href="'
        f'{st.url(host, path)}">{st.url(host, path)}</a></body></html>'.encode(),
    )


# --- Wayback Machine ------------------------------------------------------------------------

_WEB = re.compile(r"^/web/(\d{1,14})(id_|if_|im_)?/(.+)$")


def _capture(st: SimState, url: str) -> tuple[str, str, Resource] | None:
    url = re.sub(r"^(https?):/+", r"\1://", url)
    parts = urlsplit(url)
    host = st.host_of_port(parts.port or 0) if parts.hostname == "127.0.0.1" else None
    if host is None:
        return None
    res = st.world.captures.get((host, parts.path))
    return None if res is None else (host, parts.path, res)


def _timestamp(st: SimState, res: Resource) -> str:
    return f"2024{(res.work % 12) + 1:02d}15{(st.world.seed % 24):02d}3000"


def wayback_handler(st: SimState, req: Request) -> Response:
    """archive.org availability API, the CDX server and raw (`id_`) replay."""
    if req.path == "/robots.txt":
        return robots(st, req)
    if req.path == "/wayback/available":
        url = req.query.get("url", "")
        cap = _capture(st, url)
        snaps: dict[str, object] = {}
        if cap is not None:
            ts = _timestamp(st, cap[2])
            snaps = {
                "closest": {
                    "status": "200",
                    "available": True,
                    "timestamp": ts,
                    "url": st.url("wayback", f"/web/{ts}/{url}"),
                }
            }
        body = json.dumps({"url": url, "archived_snapshots": snaps})
        return Response(200, [("Content-Type", "application/json")], body.encode())
    if req.path in ("/cdx/search/cdx", "/cdx/search"):
        return _cdx(st, req)
    m = _WEB.match(req.path)
    if m:
        cap = _capture(st, m.group(3) + (f"?{req.raw_query}" if req.raw_query else ""))
        if cap is not None:
            host, path, res = cap
            ts = _timestamp(st, res)
            resp = serve_resource(st, req, res)
            resp.headers += [
                ("Memento-Datetime", "Mon, 15 Jan 2024 10:30:00 GMT"),
                ("Link", f'<{st.url(host, path)}>; rel="original"'),
                ("X-Archive-Src", f"SIM-{ts}-00001.warc.gz"),
            ]
            return resp
        return html_response(
            404,
            '<!DOCTYPE html><html lang="en"><head><title>Wayback Machine'
            "</title></head><body><p>The Wayback Machine has not archived "
            "that URL.</p></body></html>",
        )
    return not_found()


def _cdx(st: SimState, req: Request) -> Response:
    url = req.query.get("url", "")
    cap = _capture(st, url)
    rows: list[list[str]] = []
    if cap is not None:
        host, path, res = cap
        blob = st.pdf(res)
        digest = base64.b32encode(hashlib.sha1(blob.data).digest()).decode()
        rows.append(
            [
                f"127,0,0,1:{st.ports[host]}){path}",
                _timestamp(st, res),
                url,
                "application/pdf",
                "200",
                digest,
                str(len(blob.data)),
            ]
        )
    if req.query.get("output") == "json":
        head = ["urlkey", "timestamp", "original", "mimetype", "statuscode", "digest", "length"]
        body = json.dumps([head, *rows] if rows else [])
        return Response(200, [("Content-Type", "application/json")], body.encode())
    text = "".join(" ".join(r) + "\n" for r in rows)
    return Response(200, [("Content-Type", "text/plain")], text.encode())
