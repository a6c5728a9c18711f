"""DOI resolver over a real loopback server: redirects to a real landing page or a PDF."""

from __future__ import annotations

from pathlib import Path

from _realserver import context, serve

from oafetch.ids import WorkIds
from oafetch.sources.base import Kind, SourceSettings
from oafetch.sources.doi import SOURCE

PLOS = "landing_pages/plos_one_10.1371_journal.pone.0213978_landing.html"


async def test_redirect_to_landing_extracts_without_second_fetch(realdata: Path) -> None:
    with serve() as srv:
        srv.redirect("/10.1371/journal.pone.0213978", f"{srv.url}/plosone/article?id=x")
        srv.route("/plosone/article", realdata / PLOS)
        async with context(SourceSettings(base_url=srv.url)) as ctx:
            result = await SOURCE.resolve(WorkIds(doi="10.1371/journal.pone.0213978"), ctx)
        assert len(srv.seen("/plosone/article")) == 1
    landing, pdf = result.candidates[:2]
    assert (landing.kind, landing.technique) == (Kind.LANDING, "doi.redirect")
    assert landing.url == f"{srv.url}/plosone/article?id=x"
    assert (pdf.kind, pdf.technique, pdf.source) == (Kind.PDF, "citation_pdf_url", "doi")
    assert pdf.url == (
        "https://journals.plos.org/plosone/article/file?id=10.1371/journal.pone.0213978&type=printable"
    )


async def test_redirect_to_pdf_sniffed_by_magic(realdata: Path) -> None:
    with serve() as srv:
        srv.redirect("/10.1/direct", f"{srv.url}/files/paper")
        # Served as octet-stream: only the %PDF- magic says what it is.
        srv.route(
            "/files/paper",
            realdata / "pdfs/sandcrawler_dummy.pdf",
            content_type="application/octet-stream",
        )
        async with context(SourceSettings(base_url=srv.url)) as ctx:
            result = await SOURCE.resolve(WorkIds(doi="10.1/direct"), ctx)
    (cand,) = result.candidates
    assert (cand.kind, cand.technique, cand.url) == (
        Kind.PDF,
        "doi.redirect",
        f"{srv.url}/files/paper",
    )


async def test_unknown_doi_and_walled_publisher(realdata: Path) -> None:
    challenge = realdata / "landing_pages/papis_acs_10.1021_jp003647e_cloudflare_challenge.html"
    with serve() as srv:
        srv.route("/10.1/unknown", b"DOI Not Found", status=404, content_type="text/html")
        srv.redirect("/10.1021/jp003647e", f"{srv.url}/doi/abs/10.1021/jp003647e")
        srv.route("/doi/abs/10.1021/jp003647e", challenge, status=403)
        async with context(SourceSettings(base_url=srv.url)) as ctx:
            missing = await SOURCE.resolve(WorkIds(doi="10.1/unknown"), ctx)
            walled = await SOURCE.resolve(WorkIds(doi="10.1021/jp003647e"), ctx)
    assert missing.found is False
    (landing,) = walled.candidates  # kept for the archive tier to rescue
    assert landing.url == f"{srv.url}/doi/abs/10.1021/jp003647e"
    assert landing.extra["final_status"] == 403
