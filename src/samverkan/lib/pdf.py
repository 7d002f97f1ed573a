"""PDF from an HTML template and its stylesheet, with WeasyPrint.

WeasyPrint is imported only when a PDF is made: it needs the system's Pango library, and
without it only the PDF downloads should fail (``PdfUnavailableError``, answered 503), not every
page of the application. Nothing is fetched while rendering — no URL, no local file — so no text
in a document can make the server load anything (SSRF, local files).
"""

from __future__ import annotations


class PdfUnavailableError(Exception):
    """WeasyPrint cannot run on this server (the Pango library is missing)."""


def html_to_pdf(html: str, css: str) -> bytes:
    try:
        import weasyprint
    except OSError as exc:
        raise PdfUnavailableError(str(exc).splitlines()[0]) from None

    class NoFetching(weasyprint.URLFetcher):
        def fetch(self, url: str, headers: object = None) -> weasyprint.urls.URLFetcherResponse:
            raise ValueError(f"documents load no resources ({url[:40]})")

    document = weasyprint.HTML(string=html, base_url="about:blank", url_fetcher=NoFetching())
    pdf: bytes = document.write_pdf(
        stylesheets=[weasyprint.CSS(string=css, url_fetcher=NoFetching())],
        pdf_tags=True,  # tagged PDF: screen readers follow headings, lists and tables
    )
    return pdf
