"""Small helpers shared by the record-search sources (crossref ... wayback).

Why a module of its own: every source must map HTTP statuses to the same outcomes
(404 → not found, 429/5xx → transient, other 4xx → not found) and must read real
API payloads defensively (a field can be missing, null, an empty string or the wrong
type in real recordings). Keeping that in one place keeps each source short.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from typing import Any
from urllib.parse import unquote, urlsplit

import httpx

from ..errors import TransientNetError
from ..ids import WorkIds
from ..net.urls import strip_credentials
from .base import Candidate, SourceContext, SourceResult

__all__ = [
    "api_url",
    "as_dict",
    "as_list",
    "as_str",
    "dedupe",
    "ensure_ok",
    "json_body",
    "looks_like_pdf_url",
    "norm_doi",
    "not_found",
]


def ensure_ok(response: httpx.Response, source: str) -> bool:
    """True for 2xx; False for 404 and other 4xx; raise for 429 and 5xx.

    A 4xx other than 429 means the upstream does not know the work (or rejected an id
    it cannot parse): for the cascade both are "this source has nothing", not an error.
    """
    status = response.status_code
    if status == 429 or status >= 500:
        raise TransientNetError(
            f"{source}: upstream answered HTTP {status}",
            url=strip_credentials(str(response.url)),  # API keys and contact emails stay out
            status=status,
        )
    return 200 <= status < 300


def json_body(response: httpx.Response, source: str) -> Any:
    """Decode a JSON body; a 2xx that is not JSON is a broken upstream: transient."""
    try:
        return json.loads(response.content)
    except ValueError as exc:
        raise TransientNetError(
            f"{source}: upstream returned a body that is not JSON ({exc})",
            url=str(response.url),
            status=response.status_code,
        ) from exc


def not_found(source: str) -> SourceResult:
    return SourceResult(source=source, found=False)


def as_dict(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def as_list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else []


def as_str(value: Any) -> str | None:
    """A non-empty stripped string, or None (real APIs send "" and null for "absent")."""
    if isinstance(value, str):
        value = value.strip()
        return value or None
    if isinstance(value, int) and not isinstance(value, bool):
        return str(value)
    return None


def norm_doi(value: Any) -> str | None:
    """Lower-case DOI without resolver prefix, for comparing records to the work."""
    text = as_str(value)
    if text is None:
        return None
    text = unquote(text).strip().lower()
    for prefix in (
        "https://doi.org/",
        "http://doi.org/",
        "https://dx.doi.org/",
        "http://dx.doi.org/",
        "doi:",
    ):
        if text.startswith(prefix):
            text = text[len(prefix) :]
            break
    return text or None


def looks_like_pdf_url(url: str) -> bool:
    """Does the URL itself say "PDF" (path ends .pdf, a /pdf path segment, ?pdf=...)?

    Used where an API's declared type is unreliable (DOAJ marks viewer pages as "PDF").
    """
    parts = urlsplit(url)
    path = parts.path.lower().rstrip("/")
    if path.endswith(".pdf"):
        return True
    segments = path.split("/")
    if "pdf" in segments or "pdfdirect" in segments or "pdfft" in segments:
        return True
    query = parts.query.lower()
    return "pdf=" in query or "type=printable" in query


def api_url(ctx: SourceContext, default: str) -> str:
    """The source's secondary endpoint (`api_url` in config), falling back to `default`.

    `SourceSettings` may not carry `api_url` yet; read it defensively.
    """
    value = getattr(ctx.settings, "api_url", None)
    return value.rstrip("/") if isinstance(value, str) and value else default.rstrip("/")


def dedupe(candidates: Iterable[Candidate]) -> list[Candidate]:
    """Keep the first candidate per URL (sources list their best evidence first)."""
    seen: set[str] = set()
    out: list[Candidate] = []
    for cand in candidates:
        if cand.url in seen:
            continue
        seen.add(cand.url)
        out.append(cand)
    return out


def header_map(headers: Mapping[str, str] | httpx.Headers | None) -> dict[str, str]:
    """Lower-cased header names; multi-valued headers joined with ", " as HTTP allows."""
    if headers is None:
        return {}
    if isinstance(headers, httpx.Headers):
        out: dict[str, str] = {}
        for key, value in headers.multi_items():
            k = key.lower()
            out[k] = f"{out[k]}, {value}" if k in out else value
        return out
    return {k.lower(): v for k, v in headers.items()}


class DoiSource:
    """Base of the sources that can only be asked by DOI: subclasses implement `ask`."""

    name: str

    def applies(self, work: WorkIds) -> bool:
        return work.doi is not None

    async def resolve(self, work: WorkIds, ctx: SourceContext) -> SourceResult:
        if work.doi is None:
            return not_found(self.name)
        return await self.ask(work.doi, ctx.settings.base_url.rstrip("/"), ctx)

    async def ask(self, doi: str, base: str, ctx: SourceContext) -> SourceResult:
        """Query the upstream for `doi`; `base` is the configured base URL without "/"."""
        raise NotImplementedError
