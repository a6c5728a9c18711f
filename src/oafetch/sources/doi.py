"""DOI resolver: follow `{base}/{doi}` to wherever the registrant points.

The shared client follows at most `max_redirects` (8) hops. The final response is either
the artifact itself (Content-Type PDF or a body starting `%PDF-`): one PDF candidate, or
a landing page: one `landing` candidate of the final URL (technique `doi.redirect`) plus
whatever the landing extractor finds in the body we already hold, so the cascade does
not fetch the same page twice. A publisher that answers the resolved URL with 401/403
(a bot wall) still yields the landing URL, so the archive tier can try to rescue it.
"""

from __future__ import annotations

from urllib.parse import quote

import httpx

from ..errors import RedirectPathology
from ..net.client import Role
from ._util import DoiSource as _DoiSource
from ._util import ensure_ok, not_found
from .base import Candidate, Kind, SourceContext, SourceResult
from .landing import candidates_from_response

NAME = "doi"
TECHNIQUE = "doi.redirect"


class DoiRedirectSource(_DoiSource):
    name = NAME

    async def ask(self, doi: str, base: str, ctx: SourceContext) -> SourceResult:
        url = f"{base}/{quote(doi, safe='/:;()')}"
        try:
            response = await ctx.http.get(url, role=Role.LANDING)
        except httpx.TooManyRedirects as exc:
            raise RedirectPathology(f"doi: too many redirects resolving {doi}", url=url) from exc
        final_url = str(response.url)
        # The client follows redirects itself; a changed URL is the sign we were sent on.
        redirected = bool(response.history) or final_url != url
        if not ensure_ok(response, NAME):
            if redirected and response.status_code in {401, 403}:
                landing = Candidate(
                    final_url,
                    Kind.LANDING,
                    NAME,
                    TECHNIQUE,
                    extra={"final_status": response.status_code},
                )
                return SourceResult(source=NAME, candidates=[landing])
            return not_found(NAME)
        found = candidates_from_response(response, source=NAME, technique=TECHNIQUE)
        if found and found[0].url == final_url and found[0].kind is Kind.PDF:
            return SourceResult(source=NAME, candidates=found)
        landing = Candidate(
            final_url, Kind.LANDING, NAME, TECHNIQUE, extra={"redirected": redirected}
        )
        return SourceResult(
            source=NAME, candidates=[landing, *[c for c in found if c.url != final_url]]
        )


SOURCE = DoiRedirectSource()
