"""The family's copy of the action plan as a PDF, in Swedish or English.

The wording lives in ``FAMILY_TEXT`` below, keyed by language, and nowhere else: the page
strings of the app go through gettext, but the Swedish catalogue is updated by the lead later,
and a family must never get a half-English letter meanwhile. Keep every string of the PDF
here (headings, intervention kinds and statuses included); the template only looks them up.
"""

from __future__ import annotations

from typing import Any

from django.template.loader import render_to_string
from django.utils import translation

from samverkan.plans.models import InterventionKind, InterventionStatus
from samverkan.plans.selectors import FamilyPlan

LANGUAGES = ("sv", "en")
DEFAULT_LANGUAGE = "sv"

FAMILY_TEXT: dict[str, dict[str, Any]] = {
    "sv": {
        "title": "Handlingsplan",
        "for": "för",
        "intro": (
            "Det här är planen som ni i familjen och vi som arbetar i skolan, socialtjänsten, "
            "polisen och fritidsverksamheten har kommit överens om. Den visar vad vi vill "
            "uppnå, vem som gör vad och när vi ses igen för att se hur det går."
        ),
        "plan_date": "Planen gjordes",
        "printed": "Utskriven",
        "reference": "Referens",
        "goals": "Det här vill vi uppnå",
        "achieved": "uppnått",
        "no_goals": "Inga mål är skrivna än.",
        "interventions": "Det här gör vi",
        "interventions_caption": "Insatser i planen",
        "what": "Vad",
        "who": "Vem ansvarar",
        "when": "När",
        "status": "Läge",
        "from": "från",
        "until": "till",
        "until_further_notice": "tills vidare",
        "no_interventions": "Inga insatser är planerade än.",
        "follow_ups": "När vi ses för att följa upp",
        "follow_ups_intro": (
            "Vid de här mötena går vi tillsammans igenom hur det går och ändrar planen om det "
            "behövs."
        ),
        "held": "genomfört",
        "no_follow_ups": "Inga datum är bestämda än.",
        "contact": "Vem ni kontaktar",
        "contact_intro": "Har ni frågor om planen, eller vill ni ändra något? Kontakta:",
        "page": "Sida",
        "of": "av",
        "kinds": {
            InterventionKind.SCHOOL_SUPPORT: "Stöd i skolan",
            InterventionKind.FAMILY_SUPPORT: "Stöd till familjen från socialtjänsten",
            InterventionKind.LEISURE_ACTIVITY: "Fritidsaktivitet",
            InterventionKind.CONCERN_TALK: (
                "Samtal med polisen tillsammans med den unga och vårdnadshavarna (orossamtal)"
            ),
            InterventionKind.OTHER: "Annat stöd",
        },
        "statuses": {
            InterventionStatus.PLANNED: "Planerad",
            InterventionStatus.ONGOING: "Pågår",
            InterventionStatus.DONE: "Genomförd",
            InterventionStatus.CANCELLED: "Avbruten",
        },
    },
    "en": {
        "title": "Action plan",
        "for": "for",
        "intro": (
            "This is the plan that you as a family and we who work in school, social services, "
            "the police and leisure activities have agreed on. It shows what we want to "
            "achieve, who does what, and when we meet again to see how it is going."
        ),
        "plan_date": "Plan made",
        "printed": "Printed",
        "reference": "Reference",
        "goals": "What we want to achieve",
        "achieved": "achieved",
        "no_goals": "No goals have been written yet.",
        "interventions": "What we will do",
        "interventions_caption": "Interventions in the plan",
        "what": "What",
        "who": "Who is responsible",
        "when": "When",
        "status": "Status",
        "from": "from",
        "until": "until",
        "until_further_notice": "until further notice",
        "no_interventions": "No interventions have been planned yet.",
        "follow_ups": "When we meet to follow up",
        "follow_ups_intro": (
            "At these meetings we go through together how things are going and change the plan "
            "if needed."
        ),
        "held": "held",
        "no_follow_ups": "No dates have been set yet.",
        "contact": "Who to contact",
        "contact_intro": (
            "If you have questions about the plan or want to change something, contact:"
        ),
        "page": "Page",
        "of": "of",
        "kinds": {
            InterventionKind.SCHOOL_SUPPORT: "Support in school",
            InterventionKind.FAMILY_SUPPORT: "Support to the family from social services",
            InterventionKind.LEISURE_ACTIVITY: "Leisure activity",
            InterventionKind.CONCERN_TALK: (
                "A talk with the police together with the young person and the guardians"
            ),
            InterventionKind.OTHER: "Other support",
        },
        "statuses": {
            InterventionStatus.PLANNED: "Planned",
            InterventionStatus.ONGOING: "Ongoing",
            InterventionStatus.DONE: "Done",
            InterventionStatus.CANCELLED: "Cancelled",
        },
    },
}

FILENAME_STEM = {"sv": "handlingsplan", "en": "action-plan"}


def filename(family: FamilyPlan, language: str) -> str:
    """Named by pseudonym: the file name shows in download lists and mail attachments."""
    return f"{FILENAME_STEM[language]}-{family.pseudonym}.pdf"


class PdfUnavailableError(Exception):
    """WeasyPrint cannot run on this server (the Pango library is missing)."""


def render(family: FamilyPlan, language: str) -> bytes:
    if language not in LANGUAGES:
        raise ValueError(f"no family text in {language!r}")
    text = FAMILY_TEXT[language]
    rows = [
        {
            "intervention": i,
            "kind": text["kinds"][i.kind],
            "status": text["statuses"][i.status],
        }
        for i in family.interventions
    ]
    context = {"family": family, "t": text, "lang": language, "rows": rows}
    with translation.override(language):
        html = render_to_string("plans/family_plan_pdf.html", context)
        css = render_to_string("plans/family_plan_pdf.css", context)
    # Imported here, not at the top: WeasyPrint needs the system's Pango library, and without it
    # only the PDF export should fail, not every page of the application.
    try:
        import weasyprint
    except OSError as exc:
        raise PdfUnavailableError(str(exc).splitlines()[0]) from None

    class NoFetching(weasyprint.URLFetcher):
        """Made from the template alone: nothing is loaded from a URL or a file, so no text in a
        plan can make the server fetch anything."""

        def fetch(self, url: str, headers: object = None) -> weasyprint.urls.URLFetcherResponse:
            raise ValueError(f"the family plan loads no resources ({url[:40]})")

    document = weasyprint.HTML(string=html, base_url="about:blank", url_fetcher=NoFetching())
    pdf: bytes = document.write_pdf(
        stylesheets=[weasyprint.CSS(string=css, url_fetcher=NoFetching())],
        pdf_tags=True,  # tagged PDF: screen readers follow headings, lists and tables
    )
    return pdf
