"""OSF (Open Science Framework) JSON-API: PDF files of OSF preprints and projects.

Two paths, chosen by the DOI:

* `10.17605/osf.io/{guid}` is a project/registration DOI: list its storage with
  `GET {base}/v2/nodes/{guid}/files/osfstorage/` → `data[]` of `{type: "files",
  attributes: {kind: "file"|"folder", name}, links: {download, html}}`
  (shape tested against real recordings from OSF's test server, realdata/osf).
* any other DOI: `GET {base}/v2/preprints/?filter[doi]={doi}` → `data[]` preprints with
  `attributes.title`, `links.html` and `relationships.primary_file.links.related.href`;
  that href returns one file object of the shape above. NO real recording of the
  preprints endpoint exists: that step follows OSF's documented JSON-API shape.

Only `kind == "file"` entries named `*.pdf` become PDF candidates (`links.download`).
"""

from __future__ import annotations

import re
from typing import Any

from ..ids import WorkIds
from ..net.client import Role
from ._util import as_dict, as_str, dedupe, ensure_ok, json_body, not_found
from .base import Candidate, HostType, Kind, SourceContext, SourceResult

NAME = "osf"
MAX_PREPRINTS = 3
_NODE_DOI = re.compile(r"^10\.17605/osf\.io/([a-z0-9]+)$", re.IGNORECASE)


def _items(payload: Any) -> list[dict[str, Any]]:
    data = as_dict(payload).get("data")
    return [as_dict(x) for x in data] if isinstance(data, list) else [as_dict(data)] if data else []


def file_candidates(payload: Any, technique: str) -> list[Candidate]:
    """PDF files in a JSON-API file object or file listing."""
    out: list[Candidate] = []
    for item in _items(payload):
        attrs = as_dict(item.get("attributes"))
        name = as_str(attrs.get("name")) or ""
        url = as_str(as_dict(item.get("links")).get("download"))
        if attrs.get("kind") != "file" or url is None or not name.lower().endswith(".pdf"):
            continue
        out.append(
            Candidate(
                url,
                Kind.PDF,
                NAME,
                technique,
                host_type=HostType.REPOSITORY,
                extra={"file_name": name},
            )
        )
    return out


def primary_file_href(preprint: dict[str, Any]) -> str | None:
    rel = as_dict(as_dict(preprint.get("relationships")).get("primary_file"))
    related = as_dict(rel.get("links")).get("related")
    return as_str(as_dict(related).get("href")) if isinstance(related, dict) else as_str(related)


class OsfSource:
    name = NAME

    def applies(self, work: WorkIds) -> bool:
        return work.doi is not None

    async def _node_files(self, guid: str, ctx: SourceContext) -> SourceResult:
        base = ctx.settings.base_url.rstrip("/")
        response = await ctx.http.get(
            f"{base}/v2/nodes/{guid}/files/osfstorage/", role=Role.METADATA
        )
        if not ensure_ok(response, NAME):
            return not_found(NAME)
        candidates = file_candidates(json_body(response, NAME), "osf.node_file")
        return SourceResult(source=NAME, candidates=candidates, is_oa=True if candidates else None)

    async def resolve(self, work: WorkIds, ctx: SourceContext) -> SourceResult:
        if work.doi is None:
            return not_found(NAME)
        if match := _NODE_DOI.match(work.doi):
            return await self._node_files(match.group(1).lower(), ctx)
        base = ctx.settings.base_url.rstrip("/")
        response = await ctx.http.get(
            f"{base}/v2/preprints/", role=Role.METADATA, params={"filter[doi]": work.doi}
        )
        if not ensure_ok(response, NAME):
            return not_found(NAME)
        preprints = _items(json_body(response, NAME))[:MAX_PREPRINTS]
        if not preprints:
            return not_found(NAME)
        candidates: list[Candidate] = []
        for preprint in preprints:
            href = primary_file_href(preprint)
            if href:
                detail = await ctx.http.get(href, role=Role.METADATA, discovered=True)
                if ensure_ok(detail, NAME):
                    candidates.extend(
                        file_candidates(json_body(detail, NAME), "osf.preprint_primary_file")
                    )
            html = as_str(as_dict(preprint.get("links")).get("html"))
            if html:
                candidates.append(
                    Candidate(
                        html, Kind.LANDING, NAME, "osf.preprint_page", host_type=HostType.REPOSITORY
                    )
                )
        title = as_str(as_dict(preprints[0].get("attributes")).get("title"))
        has_pdf = any(c.kind is Kind.PDF for c in candidates)
        return SourceResult(
            source=NAME, candidates=dedupe(candidates), title=title, is_oa=True if has_pdf else None
        )


SOURCE = OsfSource()
