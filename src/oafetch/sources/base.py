"""The Source protocol and the Candidate it yields (DESIGN §1, §3).

A source never writes files and never opens connections itself: it asks `ctx.http`
(the one polite client, role ``metadata``) and turns real API field names into candidates.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any, Protocol

from ..ids import WorkIds
from ..net.client import HttpClient


class Kind(StrEnum):
    PDF = "pdf"
    XML = "xml"
    HTML = "html"
    LANDING = "landing"


class Version(StrEnum):
    PUBLISHED = "published"
    ACCEPTED = "accepted"
    SUBMITTED = "submitted"
    UNKNOWN = "unknown"

    @classmethod
    def parse(cls, value: str | None) -> Version:
        """Map the spellings real APIs use (``publishedVersion``, ``acceptedVersion`` ...)."""
        v = (value or "").lower()
        if v.startswith("published"):
            return cls.PUBLISHED
        if v.startswith("accepted"):
            return cls.ACCEPTED
        if v.startswith("submitted"):
            return cls.SUBMITTED
        return cls.UNKNOWN


class HostType(StrEnum):
    PUBLISHER = "publisher"
    REPOSITORY = "repository"
    UNKNOWN = "unknown"


@dataclass(frozen=True, slots=True)
class Candidate:
    """One URL a source proposes for a work."""

    url: str
    kind: Kind
    source: str
    technique: str
    version: Version = Version.UNKNOWN
    host_type: HostType = HostType.UNKNOWN
    license: str | None = None
    # Other sources that proposed the same URL (merged by the cascade).
    also_from: tuple[str, ...] = ()
    # Free-form provenance (e.g. wayback capture timestamp); must be JSON-serialisable.
    extra: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class SourceResult:
    """What one source learnt about a work.

    `ids` may carry identifiers the input lacked (OpenAlex fills pmid/pmcid); `title` feeds
    the identity check; `is_oa` False with no candidates means the source knows the work
    and knows it is closed.
    """

    source: str
    candidates: list[Candidate] = field(default_factory=list)
    ids: WorkIds = field(default_factory=WorkIds)
    title: str | None = None
    is_oa: bool | None = None
    found: bool = True


@dataclass(frozen=True, slots=True)
class SourceSettings:
    """Per-source settings after config/env/flags are merged."""

    base_url: str
    timeout_s: float = 30.0
    api_key: str | None = None
    enabled: bool = True
    # A second endpoint some sources need (arXiv query API, Wayback availability API).
    api_url: str | None = None


@dataclass(slots=True)
class SourceContext:
    """Everything a source may use: the polite client, its settings, the contact email."""

    http: HttpClient
    settings: SourceSettings
    mailto: str | None = None
    emit: Callable[..., None] = field(default=lambda *a, **k: None)


class Source(Protocol):
    name: str

    def applies(self, work: WorkIds) -> bool:
        """Cheap check: can this source say anything about a work with these ids?"""
        ...

    async def resolve(self, work: WorkIds, ctx: SourceContext) -> SourceResult:
        """Ask the upstream; 404 means `found=False`, not an exception."""
        ...
