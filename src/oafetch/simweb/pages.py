"""Text bodies of the simulated web: landing pages, article HTML, JATS XML and the
interstitials (Cloudflare challenge, login form, HTML-as-PDF) that oafetch must recognise.

Why hand-written templates: the markers that matter (citation_* meta tags, Signposting,
`cf_chl_opt`, password inputs) must be exactly where real sites put them, and nothing
else should accidentally look like a full-text link.
"""

from __future__ import annotations

from html import escape

__all__ = [
    "article_html",
    "cloudflare_page",
    "jats_xml",
    "landing_page",
    "login_page",
    "not_found_page",
    "wrong_type_page",
]

_PARAS = [
    "We study the problem in a controlled setting and report the main quantities of interest.",
    "Our approach combines a simple model with careful measurement and a reproducible analysis.",
    "The results agree with earlier observations and extend them to a wider range of conditions.",
    "We discuss limitations, including sample size and the assumptions of the model.",
]


def _head(title: str, doi: str | None, journal: str, year: int, extra: str = "") -> str:
    doi_meta = (
        (
            f'<meta name="citation_doi" content="{escape(doi)}">\n'
            f'<meta name="dc.identifier" content="doi:{escape(doi)}">\n'
        )
        if doi
        else ""
    )
    return (
        '<!DOCTYPE html>\n<html lang="en">\n<head>\n<meta charset="utf-8">\n'
        f"<title>{escape(title)} | {escape(journal)}</title>\n"
        f'<meta name="citation_title" content="{escape(title)}">\n'
        '<meta name="citation_author" content="Rivera, Ana">\n'
        '<meta name="citation_author" content="Okafor, Chidi">\n'
        f'<meta name="citation_publication_date" content="{year}/03/14">\n'
        f'<meta name="citation_journal_title" content="{escape(journal)}">\n'
        f"{doi_meta}{extra}"
        '<meta name="viewport" content="width=device-width, initial-scale=1">\n'
        '<link rel="stylesheet" href="/static/site.css">\n</head>\n'
    )


def landing_page(
    *, title: str, doi: str | None, journal: str, year: int, variant: str, pdf_href: str | None
) -> str:
    """A publisher/repository landing page; `variant` decides how (if) the PDF is linked.

    citation: meta citation_pdf_url (absolute); alternate: <link rel=alternate
    type=application/pdf> (relative); refresh: meta refresh (relative); anchor: a
    "Download PDF" anchor (relative); signposting/none: no PDF in the HTML (signposting
    puts it in a Link header); paywall: purchase/login offers only.
    """
    extra = ""
    body_link = ""
    if variant == "citation" and pdf_href:
        extra = f'<meta name="citation_pdf_url" content="{escape(pdf_href)}">\n'
    elif variant == "alternate" and pdf_href:
        extra = f'<link rel="alternate" type="application/pdf" href="{escape(pdf_href)}">\n'
    elif variant == "refresh" and pdf_href:
        extra = f'<meta http-equiv="refresh" content="0; url={escape(pdf_href)}">\n'
    elif variant == "anchor" and pdf_href:
        body_link = (
            f'<p class="article-tools"><a class="btn btn-download" href="{escape(pdf_href)}">'
            "Download PDF</a></p>\n"
        )
    access = ""
    if variant == "paywall":
        access = (
            '<div class="access-options"><h2>Access options</h2>'
            "<p>Purchase this article for 39.95 USD or "
            '<a href="/login">log in via your institution</a> to read the full text.</p>'
            '<a class="btn" href="/cart/add">Buy article</a></div>\n'
        )
    doi_line = (
        f'<p class="doi"><a href="https://doi.org/{escape(doi)}">https://doi.org/{escape(doi)}</a></p>\n'
        if doi
        else ""
    )
    return (
        _head(title, doi, journal, year, extra)
        + '<body>\n<header><nav><a href="/">Home</a> <a href="/about">About</a> '
        '<a href="/search">Search</a></nav></header>\n<main>\n<article>\n'
        f'<h1 class="article-title">{escape(title)}</h1>\n'
        '<p class="authors">Ana Rivera, Chidi Okafor</p>\n'
        f"{doi_line}"
        '<section class="abstract"><h2>Abstract</h2>\n'
        f"<p>{' '.join(_PARAS[:2])}</p></section>\n"
        f"{body_link}{access}"
        '<section class="metrics"><a href="/metrics">Article metrics</a> '
        '<a href="/cite">Cite this article</a></section>\n'
        "</article>\n</main>\n<footer>© Simulated Publishing</footer>\n</body>\n</html>\n"
    )


def article_html(*, title: str, doi: str | None, journal: str, year: int) -> str:
    """A full-text article as HTML (what Europe PMC's html links and OJS galleys serve)."""
    sections = "".join(
        f"<section><h2>{name}</h2>\n"
        + "".join(f"<p>{p} {p}</p>\n" for p in _PARAS)
        + "</section>\n"
        for name in ("Introduction", "Methods", "Results", "Discussion")
    )
    refs = "".join(
        f"<li>Author {n}. An earlier study {n}. Journal {n}, {2000 + n}.</li>" for n in range(1, 16)
    )
    return (
        _head(title, doi, journal, year) + '<body>\n<main>\n<article class="fulltext">\n'
        f'<h1>{escape(title)}</h1>\n<p class="authors">Ana Rivera, Chidi Okafor</p>\n'
        + (f"<p>https://doi.org/{escape(doi)}</p>\n" if doi else "")
        + f'<section class="abstract"><h2>Abstract</h2><p>{_PARAS[0]}</p></section>\n'
        + sections
        + f'<section class="references"><h2>References</h2><ol>{refs}</ol></section>\n'
        + "</article>\n</main>\n</body>\n</html>\n"
    )


def jats_xml(
    *, title: str, doi: str | None, pmcid: str | None, pmid: str | None, journal: str, year: int
) -> str:
    """A JATS 1.2 article (front matter + body), as Europe PMC's fullTextXML returns."""
    ids = ""
    if pmid:
        ids += f'<article-id pub-id-type="pmid">{pmid}</article-id>'
    if pmcid:
        ids += f'<article-id pub-id-type="pmcid">{pmcid}</article-id>'
    if doi:
        ids += f'<article-id pub-id-type="doi">{escape(doi)}</article-id>'
    secs = "".join(
        f'<sec id="s{n}"><title>{name}</title>' + "".join(f"<p>{p}</p>" for p in _PARAS) + "</sec>"
        for n, name in enumerate(("Introduction", "Methods", "Results", "Discussion"), 1)
    )
    return (
        '<?xml version="1.0" encoding="UTF-8"?>\n'
        '<!DOCTYPE article PUBLIC "-//NLM//DTD JATS (Z39.96) Journal Archiving and Interchange '
        'DTD v1.2 20190208//EN" "JATS-archivearticle1.dtd">\n'
        '<article xmlns:xlink="http://www.w3.org/1999/xlink" '
        'xmlns:mml="http://www.w3.org/1998/Math/MathML" article-type="research-article" '
        'dtd-version="1.2">\n<front>\n<journal-meta><journal-title-group>'
        f"<journal-title>{escape(journal)}</journal-title></journal-title-group>"
        '<issn pub-type="epub">2049-0000</issn><publisher><publisher-name>Simulated Publishing'
        "</publisher-name></publisher></journal-meta>\n"
        f"<article-meta>{ids}<title-group><article-title>{escape(title)}</article-title>"
        '</title-group><contrib-group><contrib contrib-type="author"><name><surname>Rivera'
        '</surname><given-names>Ana</given-names></name></contrib><contrib contrib-type="author">'
        "<name><surname>Okafor</surname><given-names>Chidi</given-names></name></contrib>"
        f'</contrib-group><pub-date pub-type="epub"><year>{year}</year></pub-date>'
        f"<abstract><p>{_PARAS[0]}</p></abstract></article-meta>\n</front>\n"
        f'<body>{secs}</body>\n<back><ref-list><ref id="r1"><mixed-citation>An earlier study.'
        "</mixed-citation></ref></ref-list></back>\n</article>\n"
    )


def cloudflare_page(ray: str) -> str:
    """A Cloudflare managed-challenge interstitial with the usual markers."""
    return (
        '<!DOCTYPE html><html lang="en-US"><head><title>Just a moment...</title>'
        '<meta http-equiv="Content-Type" content="text/html; charset=UTF-8">'
        '<meta http-equiv="X-UA-Compatible" content="IE=Edge">'
        '<meta name="robots" content="noindex,nofollow">'
        '<meta name="viewport" content="width=device-width,initial-scale=1">'
        "<style>*{box-sizing:border-box;margin:0;padding:0}html{line-height:1.15}</style>"
        '</head><body><div class="main-wrapper" role="main"><div class="main-content">'
        '<noscript><div class="h2"><span id="challenge-error-text">Enable JavaScript and '
        "cookies to continue</span></div></noscript></div></div><script>(function(){"
        "window._cf_chl_opt={cvId: '3',cZone: 'publisher.example',cType: 'managed',"
        f"cRay: '{ray}',cH: 'x',cUPMDTk: '/pdf?__cf_chl_tk=x',cFPWv: 'b'}};"
        "var cpo=document.createElement('script');"
        f"cpo.src='/cdn-cgi/challenge-platform/h/b/orchestrate/chl_page/v1?ray={ray}';"
        "window._cf_chl_opt.cOgUHash=location.hash;document.getElementsByTagName('head')[0]"
        ".appendChild(cpo);}());</script></body></html>"
    )


def login_page(site: str) -> str:
    """A sign-in form guarding the full text."""
    return (
        f"<!DOCTYPE html><html><head><title>Sign in | {escape(site)}</title></head><body>"
        "<main><h1>Sign in to continue</h1><p>You need a subscription or an institutional "
        "login to access the full text of this article.</p>"
        '<form action="/login" method="post"><label>Email <input type="email" name="username">'
        '</label><label>Password <input type="password" name="password"></label>'
        '<button type="submit">Log in</button></form>'
        '<p><a href="/institutional-login">Access through your institution</a> · '
        '<a href="/subscribe">Subscribe</a></p></main></body></html>'
    )


def wrong_type_page(title: str) -> str:
    """An HTML page that a server labels application/pdf (a viewer shell, not a PDF)."""
    return (
        f"<!DOCTYPE html><html><head><title>{escape(title)} - PDF viewer</title></head><body>"
        '<div id="viewer"><p>Loading document viewer...</p>'
        '<iframe src="/viewer/frame" width="100%" height="800"></iframe></div></body></html>'
    )


def not_found_page() -> str:
    return (
        "<!DOCTYPE html><html><head><title>404 Not Found</title></head><body><h1>Not Found</h1>"
        "<p>The requested URL was not found on this server.</p></body></html>"
    )
