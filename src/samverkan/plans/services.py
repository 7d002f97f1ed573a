"""Every write to action plans. Each function runs in one transaction and audits inside it.

All free text is read by every agency on the team, so it is screened for the youth's and the
guardians' names and for identity numbers while the case is pseudonymous.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from datetime import date, datetime

from django.core.exceptions import ValidationError
from django.db import models, transaction
from django.db.models import Max
from django.utils import timezone
from django.utils.translation import gettext as _

from samverkan.accounts.models import User
from samverkan.audit.models import Outcome
from samverkan.audit.services import audit_record, audit_record_many
from samverkan.cases.models import Case
from samverkan.cases.services import screen_case_text
from samverkan.disclosure.selectors import CaseAccess
from samverkan.lib.bulk import Rows, insert_in_order
from samverkan.organisations.models import Agency
from samverkan.plans import pdf, rules, selectors
from samverkan.plans.models import (
    ActionPlan,
    FollowUpDate,
    Goal,
    Intervention,
    InterventionKind,
    InterventionStatus,
)

MAX_TEXT = 2000


def _require_plan_editor(actor: User, case: Case) -> None:
    if not case.is_open:
        raise ValidationError(_("The case is closed: its action plan can no longer be changed."))
    if not rules.may_edit_plan(actor, case):
        raise ValidationError(_("Only the case team changes the action plan."))


def _clean_text(text: str, field: str, *, required: bool, empty_message: str = "") -> str:
    text = text.strip()
    if required and not text:
        raise ValidationError({field: [empty_message]})
    if len(text) > MAX_TEXT:
        raise ValidationError(
            {field: [_("Keep it shorter than %(max)d characters.") % {"max": MAX_TEXT}]}
        )
    return text


def plan_create(*, actor: User, case: Case) -> ActionPlan:
    _require_plan_editor(actor, case)
    with transaction.atomic():
        # The case row lock makes two team members starting the plan at once get one plan.
        Case.objects.select_for_update().filter(pk=case.pk).first()
        if ActionPlan.objects.filter(case=case).exists():
            raise ValidationError(_("The case already has an action plan."))
        plan = ActionPlan.objects.create(case=case, created_by=actor)
        audit_record(action="plan.created", actor=actor, obj=plan, case_id=case.pk)
    return plan


def goal_add(*, actor: User, plan: ActionPlan, text: str) -> Goal:
    case = plan.case
    _require_plan_editor(actor, case)
    text = _clean_text(text, "text", required=True, empty_message=_("Write the goal."))
    screen_case_text(actor=actor, case=case, text=text, field="text")
    with transaction.atomic():
        ActionPlan.objects.select_for_update().filter(pk=plan.pk).first()
        last = Goal.objects.filter(plan=plan).aggregate(last=Max("order"))["last"]
        goal = Goal(plan=plan, order=(last or 0) + 1, created_by=actor)
        goal.text = text
        goal.save()
        audit_record(action="plan.goal_added", actor=actor, obj=goal, case_id=case.pk)
    return goal


def goal_update(*, actor: User, goal: Goal, text: str, achieved: bool) -> Goal:
    case = goal.plan.case
    _require_plan_editor(actor, case)
    text = _clean_text(text, "text", required=True, empty_message=_("Write the goal."))
    screen_case_text(actor=actor, case=case, text=text, field="text")
    with transaction.atomic():
        locked = Goal.objects.select_for_update().get(pk=goal.pk)
        changed_text = locked.text != text
        if changed_text:
            locked.text = text
        locked.achieved = achieved
        locked.updated_at = timezone.now()
        locked.save()
        audit_record(
            action="plan.goal_updated",
            actor=actor,
            obj=locked,
            case_id=case.pk,
            details={"text_changed": changed_text, "achieved": achieved},
        )
    return locked


def _intervention_errors(
    kind: str, status: str, start_date: date, end_date: date | None
) -> dict[str, list[str]]:
    errors: dict[str, list[str]] = {}
    if kind not in InterventionKind.values:
        errors["kind"] = [_("Choose the kind of intervention.")]
    if status not in InterventionStatus.values:
        errors["status"] = [_("Choose a status.")]
    if end_date is not None and end_date < start_date:
        errors["end_date"] = [_("The end date cannot be before the start date.")]
    return errors


def _check_intervention(
    *,
    case: Case,
    agency_id: int,
    kind: str,
    status: str,
    responsible: User,
    start_date: date,
    end_date: date | None,
) -> None:
    errors = _intervention_errors(kind, status, start_date, end_date)
    sits_for_agency = case.team.filter(
        user=responsible, agency_id=agency_id, removed_at__isnull=True
    ).exists()
    if not sits_for_agency or not responsible.is_active:
        errors["responsible"] = [
            _("The responsible person must sit on the case team for the same agency.")
        ]
    if errors:
        raise ValidationError(errors)


def intervention_add(
    *,
    actor: User,
    plan: ActionPlan,
    agency: Agency,
    kind: str,
    responsible: User,
    start_date: date,
    end_date: date | None = None,
    status: str = InterventionStatus.PLANNED,
    description: str = "",
) -> Intervention:
    case = plan.case
    _require_plan_editor(actor, case)
    if not rules.may_write_intervention_for(actor, case, agency.pk):
        raise ValidationError(
            _("You can add interventions only for an agency you sit on the team for.")
        )
    _check_intervention(
        case=case,
        agency_id=agency.pk,
        kind=kind,
        status=status,
        responsible=responsible,
        start_date=start_date,
        end_date=end_date,
    )
    description = _clean_text(
        description,
        "description",
        required=kind == InterventionKind.OTHER,
        empty_message=_("Describe the intervention."),
    )
    if description:
        screen_case_text(actor=actor, case=case, text=description, field="description")
    with transaction.atomic():
        intervention = Intervention(
            plan=plan,
            agency=agency,
            kind=kind,
            responsible_user=responsible,
            start_date=start_date,
            end_date=end_date,
            status=status,
            created_by=actor,
        )
        intervention.description = description
        intervention.save()
        audit_record(
            action="plan.intervention_added",
            actor=actor,
            agency=agency,
            obj=intervention,
            case_id=case.pk,
            details={"kind": kind, "status": status},
        )
    return intervention


def intervention_update(
    *,
    actor: User,
    intervention: Intervention,
    responsible: User,
    start_date: date,
    end_date: date | None,
    status: str,
    description: str = "",
    outcome: str = "",
) -> Intervention:
    case = intervention.plan.case
    _require_plan_editor(actor, case)
    if not rules.may_write_intervention_for(actor, case, intervention.agency_id):
        raise ValidationError(_("Only the intervention's own agency changes it."))
    _check_intervention(
        case=case,
        agency_id=intervention.agency_id,
        kind=intervention.kind,
        status=status,
        responsible=responsible,
        start_date=start_date,
        end_date=end_date,
    )
    description = _clean_text(
        description,
        "description",
        required=intervention.kind == InterventionKind.OTHER,
        empty_message=_("Describe the intervention."),
    )
    outcome = _clean_text(outcome, "outcome", required=False)
    problems: dict[str, list[str]] = {}
    for field, text in (("description", description), ("outcome", outcome)):
        try:
            if text:
                screen_case_text(actor=actor, case=case, text=text, field=field)
        except ValidationError as exc:
            problems.update(exc.message_dict)
    if problems:
        raise ValidationError(problems)
    with transaction.atomic():
        locked = Intervention.objects.select_for_update().get(pk=intervention.pk)
        previous_status = locked.status
        locked.responsible_user = responsible
        locked.start_date = start_date
        locked.end_date = end_date
        locked.status = status
        if locked.description != description:
            locked.description = description
        if locked.outcome != outcome:
            locked.outcome = outcome
        locked.updated_at = timezone.now()
        locked.save()
        audit_record(
            action="plan.intervention_updated",
            actor=actor,
            agency=locked.agency,
            obj=locked,
            case_id=case.pk,
            details={"from": previous_status, "to": status},
        )
    return locked


def follow_up_add(*, actor: User, plan: ActionPlan, on: date) -> FollowUpDate:
    case = plan.case
    _require_plan_editor(actor, case)
    if on < timezone.localdate():
        raise ValidationError({"date": [_("A follow-up date cannot be in the past.")]})
    with transaction.atomic():
        if FollowUpDate.objects.filter(plan=plan, date=on).exists():
            raise ValidationError({"date": [_("That follow-up date is already in the plan.")]})
        follow_up = FollowUpDate.objects.create(plan=plan, date=on, created_by=actor)
        audit_record(
            action="plan.follow_up_added",
            actor=actor,
            obj=follow_up,
            case_id=case.pk,
            details={"date": on.isoformat()},
        )
    return follow_up


def follow_up_mark_done(*, actor: User, follow_up: FollowUpDate) -> FollowUpDate:
    case = follow_up.plan.case
    _require_plan_editor(actor, case)
    with transaction.atomic():
        locked = FollowUpDate.objects.select_for_update().get(pk=follow_up.pk)
        if not locked.done:
            locked.done = True
            locked.save(update_fields=["done"])
            audit_record(action="plan.follow_up_done", actor=actor, obj=locked, case_id=case.pk)
    return locked


@dataclass(frozen=True)
class ExportedPdf:
    filename: str
    content: bytes


def plan_pdf_export(*, access: CaseAccess, language: str) -> ExportedPdf | None:
    """The family's copy of the plan, or None when the case has no plan.

    Raises ``selectors.IdentityNotShown`` for a viewer who knows the youth only by pseudonym.
    The document is made before the audit transaction so that the chain head is not held while
    WeasyPrint lays out pages; nothing leaves before the export is recorded.
    """
    if language not in pdf.LANGUAGES:
        raise ValidationError({"lang": [_("The plan can be printed in Swedish or English.")]})
    try:
        family = selectors.plan_for_family(access)
    except selectors.IdentityNotShown:
        with transaction.atomic():
            audit_record(
                action="plan.pdf_export_denied",
                actor=access.user,
                obj=access.case,
                case_id=access.case.pk,
                outcome=Outcome.DENIED,
                details={"language": language},
            )
        raise
    if family is None:
        return None
    content = pdf.render(family, language)
    with transaction.atomic():
        audit_record_many(
            action="plan.pdf_exported",
            actor=access.user,
            agency=family.contact_agency,
            subjects=family.subjects,
            legal_basis=access.identity.basis,
            details={"language": language, "identity_shown": True},
        )
    return ExportedPdf(filename=pdf.filename(family, language), content=content)


# Many rows at once, for the synthetic data set (``samverkan.synth``); the caller appends the
# audit events with ``audit.services.append_bulk``.

PLAN_TABLES: tuple[type[models.Model], ...] = (ActionPlan, Goal, Intervention, FollowUpDate)


def goal_prepare(*, plan: ActionPlan, order: int, text: str, author: User, at: datetime) -> Goal:
    """An unsaved goal, its text cleaned as ``goal_add`` cleans it."""
    goal = Goal(plan=plan, order=order, created_by=author, created_at=at, updated_at=at)
    goal.text = _clean_text(text, "text", required=True, empty_message=_("Write the goal."))
    return goal


def intervention_prepare(
    *,
    plan: ActionPlan,
    agency: Agency,
    kind: str,
    status: str,
    responsible: User,
    start_date: date,
    description: str,
    at: datetime,
) -> Intervention:
    """An unsaved intervention, checked and its description cleaned as ``intervention_add``
    does (the team seat of the responsible person is the caller's to ensure)."""
    errors = _intervention_errors(kind, status, start_date, None)
    if errors:
        raise ValidationError(errors)
    intervention = Intervention(
        plan=plan,
        agency=agency,
        kind=kind,
        responsible_user=responsible,
        start_date=start_date,
        status=status,
        created_by=responsible,
        created_at=at,
        updated_at=at,
    )
    intervention.description = _clean_text(
        description,
        "description",
        required=kind == InterventionKind.OTHER,
        empty_message=_("Describe the intervention."),
    )
    intervention.outcome = ""
    return intervention


def plans_create_bulk(rows: Rows) -> Counter[str]:
    """Write the rows of the action-plan tables among ``rows``, parents first."""
    return insert_in_order(PLAN_TABLES, rows)
