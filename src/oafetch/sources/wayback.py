"""Internet Archive Wayback Machine: rescue a URL that failed as dead or walled.

Not run per work (`applies` is False): the cascade calls `rescue(url, ctx)` for a
candidate that failed with `link_dead` / `bot_wall` / `login_or_paywall`.

1. Availability API `{api_url}/wayback/available?url=…` →
   `{"archived_snapshots": {"closest": {"available": true, "url", "timestamp", "status"}}}`
   (NO real recording exists: documented shape only).
2. CDX API `{base}/cdx/search/cdx?url=…&filter=statuscode:200&limit=N` → plain-text
   rows `urlkey timestamp original mimetype statuscode digest length` (the 11-column crawl
   CDX variant shares the first five), or, with `output=json`, a JSON array whose first
   row names the columns. Real CDX recordings are in realdata/wayback.

A capture is replayed raw (no Wayback banner or rewritten links) via
`{base}/web/{timestamp}id_/{original}`; captures with mimetype `application/pdf` rank
first, then the newest.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from ..ids import WorkIds
from ..net.client import Role
from ._util import api_url, as_dict, as_list, as_str, dedupe, ensure_ok, json_body, not_found
from .base import Candidate, HostType, Kind, SourceContext, SourceResult

NAME = "wayback"
ARCHIVE_API = "https://archive.org"
CDX_LIMIT = 25
MAX_CANDIDATES = 3
_COLUMNS = ("urlkey", "timestamp", "original", "mimetype", "statuscode")


@dataclass(frozen=True, slots=True)
class Capture:
    timestamp: str
    original: str
    mimetype: str
    status: str


def parse_cdx(body: str) -> list[Capture]:
    """Rows of a CDX answer, plain text or `output=json`; comments and resume keys skipped."""
    text = body.strip()
    rows: list[list[str]] = []
    if text.startswith("["):
        table = [[str(c) for c in as_list(r)] for r in as_list(json.loads(text))]
        if not table:
            return []
        header = table[0]
        index = {name: header.index(name) for name in _COLUMNS if name in header}
        if len(index) < len(_COLUMNS):
            return []
        rows = [[r[index[n]] for n in _COLUMNS] for r in table[1:] if len(r) == len(header)]
    else:
        for line in text.splitlines():
            fields = line.split()
            if len(fields) >= 5 and not line.startswith("#"):
                rows.append(fields[:5])
    return [
        Capture(timestamp=r[1], original=r[2], mimetype=r[3].lower(), status=r[4])
        for r in rows
        if r[1].isdigit()
    ]


def best_captures(captures: list[Capture]) -> list[Capture]:
    """HTTP-200 captures, PDFs first, newest first within each group."""
    ok = [c for c in captures if c.status == "200"]
    return sorted(ok, key=lambda c: (c.mimetype != "application/pdf", -int(c.timestamp)))


def replay_url(base: str, timestamp: str, original: str) -> str:
    return f"{base}/web/{timestamp}id_/{original}"


def parse_available(payload: Any) -> Capture | None:
    closest = as_dict(as_dict(as_dict(payload).get("archived_snapshots")).get("closest"))
    ts = as_str(closest.get("timestamp"))
    if closest.get("available") is not True or ts is None or as_str(closest.get("status")) != "200":
        return None
    # `url` is the banner replay (http://web.archive.org/web/TS/ORIGINAL): take ORIGINAL.
    snapshot = as_str(closest.get("url")) or ""
    marker = f"/web/{ts}/"
    original = snapshot.split(marker, 1)[1] if marker in snapshot else ""
    return Capture(timestamp=ts, original=original, mimetype="", status="200")


def _candidate(base: str, cap: Capture, url: str, kind: Kind, technique: str) -> Candidate:
    return Candidate(
        url=replay_url(base, cap.timestamp, cap.original or url),
        kind=kind,
        source=NAME,
        technique=technique,
        host_type=HostType.REPOSITORY,
        extra={"wayback_timestamp": cap.timestamp, "original_url": url},
    )


async def rescue(url: str, ctx: SourceContext, *, kind: Kind = Kind.PDF) -> list[Candidate]:
    """Archived raw copies of `url`, best first; `kind` is what the failed candidate was."""
    base = ctx.settings.base_url.rstrip("/")
    found: list[Candidate] = []
    response = await ctx.http.get(
        f"{api_url(ctx, ARCHIVE_API)}/wayback/available", role=Role.METADATA, params={"url": url}
    )
    available = parse_available(json_body(response, NAME)) if ensure_ok(response, NAME) else None
    response = await ctx.http.get(
        f"{base}/cdx/search/cdx",
        role=Role.METADATA,
        params={"url": url, "filter": "statuscode:200", "limit": str(CDX_LIMIT)},
    )
    captures = best_captures(parse_cdx(response.text)) if ensure_ok(response, NAME) else []
    pdfs = [c for c in captures if c.mimetype == "application/pdf"]
    others = [c for c in captures if c.mimetype != "application/pdf"]
    found.extend(_candidate(base, c, url, Kind.PDF, "wayback.cdx") for c in pdfs)
    if available is not None:
        found.append(_candidate(base, available, url, kind, "wayback.available"))
    found.extend(_candidate(base, c, url, kind, "wayback.cdx") for c in others)
    return dedupe(found)[:MAX_CANDIDATES]


class WaybackSource:
    name = NAME

    def applies(self, work: WorkIds) -> bool:
        return False  # driven per failed URL by the cascade, via `rescue`

    async def resolve(self, work: WorkIds, ctx: SourceContext) -> SourceResult:
        return not_found(NAME)

    async def rescue(
        self, url: str, ctx: SourceContext, *, kind: Kind = Kind.PDF
    ) -> list[Candidate]:
        return await rescue(url, ctx, kind=kind)


SOURCE = WaybackSource()
