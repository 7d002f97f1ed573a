"""Youths and guardians: registering, finding, linking to a case; the pseudonyms cases are
numbered by."""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from samverkan.accounts.models import User
from samverkan.audit.services import audit_record
from samverkan.cases import rules
from samverkan.cases.models import (
    Case,
    Guardian,
    GuardianLink,
    PseudonymCounter,
    Youth,
)
from samverkan.cases.signals import custodian_linked
from samverkan.lib import personnummer
from samverkan.lib.fields import search_hash
from samverkan.organisations.models import (
    Municipality,
)

_TRANSLITERATE = str.maketrans("ÅÄÖÉÜåäöéü", "AAOEUaaoeu")


def pseudonym_prefix(municipality: Municipality) -> str:
    letters = [c for c in municipality.name.translate(_TRANSLITERATE).upper() if c.isalpha()]
    return "".join(letters[:3]).ljust(3, "X")


class Pseudonyms:
    """Pseudonyms handed out in order per prefix and year. Each counter is locked when first
    used and written back by ``save``, so many youths registered in one transaction (the
    synthetic data set) cost two queries per counter, not two per youth."""

    def __init__(self) -> None:
        self._last: dict[tuple[str, int], int] = {}

    def next(self, municipality: Municipality, year: int) -> str:
        prefix = pseudonym_prefix(municipality)
        key = (prefix, year)
        if key not in self._last:
            counter, _ = PseudonymCounter.objects.select_for_update().get_or_create(
                prefix=prefix, year=year
            )
            self._last[key] = counter.last
        self._last[key] += 1
        return f"{prefix}-{year}-{self._last[key]:04d}"

    def save(self) -> None:
        for (prefix, year), last in self._last.items():
            PseudonymCounter.objects.filter(prefix=prefix, year=year).update(last=last)


def _next_pseudonym(municipality: Municipality, year: int) -> str:
    pseudonyms = Pseudonyms()
    pseudonym = pseudonyms.next(municipality, year)
    pseudonyms.save()
    return pseudonym


def _parse_number(raw: str, field: str) -> personnummer.IdentityNumber:
    try:
        return personnummer.parse(raw, today=timezone.localdate())
    except personnummer.IdentityNumberError as exc:
        raise ValidationError({field: [exc.message]}) from None


def _youth_checked(identity_number: str, name: str) -> tuple[personnummer.IdentityNumber, str]:
    number = _parse_number(identity_number, "identity_number")
    name = " ".join(name.split())
    if not name:
        raise ValidationError({"name": [_("Enter the youth's name.")]})
    return number, name


def _youth_build(
    municipality: Municipality,
    number: personnummer.IdentityNumber,
    name: str,
    gender: str,
    pseudonym: str,
) -> Youth:
    youth = Youth(
        municipality=municipality,
        identity_number_hash=search_hash("youth", number.digits),
        birth_date=number.birth_date,
        is_coordination_number=number.is_coordination_number,
        gender=gender,
        pseudonym=pseudonym,
    )
    youth.identity_number = number.digits
    youth.name = name
    return youth


def youth_prepare(
    *,
    municipality: Municipality,
    identity_number: str,
    name: str,
    gender: str,
    pseudonyms: Pseudonyms,
    year: int,
) -> Youth:
    """An unsaved youth exactly as ``youth_register`` makes a new one (number checked and
    hashed, name normalised, the next pseudonym of ``year``), for ``cases_create_bulk``."""
    number, name = _youth_checked(identity_number, name)
    return _youth_build(municipality, number, name, gender, pseudonyms.next(municipality, year))


def youth_register(
    *,
    actor: User,
    municipality: Municipality,
    identity_number: str,
    name: str,
    gender: str = "",
) -> Youth:
    """The youth with this number, registered now if new. An existing record is reused as it is,
    with its stored name and pseudonym (docs/security.md says what that tells a second raising
    agency). Nothing the earlier cases hold (entries, guardians) comes with it."""
    number, name = _youth_checked(identity_number, name)
    digest = search_hash("youth", number.digits)
    with transaction.atomic():
        existing = Youth.objects.select_for_update().filter(identity_number_hash=digest).first()
        if existing is not None:
            return existing
        pseudonym = _next_pseudonym(municipality, timezone.localdate().year)
        youth = _youth_build(municipality, number, name, gender, pseudonym)
        youth.save()
        audit_record(action="youth.registered", actor=actor, obj=youth)
    return youth


def youth_find(*, actor: User, identity_number: str) -> Youth | None:
    """Exact-number lookup through the keyed hash; never decrypts to search. Audited."""
    number = _parse_number(identity_number, "identity_number")
    with transaction.atomic():
        youth = Youth.objects.filter(
            identity_number_hash=search_hash("youth", number.digits)
        ).first()
        audit_record(
            action="youth.searched",
            actor=actor,
            object_type="cases.youth",
            object_id=str(youth.pk) if youth else "",
            details={"found": youth is not None},
        )
    return youth


def _guardian_name(name: str) -> str:
    name = " ".join(name.split())
    if not name:
        raise ValidationError({"name": [_("Enter the guardian's name.")]})
    return name


def _guardian_build(digits: str) -> Guardian:
    guardian = Guardian(identity_number_hash=search_hash("guardian", digits) if digits else None)
    guardian.identity_number = digits
    return guardian


def _link_fill(link: GuardianLink, *, name: str, has_custody: bool, email: str) -> None:
    link.has_custody = has_custody
    link.name = name
    link.email = email.strip()
    link.email_hash = GuardianLink.hash_email(email)


def guardian_link_prepare(
    *, case: Case, identity_number: str, name: str, has_custody: bool, email: str = ""
) -> GuardianLink:
    """An unsaved new guardian and its link to the case, as ``guardian_add`` makes them (number
    checked and hashed, name normalised, address hashed), for ``cases_create_bulk``; the
    guardian is ``link.guardian``."""
    name = _guardian_name(name)
    digits = _parse_number(identity_number, "identity_number").digits if identity_number else ""
    link = GuardianLink(case=case, guardian=_guardian_build(digits), youth=case.youth)
    _link_fill(link, name=name, has_custody=has_custody, email=email)
    return link


def guardian_add(
    *,
    actor: User,
    case: Case,
    name: str,
    has_custody: bool,
    identity_number: str = "",
    email: str = "",
) -> Guardian:
    """Only a team member for the raising agency, who knows the youth's identity, adds guardians."""
    if not rules.may_write_for(actor, case, case.raising_agency_id):
        raise ValidationError(_("Only the raising agency's team members record guardians."))
    name = _guardian_name(name)
    with transaction.atomic():
        guardian = None
        digits = ""
        if identity_number.strip():
            digits = _parse_number(identity_number, "identity_number").digits
            guardian = Guardian.objects.filter(
                identity_number_hash=search_hash("guardian", digits)
            ).first()
        if guardian is None:
            guardian = _guardian_build(digits)
            guardian.save()
        link = GuardianLink.objects.filter(case=case, guardian=guardian).first()
        if link is None:
            link = GuardianLink(case=case, guardian=guardian, youth=case.youth)
        _link_fill(link, name=name, has_custody=has_custody, email=email)
        link.save()
        audit_record(
            action="guardian.linked",
            actor=actor,
            obj=link,
            case_id=case.pk,
            details={"has_custody": has_custody},
        )
        if has_custody:
            # The consent app makes the case's consents wait for this custodian (D23).
            custodian_linked.send(sender=GuardianLink, actor=actor, link=link)
    return guardian
