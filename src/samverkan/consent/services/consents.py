"""A new consent: its agencies, categories and period checked, its signers planned, and the
signers told (``signers_notify``)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime, time, timedelta
from typing import TypeVar

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _

from samverkan.accounts.models import User
from samverkan.audit.services import audit_record
from samverkan.cases import rules as case_rules
from samverkan.cases.models import Case, GuardianLink
from samverkan.consent import rules
from samverkan.consent.models import (
    Consent,
    RequiredSigner,
    SignerKind,
)
from samverkan.consent.notices import (
    NOTICE_REGISTERED,
    signer_addresses,
    signer_notice,
)
from samverkan.disclosure.facts import STOCKHOLM
from samverkan.organisations.models import Agency, GroupMembership

_Link = TypeVar("_Link")


def _start_of(day: date) -> datetime:
    return datetime.combine(day, time.min, tzinfo=STOCKHOLM)


def add_months(day: date, months: int) -> date:
    month = day.month - 1 + months
    year, month = day.year + month // 12, month % 12 + 1
    for last in (31, 30, 29, 28):
        try:
            return date(year, month, min(day.day, last))
        except ValueError:
            continue
    raise AssertionError("unreachable")


def signers_notify(
    consent: Consent,
    *,
    actor: User,
    signers: Sequence[RequiredSigner],
    reason: str,
    method: str = "",
) -> None:
    """Inside the service's transaction: the signers with an e-mail address are told
    (``notices.signer_notice``); audited with how many were told and how many could not be (no
    address), never the addresses (DESIGN rule 20)."""
    told, addresses = signer_addresses(signers)
    audit_record(
        action="consent.signers_notified",
        actor=actor,
        obj=consent,
        case_id=consent.case_id,
        details={
            "reason": reason,
            "notified": told,
            "without_address": len(signers) - told,
        },
    )
    signer_notice(consent, actor=actor, addresses=addresses, reason=reason, method=method)


def consent_agency_choices(case: Case) -> list[Agency]:
    """The agencies a consent on this case may name: those that sit in its group, and the
    raising agency."""
    seat_agencies = GroupMembership.all_seats.filter(group_id=case.group_id).values("agency_id")
    # One query with OR, not a UNION: SQLite refuses the model's default ordering inside one.
    return list(
        Agency.objects.filter(
            Q(is_active=True, pk__in=seat_agencies) | Q(pk=case.raising_agency_id)
        ).order_by("name")
    )


def required_signers(case: Case, *, on: date, youth_also_signs: bool) -> list[tuple[str, int]]:
    """(kind, guardian link id or 0) for everyone who must sign, in order (DESIGN rule 2)."""
    age = case.youth.age_on(on)
    links: list[int] = []
    if age < 18:
        links = list(
            GuardianLink.objects.filter(case=case, has_custody=True)
            .order_by("pk")
            .values_list("pk", flat=True)
        )
    plan = signer_plan(age, links, youth_also_signs=youth_also_signs)
    return [(kind, link or 0) for kind, link in plan]


def signer_plan(
    age: int, custodians: Sequence[_Link], *, youth_also_signs: bool
) -> list[tuple[str, _Link | None]]:
    """Who must sign for a youth of ``age``, in order: the youth alone from 18; before that every
    custodian (given in order), and the youth too from the configured age or when asked."""
    if age >= 18:
        return [(SignerKind.YOUTH, None)]
    if not custodians:
        raise ValidationError(
            _("Record the guardians with custody on the case first: each of them must sign.")
        )
    signers: list[tuple[str, _Link | None]] = [(SignerKind.GUARDIAN, c) for c in custodians]
    if youth_also_signs or age >= settings.CONSENT_YOUTH_SIGNS_FROM_AGE:
        signers.append((SignerKind.YOUTH, None))
    return signers


def _period_errors(valid_from: date, valid_until: date) -> dict[str, list[str]]:
    """What is wrong with a new consent's period, by form field."""
    errors: dict[str, list[str]] = {}
    today = timezone.localdate()
    if valid_from < today:
        errors["valid_from"] = [_("A consent cannot start in the past.")]
    elif valid_from > add_months(today, settings.CONSENT_MAX_MONTHS):
        # The signers consent to what is known now; this also keeps the dates computable.
        errors["valid_from"] = [
            _("A consent must start within %(months)s months from today.")
            % {"months": settings.CONSENT_MAX_MONTHS}
        ]
    if valid_until < valid_from:
        errors["valid_until"] = [_("The end date must be on or after the start date.")]
    elif "valid_from" not in errors:
        latest = add_months(valid_from, settings.CONSENT_MAX_MONTHS)
        if valid_until > latest:
            errors["valid_until"] = [
                _(
                    "A consent may run for at most %(months)s months: end it on %(latest)s or "
                    "earlier."
                )
                % {"months": settings.CONSENT_MAX_MONTHS, "latest": latest.isoformat()}
            ]
    return errors


def consent_create(
    *,
    actor: User,
    case: Case,
    agency_ids: Sequence[int],
    category_ids: Sequence[int],
    valid_from: date,
    valid_until: date,
    youth_also_signs: bool = False,
    language: str = "sv",
) -> Consent:
    if not rules.can_manage_consents(actor, case):
        raise ValidationError(_("You may not obtain consent on this case."))
    errors: dict[str, list[str]] = {}
    allowed = {a.pk: a for a in consent_agency_choices(case)}
    agencies = [allowed[pk] for pk in dict.fromkeys(agency_ids) if pk in allowed]
    if len(agencies) != len(set(agency_ids)) or len(agencies) < 2:
        errors["agencies"] = [_("Choose at least two agencies of the case's collaboration group.")]
    categories = list(
        case_rules.categories_for(agencies, general=False).filter(pk__in=list(category_ids))
    )
    if not categories or len(categories) != len(set(category_ids)):
        errors["categories"] = [
            _("Choose at least one information category of the chosen agencies' sectors.")
        ]
    errors.update(_period_errors(valid_from, valid_until))
    if language not in {"sv", "en"}:
        errors["language"] = [_("Choose Swedish or English.")]
    if errors:
        raise ValidationError(errors)
    signers = required_signers(case, on=valid_from, youth_also_signs=youth_also_signs)
    with transaction.atomic():
        Case.objects.select_for_update().filter(pk=case.pk).first()
        consent = Consent.objects.create(
            case=case,
            youth=case.youth,
            valid_from=_start_of(valid_from),
            # The end date is the last whole day the consent covers.
            valid_until=_start_of(valid_until + timedelta(days=1)),
            youth_signs_from_age=settings.CONSENT_YOUTH_SIGNS_FROM_AGE,
            language=language,
            created_by=actor,
        )
        consent.agencies.set(agencies)
        consent.categories.set(categories)
        created = RequiredSigner.objects.bulk_create(
            [
                RequiredSigner(
                    consent=consent,
                    kind=kind,
                    guardian_link_id=link_id or None,
                    order=order,
                )
                for order, (kind, link_id) in enumerate(signers)
            ]
        )
        audit_record(
            action="consent.created",
            actor=actor,
            obj=consent,
            case_id=case.pk,
            details={
                "agency_ids": sorted(a.pk for a in agencies),
                "category_ids": sorted(c.pk for c in categories),
                "signers": len(signers),
            },
        )
        signers_notify(consent, actor=actor, signers=created, reason=NOTICE_REGISTERED)
    return consent
