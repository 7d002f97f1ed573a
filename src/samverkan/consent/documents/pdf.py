"""The printable documents of a consent: the form to sign on paper and the receipt, as PDFs
(``lib.pdf``), in the document's own language with the wording of ``documents.text``."""

from __future__ import annotations

from django.template.loader import render_to_string
from django.utils import timezone, translation
from django.utils.html import format_html

from samverkan.consent.documents.document import ConsentDocument, SignerLine
from samverkan.lib.pdf import html_to_pdf


def _unbroken(url: str) -> str:
    return format_html('<span class="nowrap">{}</span>', url)


def _sentences(doc: ConsentDocument) -> dict[str, str]:
    """The sentences of the PDFs with their facts filled in (HTML: values escaped)."""
    t = doc.t
    return {
        "about": (
            t["about_named"].format(youth=doc.youth_name)
            if doc.identity_shown
            else t["about_pseudonym"].format(pseudonym=doc.pseudonym)
        ),
        "when": t["when_text"].format(
            first=doc.first_day.isoformat(), last=doc.last_day.isoformat()
        ),
        "adult": (t["adult_text"].format(day=doc.adult_day.isoformat()) if doc.adult_day else ""),
        "signers": t["signers_text"].format(age=doc.youth_signs_from_age),
        # The address is kept on one line: a broken one cannot be typed from the paper.
        "withdraw": format_html(t["withdraw_text"], portal=_unbroken(doc.portal_url)),
        "how_to_withdraw": format_html(t["how_to_withdraw"], portal=_unbroken(doc.portal_url)),
        "period": t["period_value"].format(
            first=doc.first_day.isoformat(), last=doc.last_day.isoformat()
        ),
        "withdrawal": (
            t["withdrawal_text"].format(
                when=timezone.localtime(doc.withdrawal.withdrawn_at).strftime("%Y-%m-%d %H:%M"),
                method=doc.withdrawal.method_label,
            )
            if doc.withdrawal
            else ""
        ),
    }


def _signed_note(doc: ConsentDocument, signer: SignerLine) -> str:
    if signer.signed_on is None:
        return ""
    note: str = doc.t["signed_note"].format(
        day=signer.signed_on.isoformat(), method=signer.method_label
    )
    return note


def _render(template: str, doc: ConsentDocument) -> bytes:
    context = {
        "d": doc,
        "t": doc.t,
        "s": _sentences(doc),
        "signers": [(signer, _signed_note(doc, signer)) for signer in doc.signers],
    }
    with translation.override(doc.language):
        html = render_to_string(f"consent/documents/{template}.html", context)
        css = render_to_string("consent/documents/document.css", context)
    return html_to_pdf(html, css)


def form_pdf(doc: ConsentDocument) -> bytes:
    return _render("form", doc)


def receipt_pdf(doc: ConsentDocument) -> bytes:
    return _render("receipt", doc)
