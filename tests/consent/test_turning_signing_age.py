"""DESIGN rule 18 (issue 19, legal gap 3): from the signing age a consent signed only by the
guardians covers nothing new until the youth co-signs; the team and the coordinator are told;
a guardian who gains custody after a consent was drawn up must sign it too, and may sign or
withdraw it. Everything through the real services, selectors, pages and the portal service.

Dates are relative to today and the youth's birthday, and the signing age comes from the
setting, so the tests mean the same on any day and under any configured age.
"""

from __future__ import annotations

import datetime as dt

import pytest
import time_machine
from django.core import mail
from django.core.exceptions import ValidationError
from django.test import override_settings
from django.urls import reverse
from django.utils import timezone

from samverkan.audit.models import AuditEvent
from samverkan.cases.models import GuardianLink
from samverkan.cases.services import entry_add, guardian_add
from samverkan.consent.models import (
    ConsentReminder,
    ConsentWithdrawal,
    Disclosure,
    RequiredSigner,
    SignerKind,
)
from samverkan.consent.notices import send_due_reminders
from samverkan.consent.services import (
    consent_create,
    consent_withdraw,
    signature_record,
    signature_record_electronic,
    youth_cosigner_ensure,
)
from samverkan.disclosure import selectors as disclosure_selectors
from samverkan.disclosure.facts import STOCKHOLM, birthday, consent_queryset, facts_of
from samverkan.disclosure.policy import State, state_at
from samverkan.notifications.models import Notification
from samverkan.portal import selectors as portal_selectors
from samverkan.portal import services as portal_services
from samverkan.portal.subjects import GUARDIAN, YOUTH
from tests.consent.test_joint_custody import (
    ENTRY_TEXT,
    attendance,
    consent_for,
    identity_number,
    raise_case,
    sign,
    signers,
    social_sees,
)

MATURITY = "Förstår vad samtycket innebär och vill själv skriva under."


def born_reaching(age: int, in_days: int) -> dt.date:
    """A birth date whose ``age``-th birthday is ``in_days`` from today (never 29 February)."""
    day = timezone.localdate() + dt.timedelta(days=in_days)
    if (day.month, day.day) == (2, 29):
        day += dt.timedelta(days=1)
    return day.replace(year=day.year - age)


def midnight(day: dt.date) -> dt.datetime:
    return dt.datetime.combine(day, dt.time.min, tzinfo=STOCKHOLM)


def state_of(consent) -> State:
    return state_at(facts_of(consent_queryset().get(pk=consent.pk)), timezone.now())


def hidden_reasons(personas, case) -> list[tuple[str, int]]:
    access = disclosure_selectors.case_open(viewer=personas.other_agency, pk=case.pk)
    return [(str(h.reason), h.count) for h in disclosure_selectors.entry_listing(access).hidden]


def guardians_consent(personas, world, settings, *, in_days: int = 30, days: int = 120):
    """A youth reaching the configured signing age in ``in_days``; a consent signed by both
    guardians only, in force now."""
    born = born_reaching(settings.CONSENT_YOUTH_SIGNS_FROM_AGE, in_days)
    raised = raise_case(personas, world, born)
    consent = consent_for(personas, world, raised.case, days=days)
    assert [s.kind for s in signers(consent)] == ["guardian", "guardian"]
    for signer in signers(consent):
        sign(personas, signer)
    turns = midnight(birthday(born, settings.CONSENT_YOUTH_SIGNS_FROM_AGE))
    return raised, consent, born, turns


# --- Turning the signing age --------------------------------------------------------------


def test_guardians_consent_stops_covering_at_the_signing_age_until_the_youth_co_signs(
    personas, world, settings
):
    raised, consent, _born, turns = guardians_consent(personas, world, settings)
    case = raised.case
    assert social_sees(personas, case, raised.name)
    assert state_of(consent) == State.ACTIVE
    # What crossed before the birthday is recorded as disclosed under the consent.
    assert Disclosure.objects.filter(consent=consent, to_agency=world.avesta_social).count() == 1

    with time_machine.travel(turns - dt.timedelta(seconds=1), tick=False):
        assert social_sees(personas, case, raised.name)
    with time_machine.travel(turns, tick=False):
        assert state_of(consent) == State.AWAITING_COSIGNATURE
        assert not social_sees(personas, case, raised.name)
        assert hidden_reasons(personas, case) == [("pending", 1)]
        # Nothing new crosses either: an entry written now stays with the school.
        entry_add(
            actor=personas.practitioner,
            case=case,
            agency=world.avesta_school,
            category=attendance(),
            text="Ny iakttagelse efter födelsedagen.",
        )
        access = disclosure_selectors.case_open(viewer=personas.other_agency, pk=case.pk)
        assert disclosure_selectors.entry_listing(access).visible == []
        # The old disclosure stays recorded: it reached social services and stays there.
        assert Disclosure.objects.filter(consent=consent).count() == 1

    cosigned = turns + dt.timedelta(days=2)
    with time_machine.travel(cosigned, tick=False):
        youth = youth_cosigner_ensure(consent=consent, actor=personas.coordinator)
        assert youth is not None
        assert youth.kind == SignerKind.YOUTH
        # At the signing age the youth signs without a maturity assessment, and the guardians
        # do not sign again.
        signature_record(actor=personas.coordinator, signer=youth, method="in_person")
        assert state_of(consent) == State.ACTIVE
        access = disclosure_selectors.case_open(viewer=personas.other_agency, pk=case.pk)
        texts = sorted(v.text for v in disclosure_selectors.entry_listing(access).visible)
        assert texts == sorted([ENTRY_TEXT, "Ny iakttagelse efter födelsedagen."])
        assert access.identity.allowed
    # The gap stays in the history: at a moment inside it the consent did not cover.
    facts = facts_of(consent_queryset().get(pk=consent.pk))
    assert state_at(facts, turns + dt.timedelta(days=1)) == State.AWAITING_COSIGNATURE
    assert next(end for _start, end in facts.covering_intervals()) == turns


def test_the_hidden_reason_is_waiting_for_a_signature(personas, world, settings):
    raised, _consent, _born, turns = guardians_consent(personas, world, settings)
    with time_machine.travel(turns + dt.timedelta(hours=1), tick=False):
        access = disclosure_selectors.case_open(viewer=personas.other_agency, pk=raised.case.pk)
        [hidden] = disclosure_selectors.entry_listing(access).hidden
        assert (str(hidden.reason), hidden.count) == ("pending", 1)


def test_a_consent_the_youth_signed_is_unaffected(personas, world, settings):
    born = born_reaching(settings.CONSENT_YOUTH_SIGNS_FROM_AGE, 30)
    raised = raise_case(personas, world, born)
    today = timezone.localdate()
    consent = consent_create(
        actor=personas.practitioner,
        case=raised.case,
        agency_ids=[world.avesta_school.pk, world.avesta_social.pk],
        category_ids=[attendance().pk],
        valid_from=today,
        valid_until=today + dt.timedelta(days=120),
        youth_also_signs=True,
    )
    for signer in signers(consent):
        signature_record(
            actor=personas.coordinator,
            signer=signer,
            method="in_person",
            maturity_assessment=MATURITY if signer.kind == SignerKind.YOUTH else "",
        )
    turns = midnight(birthday(born, settings.CONSENT_YOUTH_SIGNS_FROM_AGE))
    with time_machine.travel(turns + dt.timedelta(days=1), tick=False):
        assert state_of(consent) == State.ACTIVE
        assert social_sees(personas, raised.case, raised.name)
        assert sum(send_due_reminders().values()) == 0


def test_a_youth_who_co_signed_before_the_birthday_leaves_no_gap(personas, world, settings):
    raised, consent, _born, turns = guardians_consent(personas, world, settings)
    youth = youth_cosigner_ensure(consent=consent, actor=personas.practitioner)
    assert youth is not None
    # Under the signing age, staff record a maturity assessment with the signature.
    with pytest.raises(ValidationError):
        signature_record(actor=personas.practitioner, signer=youth, method="in_person")
    signature_record(
        actor=personas.practitioner, signer=youth, method="in_person", maturity_assessment=MATURITY
    )
    with time_machine.travel(turns + dt.timedelta(hours=1), tick=False):
        assert state_of(consent) == State.ACTIVE
        assert social_sees(personas, raised.case, raised.name)
        assert sum(send_due_reminders().values()) == 0


@pytest.mark.parametrize("age", [14, 16])
def test_the_signing_age_is_the_setting(personas, world, settings, age):
    settings.CONSENT_YOUTH_SIGNS_FROM_AGE = age
    raised, consent, born, turns = guardians_consent(personas, world, settings)
    # Not at 15 unless that is the configured age: the day before the configured birthday
    # covers, the birthday does not.
    assert turns.date() == birthday(born, age)
    with time_machine.travel(turns - dt.timedelta(hours=1), tick=False):
        assert social_sees(personas, raised.case, raised.name)
    with time_machine.travel(turns + dt.timedelta(hours=1), tick=False):
        assert state_of(consent) == State.AWAITING_COSIGNATURE
        assert not social_sees(personas, raised.case, raised.name)


def test_lowering_the_setting_reaches_consents_drawn_up_before(personas, world, settings):
    settings.CONSENT_YOUTH_SIGNS_FROM_AGE = 16
    born = born_reaching(15, 30)
    raised = raise_case(personas, world, born)
    consent = consent_for(personas, world, raised.case, days=120)
    for signer in signers(consent):
        sign(personas, signer)
    fifteen = midnight(birthday(born, 15))
    with time_machine.travel(fifteen + dt.timedelta(hours=1), tick=False):
        assert social_sees(personas, raised.case, raised.name)  # drawn up under 16
        with override_settings(CONSENT_YOUTH_SIGNS_FROM_AGE=15):
            assert state_of(consent) == State.AWAITING_COSIGNATURE
            assert not social_sees(personas, raised.case, raised.name)


def test_the_team_and_coordinator_are_told_once(
    personas, world, settings, django_capture_on_commit_callbacks
):
    raised, consent, _born, turns = guardians_consent(personas, world, settings)
    before = turns - dt.timedelta(hours=2)
    assert send_due_reminders(before)["turned_15"] == 0
    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        sent = send_due_reminders(turns + dt.timedelta(hours=6))
    assert sent["turned_15"] == 1
    notices = Notification.objects.filter(kind="consent_awaiting_youth")
    recipients = set(notices.values_list("recipient__username", flat=True))
    team = {personas.practitioner.username, personas.other_agency.username}
    assert team | {personas.coordinator.username} == recipients
    age = settings.CONSENT_YOUTH_SIGNS_FROM_AGE
    assert {n.params["age"] for n in notices} == {age}
    assert all(n.params["consent"] == consent.pk for n in notices)
    # By e-mail too (Django's mail API), naming neither the youth nor their number.
    assert len(mail.outbox) == len(recipients)
    for message in mail.outbox:
        assert raised.name not in message.body
        assert raised.case.youth.pseudonym in message.body
    # The youth's row exists from the birthday, so they can co-sign with e-ID in the portal.
    assert RequiredSigner.objects.filter(consent=consent, kind=SignerKind.YOUTH).count() == 1
    # Once: the next runs send nothing more.
    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        assert send_due_reminders(turns + dt.timedelta(days=1))["turned_15"] == 0
        assert send_due_reminders(turns + dt.timedelta(days=2))["turned_15"] == 0
    assert mail.outbox == []
    assert ConsentReminder.objects.filter(consent=consent, kind="turned_15").count() == 1
    assert notices.count() == len(recipients)


def test_the_youth_co_signs_with_e_id_in_the_portal(personas, world, settings):
    raised, consent, born, turns = guardians_consent(personas, world, settings)
    number = identity_number(born)
    with time_machine.travel(turns + dt.timedelta(hours=6), tick=False):
        send_due_reminders()
        subject = portal_services.subject_for_identity(identity_number=number.replace("-", ""))
        assert subject.kind == YOUTH
        view = portal_selectors.consent_get(subject=subject, pk=consent.pk)
        assert view.state == State.AWAITING_COSIGNATURE
        assert view.can_sign
        assert view.can_withdraw
        youth = RequiredSigner.objects.get(consent=consent, kind=SignerKind.YOUTH)
        signature_record_electronic(
            signer=youth,
            provider="dev",
            reference="ref-youth-1",
            identity_number=number.replace("-", ""),
        )
        assert state_of(consent) == State.ACTIVE
        assert social_sees(personas, raised.case, raised.name)


def test_the_consent_page_says_it_awaits_the_youth(client_for, personas, world, settings):
    _raised, consent, _born, turns = guardians_consent(personas, world, settings)
    url = reverse("consent:detail", args=[consent.pk])
    client = client_for(personas.coordinator)
    page = client.get(url).content.decode()
    # Before the birthday staff may add the youth's co-signature ahead of time.
    assert reverse("consent:youth_cosigner", args=[consent.pk]) in page
    with time_machine.travel(turns + dt.timedelta(hours=1), tick=True):
        client = client_for(personas.coordinator)  # a fresh session: the old one is idle
        page = client.get(url, HTTP_ACCEPT_LANGUAGE="sv").content.decode()
        assert "state-awaiting_cosignature" in page
        assert "Väntar på medundertecknande" in page
        response = client.post(reverse("consent:youth_cosigner", args=[consent.pk]))
        assert response.status_code == 302
        youth = RequiredSigner.objects.get(consent=consent, kind=SignerKind.YOUTH)
        assert response["Location"].endswith(f"#sign-{youth.pk}")
        page = client.get(url).content.decode()
        assert reverse("consent:sign", args=[consent.pk, youth.pk]) in page
    assert AuditEvent.objects.filter(action="consent.signer_added").count() == 1


# --- A new guardian with custody --------------------------------------------------------------


def test_a_new_custodian_must_sign_and_may_sign(personas, world, settings):
    born = born_reaching(settings.CONSENT_YOUTH_SIGNS_FROM_AGE, 400)
    raised = raise_case(personas, world, born)
    consent = consent_for(personas, world, raised.case, days=120)
    for signer in signers(consent):
        sign(personas, signer)
    assert social_sees(personas, raised.case, raised.name)
    guardian_add(
        actor=personas.practitioner,
        case=raised.case,
        name="Ny Vårdnadshavare",
        has_custody=True,
        email="ny@example.invalid",
    )
    link = GuardianLink.objects.filter(case=raised.case).latest("pk")
    [added] = [s for s in signers(consent) if s.guardian_link_id == link.pk]
    assert added.required_from is not None
    assert state_of(consent) == State.AWAITING_COSIGNATURE
    assert not social_sees(personas, raised.case, raised.name)
    notices = Notification.objects.filter(kind="consent_awaiting_guardian")
    assert personas.coordinator.pk in set(notices.values_list("recipient_id", flat=True))
    # The two guardians who signed need not sign again: the new one's signature is enough.
    sign(personas, added)
    assert state_of(consent) == State.ACTIVE
    assert social_sees(personas, raised.case, raised.name)


def test_a_guardian_without_custody_changes_nothing(personas, world, settings):
    born = born_reaching(settings.CONSENT_YOUTH_SIGNS_FROM_AGE, 400)
    raised = raise_case(personas, world, born)
    consent = consent_for(personas, world, raised.case, days=120)
    for signer in signers(consent):
        sign(personas, signer)
    guardian_add(
        actor=personas.practitioner, case=raised.case, name="Utan Vårdnad", has_custody=False
    )
    assert len(signers(consent)) == 2
    assert state_of(consent) == State.ACTIVE


def test_a_new_custodian_withdraws_at_once_by_staff_record(personas, world, settings):
    born = born_reaching(settings.CONSENT_YOUTH_SIGNS_FROM_AGE, 400)
    raised = raise_case(personas, world, born)
    consent = consent_for(personas, world, raised.case, days=120)
    for signer in signers(consent):
        sign(personas, signer)
    guardian_add(
        actor=personas.practitioner, case=raised.case, name="Ny Förälder", has_custody=True
    )
    added = next(s for s in signers(consent) if s.required_from is not None)
    # Unsigned, they still withdraw: any required signer may.
    consent_withdraw(consent=consent, signer=added, method="oral", actor=personas.practitioner)
    assert state_of(consent) == State.WITHDRAWN
    assert not social_sees(personas, raised.case, raised.name)
    with pytest.raises(ValidationError):
        sign(personas, added)


def test_a_new_custodian_withdraws_in_the_portal_and_it_takes_effect_at_once(
    personas, world, settings
):
    born = born_reaching(settings.CONSENT_YOUTH_SIGNS_FROM_AGE, 400)
    raised = raise_case(personas, world, born)
    consent = consent_for(personas, world, raised.case, days=120)
    for signer in signers(consent):
        sign(personas, signer)
    number = identity_number(dt.date(1984, 5, 6), "345")
    guardian_add(
        actor=personas.practitioner,
        case=raised.case,
        name="Ny Förälder",
        has_custody=True,
        identity_number=number,
    )
    added = next(s for s in signers(consent) if s.required_from is not None)
    sign(personas, added)  # they sign first, so the consent is in force again
    assert social_sees(personas, raised.case, raised.name)
    subject = portal_services.subject_for_identity(identity_number=number.replace("-", ""))
    assert subject.kind == GUARDIAN
    view = portal_selectors.consent_get(subject=subject, pk=consent.pk)
    assert view.can_withdraw
    assert view.mine.pk == added.pk
    portal_services.consent_withdraw_by_subject(subject=subject, pk=consent.pk)
    withdrawal = ConsentWithdrawal.objects.get(consent=consent)
    assert withdrawal.signer_id == added.pk
    assert state_of(consent) == State.WITHDRAWN
    assert not social_sees(personas, raised.case, raised.name)


def test_a_new_custodian_is_not_added_to_an_ended_consent(personas, world, settings):
    born = born_reaching(settings.CONSENT_YOUTH_SIGNS_FROM_AGE, 400)
    raised = raise_case(personas, world, born)
    consent = consent_for(personas, world, raised.case, days=10)
    for signer in signers(consent):
        sign(personas, signer)
    with time_machine.travel(consent.valid_until + dt.timedelta(days=1), tick=False):
        guardian_add(actor=personas.practitioner, case=raised.case, name="Sen", has_custody=True)
    assert len(signers(consent)) == 2
