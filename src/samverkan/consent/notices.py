"""Who is told when a consent changes under the team's feet, and the reminders that find what
is due from the data (so a missed day is caught up the next, and nothing is sent twice)."""

from __future__ import annotations

from datetime import date, datetime, timedelta

from django.conf import settings
from django.db import IntegrityError, transaction
from django.urls import reverse
from django.utils import timezone

from samverkan.accounts.models import User
from samverkan.cases.models import Case
from samverkan.cases.policy import State, state_at
from samverkan.consent.facts import birthday, consent_queryset, facts_of
from samverkan.consent.models import Consent, ConsentReminder, ReminderKind, SignerKind
from samverkan.notifications.models import NotificationKind
from samverkan.notifications.services import notify
from samverkan.organisations.models import GroupMembership, GroupRole


def _coordinators(case: Case) -> list[User]:
    return [
        m.user
        for m in GroupMembership.all_seats.filter(
            group_id=case.group_id, role=GroupRole.COORDINATOR
        ).select_related("user")
    ]


def _team(case: Case) -> list[User]:
    return [m.user for m in case.team.filter(removed_at__isnull=True).select_related("user")]


def withdrawal_notice(consent: Consent) -> None:
    """Inside the withdrawal's transaction: the team and the coordinator, in the app and (after
    commit) by e-mail."""
    case = consent.case
    notify(
        recipients=[*_team(case), *_coordinators(case)],
        kind=NotificationKind.CONSENT_WITHDRAWN,
        params={"consent": consent.pk, "case": case.youth.pseudonym},
        link=reverse("consent:detail", args=[consent.pk]),
    )


def _send_once(consent: Consent, reminder: ReminderKind, **notice: object) -> bool:
    """Claim and send one reminder in one transaction: a unique row per consent and kind means
    two workers at once send it once, and a failed send releases the claim."""
    with transaction.atomic():
        try:
            with transaction.atomic():
                ConsentReminder.objects.create(consent=consent, kind=reminder)
        except IntegrityError:
            return False
        notify(**notice)  # type: ignore[arg-type]
    return True


def send_due_reminders(now: datetime | None = None) -> dict[str, int]:
    """Every reminder due at ``now`` and not yet sent. Idempotent: each is claimed by a unique
    row before it is sent, so two workers running at once send it once."""
    now = now or timezone.now()
    today = timezone.localdate(now)
    warn_before = timedelta(days=settings.CONSENT_EXPIRY_WARNING_DAYS)
    sent = {kind.value: 0 for kind in ReminderKind}
    sent_already = set(ConsentReminder.objects.values_list("consent_id", "kind"))
    consents = (
        consent_queryset()
        .select_related("case", "case__youth")
        # Consents that ended more than a warning period ago need nothing more.
        .filter(valid_until__gte=now - warn_before)
        .exclude(withdrawal__isnull=False)
    )
    for consent in consents:
        facts = facts_of(consent)
        state = state_at(facts, now)
        case = consent.case
        params_base = {"consent": consent.pk, "case": case.youth.pseudonym}
        link = reverse("consent:detail", args=[consent.pk])

        def send(
            reminder: ReminderKind, consent: Consent = consent, link: str = link, **notice: object
        ) -> None:
            if (consent.pk, reminder.value) not in sent_already and _send_once(
                consent, reminder, link=link, **notice
            ):
                sent[reminder] += 1

        coordinators = _coordinators(case)
        if state == State.ACTIVE and facts.ends_at - now <= warn_before:
            send(
                ReminderKind.EXPIRING,
                recipients=coordinators,
                kind=NotificationKind.CONSENT_EXPIRING,
                params={**params_base, "date": _last_day(facts.ends_at)},
            )
        if state == State.EXPIRED and facts.complete_at is not None:
            send(
                ReminderKind.EXPIRED,
                recipients=[*coordinators, *_team(case)],
                kind=NotificationKind.CONSENT_EXPIRED,
                params={**params_base, "date": _last_day(facts.ends_at)},
            )
        if state in (State.PENDING, State.ACTIVE):
            youth_signs = any(s.kind == SignerKind.YOUTH for s in consent.signers.all())
            created = timezone.localtime(consent.created_at).date()
            for age, reminder in ((15, ReminderKind.TURNED_15), (18, ReminderKind.TURNED_18)):
                if age == 15 and youth_signs:
                    continue  # the youth signs already: turning 15 changes nothing
                if created < birthday(case.youth.birth_date, age) <= today:
                    send(
                        reminder,
                        recipients=coordinators,
                        kind=NotificationKind.CONSENT_SIGNERS_CHANGE,
                        params={**params_base, "age": age},
                    )
    return sent


def _last_day(ends_at: datetime) -> date:
    """The last whole day covered, for a consent that ends at the start of the next."""
    return timezone.localtime(ends_at - timedelta(microseconds=1)).date()
