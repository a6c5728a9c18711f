"""Zenodo records search: PDF files deposited under a DOI.

`GET {base}/api/records?q=doi:"…"` → `hits.hits[]` records (a direct record fetch
`{base}/api/records/{id}` returns one record of the same shape, see realdata/zenodo).
Each record has `doi`, `metadata.title`, `metadata.access_right` ("open" …),
`metadata.license.id` and `files`, which the current InvenioRDM API gives as a list of
`{key, links: {self}}` and older/other endpoints as `{entries: {key: {key, links:
{content}}}}`. Only files whose name ends in `.pdf` become candidates: Zenodo also holds
datasets and software archives.
"""

from __future__ import annotations

from typing import Any

from ..net.client import Role
from ._util import (
    DoiSource,
    as_dict,
    as_list,
    as_str,
    dedupe,
    ensure_ok,
    json_body,
    norm_doi,
    not_found,
)
from .base import Candidate, HostType, Kind, SourceContext, SourceResult

NAME = "zenodo"


def _files(record: dict[str, Any]) -> list[dict[str, Any]]:
    files = record.get("files")
    if isinstance(files, list):
        return [as_dict(f) for f in files]
    entries = as_dict(as_dict(files).get("entries"))
    return [as_dict(f) for f in entries.values()]


def _file_url(entry: dict[str, Any]) -> str | None:
    links = as_dict(entry.get("links"))
    return (
        as_str(links.get("self")) or as_str(links.get("content")) or as_str(links.get("download"))
    )


def record_candidates(record: dict[str, Any]) -> list[Candidate]:
    metadata = as_dict(record.get("metadata"))
    if (as_str(metadata.get("access_right")) or "open") != "open":
        return []
    licence = as_str(as_dict(metadata.get("license")).get("id"))
    out: list[Candidate] = []
    for entry in _files(record):
        name = as_str(entry.get("key")) or as_str(entry.get("filename")) or ""
        url = _file_url(entry)
        if url is None or not name.lower().endswith(".pdf"):
            continue
        out.append(
            Candidate(
                url=url,
                kind=Kind.PDF,
                source=NAME,
                technique="zenodo.record_file",
                host_type=HostType.REPOSITORY,
                license=licence,
                extra={"file_name": name, "record_id": as_str(record.get("id"))},
            )
        )
    return out


def record_doi(record: dict[str, Any]) -> str | None:
    return norm_doi(record.get("doi")) or norm_doi(as_dict(record.get("metadata")).get("doi"))


def parse_records(payload: Any, doi: str) -> SourceResult:
    """Accept a search response (`hits.hits[]`) or a single record; keep those with our DOI."""
    body = as_dict(payload)
    hits = as_list(as_dict(body.get("hits")).get("hits")) if "hits" in body else [body]
    records = [as_dict(r) for r in hits if record_doi(as_dict(r)) == doi.lower()]
    if not records:
        return not_found(NAME)
    metadata = as_dict(records[0].get("metadata"))
    return SourceResult(
        source=NAME,
        candidates=dedupe(c for r in records for c in record_candidates(r)),
        title=as_str(metadata.get("title")) or as_str(records[0].get("title")),
        is_oa=(as_str(metadata.get("access_right")) == "open")
        if metadata.get("access_right")
        else None,
    )


class ZenodoSource(DoiSource):
    name = NAME

    async def ask(self, doi: str, base: str, ctx: SourceContext) -> SourceResult:
        params = {"q": f'doi:"{doi}"', "size": "5"}
        response = await ctx.http.get(f"{base}/api/records", role=Role.METADATA, params=params)
        if not ensure_ok(response, NAME):
            return not_found(NAME)
        return parse_records(json_body(response, NAME), doi)


SOURCE = ZenodoSource()
