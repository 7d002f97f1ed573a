"""The family's copy of the plan: a real PDF, Swedish by default, English on request, naming
the youth only for a viewer who may know who it is, audited."""

from __future__ import annotations

import io
import os

import pytest
from django.urls import reverse
from pypdf import PdfReader

from samverkan.audit.models import AuditEvent
from tests.cases.conftest import YOUTH_NAME, YOUTH_NUMBER
from tests.plans.conftest import GOAL_TEXT


def _pango_missing() -> str:
    try:
        import weasyprint  # noqa: F401
    except OSError as exc:  # WeasyPrint needs the system's Pango library
        return str(exc).splitlines()[0]
    return ""


# Like the browser tests: without Pango these skip on a developer's machine, and fail where
# SAMVERKAN_REQUIRE_PDF=1 (CI), so that CI cannot pass by skipping them.
_MISSING = _pango_missing()
if _MISSING:
    if os.environ.get("SAMVERKAN_REQUIRE_PDF", "") not in ("", "0"):
        pytest.fail(
            f"SAMVERKAN_REQUIRE_PDF=1 but WeasyPrint cannot load: {_MISSING}", pytrace=False
        )
    pytestmark = pytest.mark.skip(
        reason=f"PDF tests skipped: WeasyPrint cannot load ({_MISSING}); install libpango-1.0-0"
    )


def pdf_text(content: bytes) -> str:
    reader = PdfReader(io.BytesIO(content))
    return " ".join(" ".join((page.extract_text() or "").split()) for page in reader.pages)


def url(pw, lang: str | None = None) -> str:
    base = reverse("plans:pdf", args=[pw.cw.case.pk])
    return f"{base}?lang={lang}" if lang else base


def test_pdf_is_swedish_by_default(client_for, personas, plan_world):
    response = client_for(personas.practitioner).get(url(plan_world))
    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"
    assert response.content.startswith(b"%PDF")
    text = pdf_text(response.content)
    for expected in (
        "Handlingsplan",
        YOUTH_NAME,
        "Det här vill vi uppnå",
        GOAL_TEXT,
        "Det här gör vi",
        "Stöd i skolan",
        "Avesta skola",
        "Polisen LPO Falun",
        "När vi ses för att följa upp",
        plan_world.follow_up.date.isoformat(),
        "Vem ni kontaktar",
        "Planerad",
    ):
        assert expected in text, expected
    assert "What we want to achieve" not in text
    assert YOUTH_NUMBER not in text
    assert YOUTH_NUMBER[-4:] not in text


def test_pdf_in_english_on_request(client_for, personas, plan_world):
    response = client_for(personas.practitioner).get(url(plan_world, "en"))
    assert response.status_code == 200
    text = pdf_text(response.content)
    for expected in (
        "Action plan",
        "What we want to achieve",
        GOAL_TEXT,  # the team's own words stay as written
        "What we will do",
        "Support in school",
        "When we meet to follow up",
        "Who to contact",
    ):
        assert expected in text, expected
    assert "Det här vill vi uppnå" not in text


def test_pdf_swedish_explicitly_and_unknown_language(client_for, personas, plan_world):
    client = client_for(personas.practitioner)
    assert "Handlingsplan" in pdf_text(client.get(url(plan_world, "sv")).content)
    response = client.get(url(plan_world, "de"))
    assert response.status_code == 400
    assert "Swedish or English" in response.content.decode()


def test_pdf_is_an_attachment_named_by_pseudonym(client_for, personas, plan_world):
    response = client_for(personas.practitioner).get(url(plan_world))
    disposition = response["Content-Disposition"]
    pseudonym = plan_world.cw.case.youth.pseudonym
    assert disposition.startswith("attachment;")
    assert pseudonym in disposition
    assert "handlingsplan" in disposition
    for secret in ("Kalle", "Testberg", YOUTH_NUMBER[-4:], YOUTH_NUMBER[:8]):
        assert secret not in disposition
    assert "no-store" in response["Cache-Control"]
    english = client_for(personas.practitioner).get(url(plan_world, "en"))
    assert f"action-plan-{pseudonym}.pdf" in english["Content-Disposition"]


@pytest.mark.parametrize("persona", ["police", "other_agency"])
def test_pseudonymous_viewer_cannot_get_the_pdf(client_for, personas, plan_world, persona):
    response = client_for(getattr(personas, persona)).get(url(plan_world))
    assert response.status_code == 403
    html = response.content.decode()
    assert "pseudonym" in html
    assert YOUTH_NAME not in html
    assert not response.content.startswith(b"%PDF")
    denied = AuditEvent.objects.filter(action="plan.pdf_export_denied").latest("id")
    assert denied.outcome == "denied"
    assert denied.case_id == plan_world.cw.case.pk
    assert not AuditEvent.objects.filter(action="plan.pdf_exported").exists()


def test_export_is_audited_with_the_language(client_for, personas, plan_world):
    client = client_for(personas.practitioner)
    client.get(url(plan_world, "en"))
    events = AuditEvent.objects.filter(action="plan.pdf_exported").order_by("id")
    assert {e.details["language"] for e in events} == {"en"}
    assert {(e.object_type, e.object_id) for e in events} == {
        ("plans.actionplan", str(plan_world.plan.pk)),
        ("plans.goal", str(plan_world.goal.pk)),
        ("plans.intervention", str(plan_world.school_intervention.pk)),
        ("plans.intervention", str(plan_world.police_intervention.pk)),
    }
    assert {e.case_id for e in events} == {plan_world.cw.case.pk}
    assert {e.actor_id for e in events} == {personas.practitioner.pk}
    assert events[0].legal_basis == "own_agency"
    client.get(url(plan_world))
    assert AuditEvent.objects.filter(action="plan.pdf_exported", details__language="sv").exists()


def test_markup_in_plan_text_is_printed_as_text_and_fetches_nothing(
    client_for, personas, plan_world
):
    from samverkan.plans.services import goal_add

    goal_add(
        actor=personas.practitioner,
        plan=plan_world.plan,
        text='Läsa <img src="file:///etc/hostname"> varje dag',
    )
    response = client_for(personas.practitioner).get(url(plan_world))
    assert response.status_code == 200
    assert '<img src="file:///etc/hostname">' in pdf_text(response.content)


def test_no_plan_no_pdf(client_for, personas, case_world):
    response = client_for(personas.practitioner).get(
        reverse("plans:pdf", args=[case_world.case.pk])
    )
    assert response.status_code == 404


def test_without_pango_the_export_says_so_instead_of_failing(
    client_for, personas, plan_world, monkeypatch
):
    import builtins

    real_import = builtins.__import__

    def no_weasyprint(name, *args, **kwargs):
        if name == "weasyprint":
            raise OSError("cannot load library 'libpango-1.0-0'")
        return real_import(name, *args, **kwargs)

    monkeypatch.setattr(builtins, "__import__", no_weasyprint)
    response = client_for(personas.practitioner).get(url(plan_world))
    assert response.status_code == 503
    assert b"Pango" in response.content
