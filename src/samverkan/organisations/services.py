"""Writes to the organisation register. Each one is audited inside its own transaction."""

from __future__ import annotations

from collections import Counter
from typing import TYPE_CHECKING

from django.core.exceptions import ValidationError
from django.db import models, transaction
from django.utils.translation import gettext as _

from samverkan.audit.services import audit_record
from samverkan.lib.bulk import Rows, insert_rows
from samverkan.organisations.models import (
    SEAT_ROLES,
    Agency,
    CollaborationGroup,
    GroupMembership,
    GroupRole,
    Membership,
    Municipality,
    PoliceArea,
    Role,
    Sector,
)

if TYPE_CHECKING:
    from samverkan.accounts.models import User


def municipality_create(*, actor: User | None, name: str, code: str) -> Municipality:
    with transaction.atomic():
        municipality = Municipality(name=name, code=code)
        municipality.full_clean()
        municipality.save()
        audit_record(action="municipality.created", actor=actor, obj=municipality)
    return municipality


def police_area_create(
    *, actor: User | None, name: str, municipalities: list[Municipality]
) -> PoliceArea:
    with transaction.atomic():
        area = PoliceArea(name=name)
        area.full_clean()
        area.save()
        area.municipalities.set(municipalities)
        audit_record(
            action="police_area.created",
            actor=actor,
            obj=area,
            details={"municipality_ids": [m.pk for m in municipalities]},
        )
    return area


def _check_agency_owner(municipality: Municipality | None, area: PoliceArea | None) -> None:
    if (municipality is None) == (area is None):
        raise ValidationError(_("An agency belongs to either a municipality or a police area."))


def agency_create(
    *,
    actor: User | None,
    name: str,
    sector: Sector | str,
    municipality: Municipality | None = None,
    police_area: PoliceArea | None = None,
) -> Agency:
    _check_agency_owner(municipality, police_area)
    with transaction.atomic():
        agency = Agency(
            name=name, sector=sector, municipality=municipality, police_area=police_area
        )
        agency.full_clean()
        agency.save()
        audit_record(
            action="agency.created", actor=actor, obj=agency, details={"sector": str(sector)}
        )
    return agency


def agency_update(
    *, actor: User, agency: Agency, name: str, sector: Sector | str, is_active: bool
) -> Agency:
    with transaction.atomic():
        locked = Agency.objects.select_for_update().get(pk=agency.pk)
        changed = sorted(
            field
            for field, value in (("name", name), ("sector", sector), ("is_active", is_active))
            if getattr(locked, field) != value
        )
        locked.name, locked.sector, locked.is_active = name, sector, is_active
        locked.full_clean()
        locked.save()
        audit_record(action="agency.updated", actor=actor, obj=locked, details={"fields": changed})
    return locked


def _check_role(role: str) -> None:
    if role not in Role.values:
        raise ValidationError(_("Unknown role."))


def membership_add(
    *, actor: User | None, user: User, agency: Agency, role: Role | str
) -> Membership:
    _check_role(role)
    with transaction.atomic():
        if Membership.objects.filter(user=user, agency=agency, role=role).exists():
            raise ValidationError(_("The user already has this role in this agency."))
        membership = Membership.objects.create(user=user, agency=agency, role=role)
        audit_record(
            action="membership.added",
            actor=actor,
            agency=agency,
            obj=membership,
            details={"user_id": user.pk, "role": str(role)},
        )
    return membership


def membership_remove(*, actor: User, membership: Membership) -> None:
    """Remove a role; a group seat that no longer has a practitioner or coordinator role of its
    agency behind it goes too, so nobody keeps a seat after changing jobs."""
    with transaction.atomic():
        audit_record(
            action="membership.removed",
            actor=actor,
            agency=membership.agency,
            obj=membership,
            details={"user_id": membership.user_id, "role": membership.role},
        )
        membership.delete()
        still_backed = Membership.objects.filter(
            user_id=membership.user_id, agency_id=membership.agency_id, role__in=SEAT_ROLES
        ).exists()
        if not still_backed:
            for seat in GroupMembership.all_seats.filter(
                user_id=membership.user_id, agency_id=membership.agency_id
            ).select_related("group", "agency"):
                group_member_remove(actor=actor, member=seat)


def group_create(
    *, actor: User | None, municipality: Municipality, name: str, min_age: int, max_age: int
) -> CollaborationGroup:
    with transaction.atomic():
        group = CollaborationGroup(
            municipality=municipality, name=name, min_age=min_age, max_age=max_age
        )
        group.full_clean()
        group.save()
        audit_record(action="group.created", actor=actor, obj=group)
    return group


def _check_seat_municipality(group: CollaborationGroup, agency: Agency) -> None:
    if agency.municipality_id is not None and agency.municipality_id != group.municipality_id:
        raise ValidationError(_("The agency belongs to another municipality."))


def group_member_add(
    *,
    actor: User | None,
    group: CollaborationGroup,
    user: User,
    agency: Agency,
    role: GroupRole | str = GroupRole.MEMBER,
) -> GroupMembership:
    """A person sits in a group for an agency they belong to; the agency may serve several
    municipalities (a police area), but a municipal agency must be the group's own."""
    if not Membership.objects.filter(user=user, agency=agency, role__in=SEAT_ROLES).exists():
        raise ValidationError(
            _("Only a practitioner or coordinator of the agency can sit in the group for it.")
        )
    _check_seat_municipality(group, agency)
    area = agency.police_area
    if area is not None and not area.municipalities.filter(pk=group.municipality_id).exists():
        raise ValidationError(_("The police area does not serve the group's municipality."))
    with transaction.atomic():
        member, created = GroupMembership.all_seats.get_or_create(
            group=group, user=user, agency=agency, defaults={"role": role}
        )
        if not created:
            raise ValidationError(_("The user already sits in this group for this agency."))
        audit_record(
            action="group.member_added",
            actor=actor,
            agency=agency,
            obj=group,
            details={"user_id": user.pk, "role": str(role)},
        )
    return member


def group_member_remove(*, actor: User, member: GroupMembership) -> None:
    with transaction.atomic():
        audit_record(
            action="group.member_removed",
            actor=actor,
            agency=member.agency,
            obj=member.group,
            details={"user_id": member.user_id},
        )
        member.delete()


# Many rows at once, for the synthetic data set (``samverkan.synth``); the caller appends the
# audit events with ``audit.services.append_bulk``.

ORGANISATION_TABLES: tuple[type[models.Model], ...] = (
    Municipality,
    PoliceArea,
    PoliceArea.municipalities.through,
    Agency,
    CollaborationGroup,
    Membership,
    GroupMembership,
)


def _check_row(row: models.Model) -> None:
    """What the single-row service checks of a row of this kind before it saves it."""
    if isinstance(row, Municipality | PoliceArea | Agency | CollaborationGroup):
        row.full_clean()
    if isinstance(row, Agency):
        _check_agency_owner(row.municipality, row.police_area)
    elif isinstance(row, Membership):
        _check_role(row.role)
    elif isinstance(row, GroupMembership):
        _check_seat_municipality(row.group, row.agency)


def organisations_create_bulk(rows: Rows) -> Counter[str]:
    """Write the rows of the organisation tables among ``rows``, parents first, each checked as
    its service checks it (a table's rows are checked once its parents are saved)."""
    counts = Counter[str]()
    for model in ORGANISATION_TABLES:
        for row in rows.get(model, ()):
            _check_row(row)
        counts[model._meta.label] += insert_rows(model, rows.get(model, ()))
    return +counts
