"""PDF copies: a published promise for the public, and the council report for the council.

Rendered with WeasyPrint from templates in the active language (the pages' gettext strings, so
the PDF reads like the page it came from), tagged for screen readers, and made from the
template alone: nothing is ever fetched from a URL or a file.
"""

from __future__ import annotations

from typing import Any

from django.template.loader import render_to_string
from django.utils import translation
from django.utils.text import slugify

from samverkan.promises.public_selectors import CouncilReport, countable_rows
from samverkan.promises.selectors import AgreementDetail


class PdfUnavailableError(Exception):
    """WeasyPrint cannot run on this server (the Pango library is missing)."""


def promise_filename(detail: AgreementDetail) -> str:
    """By title, so that a saved copy says what it is; the title is public text."""
    stem = slugify(detail.agreement.title) or "agreement"
    return f"{stem[:80]}.pdf"


def council_filename(report: CouncilReport) -> str:
    stem = "council-report"
    if report.chosen is not None:
        stem += f"-{report.chosen.code}"
    return f"{stem}-{report.made_on.isoformat()}.pdf"


def promise_pdf(detail: AgreementDetail) -> bytes:
    """A published agreement as the public page shows it (the caller passes the public
    detail from ``promise_public_detail``; nothing here checks publication)."""
    return _render(
        "promises/public/promise_pdf.html",
        {"detail": detail, "agreement": detail.agreement, "countable": countable_rows(detail)},
    )


def council_pdf(report: CouncilReport) -> bytes:
    return _render("promises/council/report_pdf.html", {"report": report})


def _render(template: str, context: dict[str, Any]) -> bytes:
    context = {**context, "lang": translation.get_language() or "sv"}
    html = render_to_string(template, context)
    css = render_to_string("promises/public/pdf.css", context)
    # Imported here, not at the top: WeasyPrint needs the system's Pango library, and without it
    # only the PDF export should fail, not every page of the application.
    try:
        import weasyprint
    except OSError as exc:
        raise PdfUnavailableError(str(exc).splitlines()[0]) from None

    class NoFetching(weasyprint.URLFetcher):
        """Agreement texts are written by staff and published: none of them may make the
        server fetch anything (SSRF, local files)."""

        def fetch(self, url: str, headers: object = None) -> weasyprint.urls.URLFetcherResponse:
            raise ValueError(f"the report loads no resources ({url[:40]})")

    document = weasyprint.HTML(string=html, base_url="about:blank", url_fetcher=NoFetching())
    pdf: bytes = document.write_pdf(
        stylesheets=[weasyprint.CSS(string=css, url_fetcher=NoFetching())],
        pdf_tags=True,  # tagged PDF: screen readers follow headings, lists and tables
    )
    return pdf
