"""Wayback: every real CDX recording parses; rescue over loopback (availability API is
documented-shape only: no real recording of it exists)."""

from __future__ import annotations

import json
from pathlib import Path

from _realserver import SettingsWithApi, context, serve

from oafetch.ids import WorkIds
from oafetch.sources.base import Kind
from oafetch.sources.wayback import SOURCE, best_captures, parse_available, parse_cdx, rescue

CRAWL = "wayback/sandcrawler_papers_url_doi.cdx"
ENERGY = (
    "wayback/edgi_cdx_search_cdx__url-energystar.gov__limit-1000_from-20200612000000_to-20200613000000"
    "_showResumeKey-true_resolve_d8029b53.txt"
)
BLOCKED = (
    "wayback/edgi_cdx_search_cdx__url-https_nationalpost.com_health_limit-1000_from-20191001000000"
    "_to-20191002000000_showResumeKe_4385e992.http403.txt"
)


def test_every_cdx_recording_parses(realdata: Path) -> None:
    total = 0
    for path in sorted((realdata / "wayback").iterdir()):
        text = path.read_text(encoding="utf-8", errors="replace")
        rows = parse_cdx(text)
        data_lines = [
            ln
            for ln in text.splitlines()
            if len(ln.split()) >= 5 and ln.split()[1].isdigit() and not ln.startswith("#")
        ]
        assert len(rows) == len(data_lines), path.name
        assert all(r.timestamp.isdigit() and len(r.timestamp) == 14 for r in rows)
        total += len(rows)
    assert total > 1000
    assert parse_cdx((realdata / BLOCKED).read_text()) == []


def test_crawl_cdx_pdf_rows_and_statuses(realdata: Path) -> None:
    rows = parse_cdx((realdata / CRAWL).read_text())
    assert [(r.original, r.mimetype, r.status) for r in rows][:2] == [
        ("http://mit.edu/file.pdf", "application/pdf", "200"),
        ("http://mit.edu/file.pdf", "application/pdf", "200"),
    ]
    energy = best_captures(parse_cdx((realdata / ENERGY).read_text()))
    assert energy and all(c.status == "200" for c in energy)  # 301s and revisits dropped
    assert [c.timestamp for c in energy] == sorted((c.timestamp for c in energy), reverse=True)


def test_json_output_form_matches_text_form(realdata: Path) -> None:
    text = (realdata / ENERGY).read_text()
    header = ["urlkey", "timestamp", "original", "mimetype", "statuscode", "digest", "length"]
    table = [header] + [ln.split() for ln in text.splitlines() if len(ln.split()) == 7]
    assert parse_cdx(json.dumps(table)) == parse_cdx(text)


def test_available_documented_shape() -> None:
    cap = parse_available(
        {
            "url": "example.org/a.pdf",
            "archived_snapshots": {
                "closest": {
                    "status": "200",
                    "available": True,
                    "url": "http://web.archive.org/web/20200102030405/https://example.org/a.pdf",
                    "timestamp": "20200102030405",
                }
            },
        }
    )
    assert cap is not None and cap.original == "https://example.org/a.pdf"
    assert parse_available({"archived_snapshots": {}}) is None


async def test_rescue_over_loopback(realdata: Path) -> None:
    dead = "http://journals.ametsoc.org/doi/pdf/10.1175/2008BAMS2370.1"
    available = {
        "archived_snapshots": {
            "closest": {
                "available": True,
                "status": "200",
                "timestamp": "20150101000000",
                "url": f"http://web.archive.org/web/20150101000000/{dead}",
            }
        }
    }
    with serve() as srv:
        srv.route("/cdx/search/cdx", realdata / CRAWL)
        srv.route("/wayback/available", json.dumps(available), content_type="application/json")
        settings = SettingsWithApi(base_url=srv.url, api_url=srv.url)
        async with context(settings) as ctx:
            found = await rescue(dead, ctx)
        (cdx,) = srv.seen("/cdx/search/cdx")
        (avail,) = srv.seen("/wayback/available")
    assert cdx.query["url"] == [dead] and cdx.query["filter"] == ["statuscode:200"]
    assert avail.query["url"] == [dead]
    first = found[0]
    assert first.url == f"{srv.url}/web/20170706005950id_/http://mit.edu/file.pdf"
    assert first.technique == "wayback.cdx" and first.kind is Kind.PDF
    assert first.extra == {"wayback_timestamp": "20170706005950", "original_url": dead}
    assert f"{srv.url}/web/20150101000000id_/{dead}" in {c.url for c in found}
    assert SOURCE.applies(WorkIds(doi="10.1/x")) is False


async def test_rescue_blocked_site_gives_nothing(realdata: Path) -> None:
    with serve() as srv:
        srv.route("/cdx/search/cdx", realdata / BLOCKED, status=403)
        srv.route(
            "/wayback/available", b'{"archived_snapshots": {}}', content_type="application/json"
        )
        async with context(SettingsWithApi(base_url=srv.url, api_url=srv.url)) as ctx:
            assert await rescue("https://nationalpost.com/health", ctx) == []
