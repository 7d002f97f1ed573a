"""Staff consent pages: every URL with the persona trio, the flows through forms, the case
page's explanations both ways, and pinned query counts."""

from __future__ import annotations

import base64

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from samverkan.audit.models import AuditEvent
from samverkan.cases.services import entry_add, team_add
from samverkan.consent.models import (
    Consent,
    ConsentSignature,
    ConsentWithdrawal,
    RequiredSigner,
    StatutoryDisclosure,
)
from samverkan.consent.services import signature_record
from tests import scans
from tests.consent.conftest import GUARDIAN_1_NAME, IDENTITY_NUMBERS, YOUTH_NAME, make_consent
from tests.helpers import assert_trio, count_queries

# A real scan: the upload check decodes it and refuses a few magic bytes.
PDF = scans.scan_pdf()


def _signer_ids(consent: Consent) -> list[int]:
    return list(RequiredSigner.objects.filter(consent=consent).values_list("pk", flat=True))


def _school_entry(personas, world, consent_case, text="Skolans iakttagelse om frånvaro."):
    return entry_add(
        actor=personas.practitioner,
        case=consent_case.case,
        agency=world.avesta_school,
        category=consent_case.school_category,
        text=text,
    )


# --- The trio on every URL -------------------------------------------------------------------


def test_case_consents_page_trio(client_for, personas, consent_case):
    url = reverse("consent:case", args=[consent_case.case.pk])
    assert_trio(client_for, url, allowed=personas.practitioner, outsider=personas.outsider)
    # Creating: the social worker on the team reads but does not draw up consents.
    assert_trio(
        client_for,
        url,
        allowed=personas.coordinator,
        outsider=personas.outsider,
        read_only=personas.other_agency,
        method="post",
        data={"agencies": []},
    )


def test_consent_detail_trio(client_for, personas, pending_consent):
    url = reverse("consent:detail", args=[pending_consent.pk])
    assert_trio(client_for, url, allowed=personas.other_agency, outsider=personas.outsider)


def test_sign_trio(client_for, personas, pending_consent):
    signer = _signer_ids(pending_consent)[0]
    url = reverse("consent:sign", args=[pending_consent.pk, signer])
    assert_trio(
        client_for,
        url,
        allowed=personas.coordinator,
        outsider=personas.outsider,
        read_only=personas.other_agency,
        method="post",
        wrong_method="get",
        data={f"signer{signer}-method": "bogus"},
    )


def test_withdraw_trio(client_for, personas, active_consent):
    url = reverse("consent:withdraw", args=[active_consent.pk])
    assert_trio(
        client_for,
        url,
        allowed=personas.other_agency,
        outsider=personas.outsider,
        method="post",
        wrong_method="get",
        data={},
    )


def test_evidence_trio(client_for, personas, pending_consent):
    signer = RequiredSigner.objects.filter(consent=pending_consent)[0]
    evidence = signature_record(
        actor=personas.practitioner,
        signer=signer,
        method="paper",
        evidence=SimpleUploadedFile("form.pdf", PDF),
    ).evidence
    assert evidence is not None
    url = reverse("consent:evidence", args=[pending_consent.pk, signer.pk])
    assert_trio(client_for, url, allowed=personas.coordinator, outsider=personas.outsider)
    response = client_for(personas.coordinator).get(url)
    # The stored scan (rewritten without metadata), decrypted.
    assert response.content == base64.b64decode(evidence.content_b64)
    assert response.content.startswith(b"%PDF-")
    assert response["Content-Disposition"] == (
        f'attachment; filename="consent-{pending_consent.pk}-form.pdf"'
    )
    assert response["X-Content-Type-Options"] == "nosniff"
    # The social worker, who does not know the family yet, does not get the scan, and the log
    # does not say they did.
    assert client_for(personas.other_agency).get(url).status_code == 404
    viewed = AuditEvent.objects.filter(action="consent.evidence_viewed")
    assert set(viewed.values_list("actor__username", flat=True)) == {"eva"}
    assert not viewed.filter(actor=personas.other_agency).exists()


def test_disclose_trio(client_for, personas, world, consent_case):
    team_add(
        actor=personas.coordinator,
        case=consent_case.case,
        user=personas.police,
        agency=world.police,
    )
    entry = _school_entry(personas, world, consent_case)
    url = reverse("consent:disclose", args=[consent_case.case.pk, entry.pk])
    assert_trio(client_for, url, allowed=personas.practitioner, outsider=personas.outsider)
    # Another agency cannot see the entry at all: 404, like a missing one.
    assert client_for(personas.other_agency).get(url).status_code == 404


@pytest.mark.parametrize("who", ["council_member", "auditor", "admin", "colleague", "no_role"])
def test_roles_without_need_to_know_get_404(client_for, personas, pending_consent, who):
    case_pk = pending_consent.case_id
    signer = _signer_ids(pending_consent)[0]
    client = client_for(getattr(personas, who))
    for url in (
        reverse("consent:case", args=[case_pk]),
        reverse("consent:detail", args=[pending_consent.pk]),
        reverse("consent:evidence", args=[pending_consent.pk, signer]),
    ):
        assert client.get(url).status_code == 404, url
    assert client.post(reverse("consent:withdraw", args=[pending_consent.pk])).status_code == 404


def test_anonymous_visitors_are_sent_to_log_in(client, pending_consent):
    response = client.get(reverse("consent:detail", args=[pending_consent.pk]))
    assert response.status_code == 302
    assert "/accounts/login/" in response["Location"]


# --- Flows through the forms -----------------------------------------------------------------


def test_coordinator_draws_up_and_records_signatures_through_the_pages(
    client_for, personas, world, consent_case
):
    client = client_for(personas.coordinator)
    url = reverse("consent:case", args=[consent_case.case.pk])
    page = client.get(url)
    assert page.status_code == 200
    assert "Draw up a consent" in page.content.decode()
    response = client.post(
        url,
        {
            "agencies": [world.avesta_school.pk, world.avesta_social.pk],
            "categories": [consent_case.school_category.pk],
            "valid_from": page.context["form"].initial["valid_from"].isoformat(),
            "valid_until": page.context["form"].initial["valid_until"].isoformat(),
            "language": "sv",
        },
    )
    consent = Consent.objects.get()
    assert response.status_code == 302
    assert response["Location"] == reverse("consent:detail", args=[consent.pk])
    detail = client.get(response["Location"]).content.decode()
    # The coordinator obtains the signatures but knows the family by pseudonym only.
    assert "Guardian 1" in detail
    assert GUARDIAN_1_NAME not in detail
    assert YOUTH_NAME not in detail
    first, second = _signer_ids(consent)
    bad = client.post(
        reverse("consent:sign", args=[consent.pk, first]),
        {
            f"signer{first}-method": "paper",
            f"signer{first}-evidence": SimpleUploadedFile("a.png", PDF),
        },
    )
    assert bad.status_code == 400
    assert "its name says otherwise" in bad.content.decode()
    assert not ConsentSignature.objects.exists()
    ok = client.post(
        reverse("consent:sign", args=[consent.pk, first]),
        {
            f"signer{first}-method": "paper",
            f"signer{first}-evidence": SimpleUploadedFile("a.pdf", PDF),
        },
    )
    assert ok.status_code == 302
    client.post(
        reverse("consent:sign", args=[consent.pk, second]), {f"signer{second}-method": "in_person"}
    )
    assert ConsentSignature.objects.count() == 2
    assert "Active" in client.get(reverse("consent:detail", args=[consent.pk])).content.decode()


def test_create_form_errors_are_shown(client_for, personas, consent_case):
    client = client_for(personas.practitioner)
    response = client.post(
        reverse("consent:case", args=[consent_case.case.pk]),
        {"valid_from": "2020-01-01", "valid_until": "2020-01-02", "language": "sv"},
    )
    assert response.status_code == 400
    assert "This field is required." in response.content.decode()
    assert not Consent.objects.exists()


def test_withdrawal_through_the_page_needs_confirmation(client_for, personas, active_consent):
    client = client_for(personas.other_agency)
    url = reverse("consent:withdraw", args=[active_consent.pk])
    signer = _signer_ids(active_consent)[0]
    unconfirmed = client.post(url, {"signer": signer, "method": "oral"})
    assert unconfirmed.status_code == 400
    assert not ConsentWithdrawal.objects.exists()
    confirmed = client.post(url, {"signer": signer, "method": "oral", "confirm": "on"})
    assert confirmed.status_code == 302
    withdrawal = ConsentWithdrawal.objects.get()
    assert withdrawal.recorded_by == personas.other_agency
    assert "Withdrawn" in client.get(confirmed["Location"]).content.decode()


def test_statutory_disclosure_through_the_page(client_for, personas, world, consent_case):
    team_add(
        actor=personas.coordinator,
        case=consent_case.case,
        user=personas.police,
        agency=world.police,
    )
    entry = _school_entry(personas, world, consent_case, text="Misstänkt stöld i skolan.")
    client = client_for(personas.practitioner, reauth=True)
    entry_page = client.get(reverse("cases:entry", args=[consent_case.case.pk, entry.pk]))
    assert "under a statutory basis" in entry_page.content.decode()
    url = reverse("consent:disclose", args=[consent_case.case.pk, entry.pk])
    response = client.post(
        url,
        {
            "to_agency": world.police.pk,
            "basis": "suspected_crime_24",
            "condition_more_than_a_fine": "on",
            "condition_checked_section_24": "on",
            "justification": "Skolan misstänker stöld av elevens dator enligt rektor.",
        },
    )
    assert response.status_code == 302
    assert StatutoryDisclosure.objects.count() == 1
    police_page = client_for(personas.police).get(
        reverse("cases:detail", args=[consent_case.case.pk])
    )
    html = police_page.content.decode()
    assert "Misstänkt stöld i skolan." in html
    assert "Disclosed without consent under a statutory basis" in html


# --- The case page explains both ways --------------------------------------------------------


def test_case_page_explains_what_is_shared_and_what_is_not(
    client_for, personas, world, active_consent, consent_case
):
    _school_entry(personas, world, consent_case)
    team_add(
        actor=personas.coordinator,
        case=consent_case.case,
        user=personas.police,
        agency=world.police,
    )
    entry_add(
        actor=personas.police,
        case=consent_case.case,
        agency=world.police,
        category=consent_case.school_category.__class__.objects.get(
            sector="police", code="incidents"
        ),
        text="Polisens anteckning.",
    )
    social = client_for(personas.other_agency).get(
        reverse("cases:detail", args=[consent_case.case.pk])
    )
    html = social.content.decode()
    assert "Skolans iakttagelse om frånvaro." in html
    assert f"Shared under consent #{active_consent.pk}, signed by {GUARDIAN_1_NAME}" in html
    assert "Polisens anteckning." not in html
    assert (
        "1 entry from Polisen LPO Falun is not shown: no consent covers "
        "Polisen LPO Falun → Avesta socialtjänst." in html
    )
    # Identity crosses with the consent: the social worker now sees who the youth is.
    assert YOUTH_NAME in html
    police = client_for(personas.police).get(reverse("cases:detail", args=[consent_case.case.pk]))
    police_html = police.content.decode()
    assert YOUTH_NAME not in police_html
    for number in IDENTITY_NUMBERS:
        assert number not in police_html
        assert number.replace("-", "") not in police_html


def test_query_counts_do_not_grow_with_consents_or_entries(
    client_for, personas, world, consent_case
):
    def add_rows(n: int) -> None:
        for _ in range(n):
            consent = make_consent(personas, world, consent_case)
            for signer in RequiredSigner.objects.filter(consent=consent):
                signature_record(actor=personas.practitioner, signer=signer, method="in_person")
            _school_entry(personas, world, consent_case)

    client = client_for(personas.other_agency)
    urls = [
        reverse("consent:case", args=[consent_case.case.pk]),
        reverse("cases:detail", args=[consent_case.case.pk]),
    ]
    add_rows(1)
    first = Consent.objects.get()
    urls.append(reverse("consent:detail", args=[first.pk]))
    for url in urls:
        client.get(url)
    one = [count_queries(client, url) for url in urls]
    add_rows(6)
    for url in urls:
        client.get(url)  # the first read records which of the new entries crossed
    seven = [count_queries(client, url) for url in urls]
    assert one == seven


def test_search_by_number_finds_only_cases_where_identity_is_shared(
    client_for, personas, world, active_consent, consent_case
):
    from tests.consent.conftest import YOUTH_NUMBER

    team_add(
        actor=personas.coordinator,
        case=consent_case.case,
        user=personas.police,
        agency=world.police,
    )
    url = reverse("cases:find")
    covered = client_for(personas.other_agency).post(url, {"identity_number": YOUTH_NUMBER})
    assert reverse("cases:detail", args=[consent_case.case.pk]) in covered.content.decode()
    # The police sit on the team but no consent covers them: a hit would unmask the pseudonym.
    police = client_for(personas.police).post(url, {"identity_number": YOUTH_NUMBER})
    html = police.content.decode()
    assert reverse("cases:detail", args=[consent_case.case.pk]) not in html
    assert consent_case.case.youth.pseudonym not in html
