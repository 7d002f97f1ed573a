"""The configurable lists: risk and protective factors, and information categories per sector.
Administrators add to them and retire entries; an entry in use is retired, never deleted, so
old cases keep their meaning."""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.text import slugify
from django.utils.translation import gettext as _

from samverkan.accounts.models import User
from samverkan.audit.services import audit_record
from samverkan.cases.models import (
    Factor,
    FactorKind,
    InformationCategory,
)
from samverkan.organisations.models import (
    Sector,
)
from samverkan.organisations.rules import can_manage_organisations


def _require_list_admin(actor: User) -> None:
    if not can_manage_organisations(actor):
        raise ValidationError(_("Only administrators change the lists."))


def _labels(label_sv: str, label_en: str) -> tuple[str, str]:
    label_sv, label_en = " ".join(label_sv.split()), " ".join(label_en.split())
    if not label_sv or not label_en:
        raise ValidationError(_("Give the label in Swedish and in English."))
    return label_sv, label_en


def factor_add(*, actor: User, kind: str, label_sv: str, label_en: str) -> Factor:
    _require_list_admin(actor)
    if kind not in FactorKind.values:
        raise ValidationError(_("Unknown kind of factor."))
    label_sv, label_en = _labels(label_sv, label_en)
    code = slugify(label_en).replace("-", "_")[:40]
    with transaction.atomic():
        if Factor.objects.filter(code=code).exists():
            raise ValidationError(_("A factor with that English label exists."))
        factor = Factor.objects.create(
            kind=kind,
            code=code,
            label_sv=label_sv,
            label_en=label_en,
            order=Factor.objects.filter(kind=kind).count(),
        )
        audit_record(action="factor.added", actor=actor, obj=factor, details={"kind": kind})
    return factor


def category_add(*, actor: User, sector: str, label_sv: str, label_en: str) -> InformationCategory:
    _require_list_admin(actor)
    if sector not in Sector.values:
        raise ValidationError(_("Unknown sector."))
    label_sv, label_en = _labels(label_sv, label_en)
    code = slugify(label_en).replace("-", "_")[:40]
    with transaction.atomic():
        if InformationCategory.objects.filter(sector=sector, code=code).exists():
            raise ValidationError(_("The sector has a category with that English label."))
        category = InformationCategory.objects.create(
            sector=sector,
            code=code,
            label_sv=label_sv,
            label_en=label_en,
            order=InformationCategory.objects.filter(sector=sector).count(),
        )
        audit_record(action="category.added", actor=actor, obj=category, details={"sector": sector})
    return category


def list_entry_set_active(
    *, actor: User, entry: Factor | InformationCategory, active: bool
) -> None:
    _require_list_admin(actor)
    with transaction.atomic():
        entry.is_active = active
        entry.save(update_fields=["is_active"])
        audit_record(
            action="list_entry.activated" if active else "list_entry.retired",
            actor=actor,
            obj=entry,
        )
