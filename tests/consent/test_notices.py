"""Consent reminders found from the data: turning 18 during a consent."""

from __future__ import annotations

import datetime as dt

from django.utils import timezone
from stdnum import luhn

from samverkan.cases.models import InformationCategory
from samverkan.cases.services import case_raise, guardian_add, team_add
from samverkan.consent.models import ConsentReminder, SignerKind
from samverkan.consent.notices import send_due_reminders
from samverkan.consent.services import consent_create
from samverkan.disclosure.facts import STOCKHOLM, birthday
from samverkan.notifications.models import Notification
from tests.consent.conftest import sign_all


def number_born(born: dt.date, serial: str = "123") -> str:
    """A fictional personnummer for ``born``, valid in form (the Luhn digit is right)."""
    first_nine = f"{born:%y%m%d}{serial}"
    return f"{born:%Y%m%d}-{serial}{luhn.calc_check_digit(first_nine)}"


def _born_turning_18_in(days: int) -> dt.date:
    """A birth date whose 18th birthday is ``days`` from today (never on 29 February)."""
    day = timezone.localdate() + dt.timedelta(days=days)
    if (day.month, day.day) == (2, 29):
        day += dt.timedelta(days=1)
    return day.replace(year=day.year - 18)


def test_a_youth_turning_18_during_a_consent_is_flagged_to_the_coordinator(personas, world):
    """Issue 19 mutation 14: the turned-18 reminder must be sent."""
    born = _born_turning_18_in(60)
    case = case_raise(
        actor=personas.practitioner,
        group=world.avesta_group,
        agency=world.avesta_school,
        identity_number=number_born(born),
        name="Nils Snartvuxen",
        gender="M",
        reason="Oro för frånvaro under vårterminen.",
        risk_factors=["high_absence"],
    ).case
    team_add(
        actor=personas.coordinator,
        case=case,
        user=personas.other_agency,
        agency=world.avesta_social,
    )
    guardian_add(
        actor=personas.practitioner,
        case=case,
        name="Helena Snartvuxen",
        has_custody=True,
        identity_number=number_born(dt.date(1985, 6, 7), "234"),
        email="helena@example.invalid",
    )
    today = timezone.localdate()
    consent = consent_create(
        actor=personas.practitioner,
        case=case,
        agency_ids=[world.avesta_school.pk, world.avesta_social.pk],
        category_ids=[InformationCategory.objects.get(sector="school", code="attendance").pk],
        valid_from=today,
        valid_until=today + dt.timedelta(days=180),
    )
    # At 17 the youth signs with the guardian; both sign and the consent is in force.
    assert sorted(consent.signers.values_list("kind", flat=True)) == [
        SignerKind.GUARDIAN,
        SignerKind.YOUTH,
    ]
    sign_all(personas, consent)
    turns_18 = birthday(born, 18)
    day_before = dt.datetime.combine(turns_18 - dt.timedelta(days=1), dt.time(8), STOCKHOLM)
    assert sum(send_due_reminders(day_before).values()) == 0
    on_the_day = dt.datetime.combine(turns_18, dt.time(8), STOCKHOLM)
    assert send_due_reminders(on_the_day) == {
        "expiring": 0,
        "expired": 0,
        "turned_15": 0,
        "turned_18": 1,
    }
    assert sum(send_due_reminders(on_the_day + dt.timedelta(days=1)).values()) == 0
    assert list(ConsentReminder.objects.values_list("consent_id", "kind")) == [
        (consent.pk, "turned_18")
    ]
    notice = Notification.objects.get(kind="consent_signers_change")
    assert notice.recipient == personas.coordinator
    assert notice.params == {"consent": consent.pk, "case": case.youth.pseudonym, "age": 18}
