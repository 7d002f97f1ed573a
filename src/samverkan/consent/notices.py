"""Who is told when a consent changes under the team's feet, and the reminders that find what
is due from the data (so a missed day is caught up the next, and nothing is sent twice).

Signers are told too (DESIGN rule 20): a consent's evidence must not rest on one staff member's
word, so every guardian with an e-mail address learns when a consent naming them as a signer is
registered, and when staff record a signature in their name (``signer_notice``).
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from datetime import date, datetime, timedelta

from django.conf import settings
from django.core.mail import EmailMessage, get_connection
from django.db import transaction
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from samverkan.accounts.models import User
from samverkan.cases.models import Case, GuardianLink
from samverkan.consent.models import (
    Consent,
    ConsentReminder,
    ReminderKind,
    RequiredSigner,
    SignerKind,
)
from samverkan.disclosure.facts import birthday, consent_queryset, facts_of, signing_age
from samverkan.disclosure.policy import State, state_at
from samverkan.disclosure.viewer import team_agency_ids
from samverkan.lib.redact import exception_summary
from samverkan.notifications.models import NotificationKind
from samverkan.notifications.services import notify
from samverkan.organisations.models import GroupMembership, GroupRole

logger = logging.getLogger(__name__)

# Why a signer is told: a consent naming them was registered, or staff recorded their signature.
NOTICE_REGISTERED = "registered"
NOTICE_SIGNATURE = "signature"


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


def later_guardian_notice(consent: Consent) -> None:
    """Inside the service's transaction: a guardian with custody joined the case, so the
    consent covers nothing new until they sign; the team and the coordinator are told."""
    case = consent.case
    notify(
        recipients=[*_team(case), *_coordinators(case)],
        kind=NotificationKind.CONSENT_AWAITING_GUARDIAN,
        params={"consent": consent.pk, "case": case.youth.pseudonym},
        link=reverse("consent:detail", args=[consent.pk]),
    )


def send_due_reminders(now: datetime | None = None) -> dict[str, int]:
    """Every reminder due at ``now`` and not yet sent. Idempotent: each is claimed by a unique
    row before it is sent, so two workers running at once send it once."""
    # Lazily: the services import this module for the notices they send.
    from samverkan.consent.services import reminder_send_once, youth_cosigner_ensure

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
            if (consent.pk, reminder.value) not in sent_already and reminder_send_once(
                consent, reminder, link=link, **notice
            ):
                sent[reminder] += 1

        coordinators = _coordinators(case)
        running = (State.ACTIVE, State.AWAITING_COSIGNATURE)
        if state in running and facts.ends_at - now <= warn_before:
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
        if state in (State.PENDING, *running):
            created = timezone.localtime(consent.created_at).date()
            age = signing_age(consent)
            youth_missing = any(
                later.kind == SignerKind.YOUTH and later.missing_at(now) for later in facts.later
            )
            # DESIGN rule 18: signed by guardians only, the consent covers nothing new from the
            # signing age until the youth co-signs. The youth has no address here, so the
            # message asks the team and the coordinator to tell them. Where the youth signs
            # already (or co-signed before the birthday) the birthday changes nothing.
            if (
                youth_missing
                and created < birthday(case.youth.birth_date, age) <= today
                and (consent.pk, ReminderKind.TURNED_15.value) not in sent_already
            ):
                # So that the youth can co-sign with e-ID in the portal, and staff record it.
                youth_cosigner_ensure(consent=consent, actor=None)
                send(
                    ReminderKind.TURNED_15,
                    recipients=[*coordinators, *_team(case)],
                    kind=NotificationKind.CONSENT_AWAITING_YOUTH,
                    params={**params_base, "age": age},
                )
            if created < birthday(case.youth.birth_date, 18) <= today:
                send(
                    ReminderKind.TURNED_18,
                    recipients=coordinators,
                    kind=NotificationKind.CONSENT_SIGNERS_CHANGE,
                    params={**params_base, "age": 18},
                )
    return sent


def _last_day(ends_at: datetime) -> date:
    """The last whole day covered, for a consent that ends at the start of the next."""
    return timezone.localtime(ends_at - timedelta(microseconds=1)).date()


def _acting_agency_name(actor: User, case: Case) -> str:
    """The agency the staff member acted for: the raising agency if they sit on the team for
    it, else the agency of their coordinator seat in the case's group."""
    if case.raising_agency_id in team_agency_ids(actor, case):
        return case.raising_agency.name
    seat = (
        GroupMembership.objects.filter(
            group_id=case.group_id, user_id=actor.pk, role=GroupRole.COORDINATOR
        )
        .select_related("agency")
        .first()
    )
    return seat.agency.name if seat is not None else case.raising_agency.name


def signer_addresses(signers: Sequence[RequiredSigner]) -> tuple[int, list[str]]:
    """How many of ``signers`` have an e-mail address, and the addresses to write to (one
    message per address: two guardians who share one get it once)."""
    link_ids = [s.guardian_link_id for s in signers if s.guardian_link_id is not None]
    links = GuardianLink.objects.filter(pk__in=link_ids)
    addresses: dict[str, str] = {}
    told = 0
    for link in links:
        address = (link.email or "").strip()
        if address:
            told += 1
            addresses.setdefault(address.lower(), address)
    return told, list(addresses.values())


def signer_notice(
    consent: Consent, *, actor: User, addresses: list[str], reason: str, method: str = ""
) -> None:
    """Inside the service's transaction (``services.signers_notify``, which audits it): tell
    each address, after commit, that a consent naming them was registered
    (``NOTICE_REGISTERED``) or that staff recorded a signature in their name
    (``NOTICE_SIGNATURE``, with its ``method``).

    The message names the consent's number, the agency that registered it and the day, and
    links to the guardian portal, where they can read, sign and withdraw it; nothing of the
    case, not the child's name or pseudonym. The young person has no address on record: they
    see the consent in the portal, with e-ID.
    """
    if not addresses:
        return
    context = {
        "reason": reason,
        "number": consent.pk,
        "agency": _acting_agency_name(actor, consent.case),
        "day": timezone.localdate().isoformat(),
        "method": method,
        "portal_url": f"{settings.BASE_URL.rstrip('/')}{reverse('portal:consent_list')}",
    }
    recipients = list(addresses)
    language = consent.language
    transaction.on_commit(lambda: _send_signer_notices(recipients, context, language))


def _signer_notice_email(address: str, context: dict[str, object], language: str) -> EmailMessage:
    # The consent's own language first (the one its form was printed in), the other below.
    languages = [language, *(other for other in ("sv", "en") if other != language)]
    bodies = []
    for code in languages:
        with translation.override(code):
            bodies.append(render_to_string("consent/email/signer_notice.txt", context).strip())
    with translation.override(language):
        subject = (
            _("A consent in your name has been registered")
            if context["reason"] == NOTICE_REGISTERED
            else _("A signature in your name has been recorded")
        )
    return EmailMessage(
        subject=f"{settings.ACCOUNT_EMAIL_SUBJECT_PREFIX}{subject}",
        body="\n\n----\n\n".join(bodies) + "\n",
        to=[address],
    )


def _send_signer_notices(addresses: list[str], context: dict[str, object], language: str) -> None:
    """After commit. A failure must not undo the registration: it is logged without the
    addresses or the error's text."""
    try:
        messages = [_signer_notice_email(a, context, language) for a in addresses]
        with get_connection() as connection:
            connection.send_messages(messages)
    except Exception as exc:
        logger.error(
            "signer notice not sent: consent=%s recipients=%d error=%s",
            context["number"],
            len(addresses),
            exception_summary(exc),
        )
