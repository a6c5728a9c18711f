"""Landing `scrape` over a real loopback server (extraction itself: test_landing_extract)."""

from __future__ import annotations

from pathlib import Path

import pytest
from _realserver import context, serve

from oafetch.errors import PolicySkip, TransientNetError
from oafetch.ids import WorkIds
from oafetch.net.client import ClientSettings, HttpClient
from oafetch.sources.base import Kind, SourceContext, SourceSettings
from oafetch.sources.landing import SOURCE, scrape


async def test_scrape_resolves_against_final_url_after_redirect(realdata: Path) -> None:
    page = realdata / "landing_pages/papis_lingbuzz_006747_landing.html"
    with serve() as srv:
        srv.redirect("/old/006747", f"{srv.url}/lingbuzz/006747")
        srv.route("/lingbuzz/006747", page)
        async with context(SourceSettings(base_url="")) as ctx:
            found = await scrape(f"{srv.url}/old/006747", ctx)
        (seen,) = srv.seen("/lingbuzz/006747")
    assert "text/html" in seen.headers["accept"]
    # lingbuzz links are relative ("/lingbuzz/006747/current.pdf?..."): resolved on the final host
    assert found[0].url == f"{srv.url}/lingbuzz/006747/current.pdf?_s=aorj5FKywdkqXq0Q"
    assert found[0].technique == "anchor_pdf" and found[0].source == "landing"


async def test_scrape_direct_pdf_404_and_5xx(realdata: Path) -> None:
    with serve() as srv:
        srv.route("/a.pdf", realdata / "pdfs/sandcrawler_dummy.pdf")
        srv.route("/gone", b"no", status=404)
        srv.route("/broken", b"no", status=502)
        async with context(SourceSettings(base_url="")) as ctx:
            (pdf,) = await scrape(f"{srv.url}/a.pdf", ctx)
            assert await scrape(f"{srv.url}/gone", ctx) == []
            with pytest.raises(TransientNetError):
                await scrape(f"{srv.url}/broken", ctx)
    assert (pdf.kind, pdf.technique) == (Kind.PDF, "landing.direct_pdf")
    assert SOURCE.applies(WorkIds(doi="10.1/x")) is False


async def test_scrape_refuses_private_address_by_default() -> None:
    http = HttpClient(ClientSettings())
    try:
        ctx = SourceContext(http=http, settings=SourceSettings(base_url=""))
        with pytest.raises(PolicySkip):
            await scrape("http://127.0.0.1:9/page", ctx)
    finally:
        await http.aclose()
