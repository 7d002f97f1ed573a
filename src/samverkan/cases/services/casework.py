"""A case's life: raising, status, team, journal entries and reports of concern; and the
screening of case text for names."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from samverkan.accounts.models import User
from samverkan.audit.models import Outcome
from samverkan.audit.services import audit_record
from samverkan.cases import rules
from samverkan.cases.models import (
    TRANSITIONS,
    Case,
    CaseTeamMember,
    ClosureReason,
    ConcernReport,
    Entry,
    EntryVersion,
    Factor,
    FactorKind,
    GuardianLink,
    InformationCategory,
    Status,
)
from samverkan.cases.screening import screen
from samverkan.cases.services.people import (
    _parse_number,
    youth_register,
)
from samverkan.disclosure.policy import (
    identity_shared_with_team,
    may_leave_awaiting_consent,
)
from samverkan.disclosure.selectors import grants_for, identity_shown, policy_facts
from samverkan.organisations.models import (
    Agency,
    CollaborationGroup,
    GroupMembership,
    Membership,
    Role,
)
from samverkan.plans.models import Goal


def names_for_screening(case: Case) -> list[str]:
    """The names free text about this case must not contain while it is pseudonymous."""
    # Only this case's guardians: a refusal naming another case's guardian would tell the
    # writer who that agency had recorded.
    links = GuardianLink.objects.filter(case=case)
    return [case.youth.name, *(link.name for link in links)]


def screen_case_text(*, actor: User, case: Case, text: str, field: str) -> None:
    """Refuse text that names the youth, for text every agency on the team or in the group
    reads (the case's reason and outcome, plans, minutes, decisions).

    Always, not only while the team is pseudonymous: an agency that joins later reads what was
    written before. A refusal is audited (log review looks for repeated ones), so call this
    before the service's own transaction, or the event would roll back with the write.
    """
    try:
        screen(
            text,
            names=names_for_screening(case),
            field=field,
            specific=identity_shown(actor, case),
        )
    except ValidationError:
        with transaction.atomic():
            audit_record(
                action="screening.refused",
                actor=actor,
                obj=case,
                case_id=case.pk,
                outcome=Outcome.DENIED,
                details={"field": field},
            )
        raise


def screen_if_pseudonymous(*, actor: User, case: Case, text: str, field: str) -> None:
    """Journal entries: screened while anyone on the team knows the youth only by pseudonym.
    An entry is read by its own agency until consent covers another, and consent then covers
    the identity too."""
    team = set(case.team.filter(removed_at__isnull=True).values_list("agency_id", flat=True))
    if not identity_shared_with_team(
        team_agency_ids=team,
        raising_agency_id=case.raising_agency_id,
        at=timezone.now(),
        grants=grants_for(case),
    ):
        screen_case_text(actor=actor, case=case, text=text, field=field)


@dataclass(frozen=True)
class RaisedCase:
    case: Case
    warnings: list[str]


def _factors(codes: Sequence[str], kind: FactorKind) -> list[Factor]:
    found = list(Factor.objects.filter(code__in=codes, kind=kind, is_active=True))
    if len(found) != len(set(codes)):
        raise ValidationError(_("Unknown factor."))
    return found


def _reason_checked(reason: str) -> str:
    reason = reason.strip()
    if not reason:
        raise ValidationError({"reason": [_("Describe why the case is raised.")]})
    return reason


def case_raise(
    *,
    actor: User,
    group: CollaborationGroup,
    agency: Agency,
    identity_number: str,
    name: str,
    gender: str,
    reason: str,
    risk_factors: Sequence[str] = (),
    protective_factors: Sequence[str] = (),
) -> RaisedCase:
    if agency not in rules.raising_agencies(actor, group):
        raise ValidationError(_("You cannot raise a case for that agency in this group."))
    reason = _reason_checked(reason)
    risks = _factors(risk_factors, FactorKind.RISK)
    protections = _factors(protective_factors, FactorKind.PROTECTIVE)
    # The reason is read by every agency on the team, and the case starts pseudonymous. Only
    # the name the raiser typed is checked: checking a stored name too would tell them whether
    # the youth is already registered. The raiser knows who it is, so the refusal says why.
    _parse_number(identity_number, "identity_number")
    screen(reason, names=[name], field="reason", specific=True)
    with transaction.atomic():
        youth = youth_register(
            actor=actor,
            municipality=group.municipality,
            identity_number=identity_number,
            name=name,
            gender=gender,
        )
        case = Case(youth=youth, group=group, raising_agency=agency, raised_by=actor)
        case.reason = reason
        case.save()
        case.risk_factors.set(risks)
        case.protective_factors.set(protections)
        CaseTeamMember.objects.create(case=case, user=actor, agency=agency, added_by=actor)
        audit_record(
            action="case.raised",
            actor=actor,
            agency=agency,
            obj=case,
            case_id=case.pk,
            details={"group_id": group.pk},
        )
    warnings: list[str] = []
    age = youth.age_on(timezone.localdate())
    if not group.min_age <= age <= group.max_age:
        warnings.append(
            _("The youth is %(age)d, outside the group's target ages %(min)d–%(max)d.")
            % {"age": age, "min": group.min_age, "max": group.max_age}
        )
    return RaisedCase(case=case, warnings=warnings)


def case_transition(
    *,
    actor: User,
    case: Case,
    to: Status | str,
    closure_reason: str = "",
    closure_outcome: str = "",
) -> Case:
    if not (rules.is_on_team(actor, case) or rules.is_coordinator(actor, case.group)):
        raise ValidationError(_("Only the case team and the coordinator change a case's status."))
    if to == Status.CLOSED and closure_outcome.strip():
        screen_case_text(actor=actor, case=case, text=closure_outcome, field="closure_outcome")
    with transaction.atomic():
        locked = Case.objects.select_for_update().get(pk=case.pk)
        if to not in TRANSITIONS.get(locked.status, frozenset()):
            raise ValidationError(
                _("A case cannot go from “%(from)s” to “%(to)s”.")
                % {
                    "from": Status(locked.status).label,
                    "to": Status(to).label if to in Status.values else to,
                }
            )
        if (
            locked.status == Status.AWAITING_CONSENT
            and to != Status.CLOSED
            and not may_leave_awaiting_consent(
                team_agency_ids=locked.team.filter(removed_at__isnull=True).values_list(
                    "agency_id", flat=True
                ),
                raising_agency_id=locked.raising_agency_id,
                consents=policy_facts(locked)[0],
                at=timezone.now(),
            )
        ):
            raise ValidationError(
                {
                    "to": [
                        _(
                            "The case stays “Awaiting consent” until a consent is active: other "
                            "agencies than the one that raised it are on its team."
                        )
                    ]
                }
            )
        if to == Status.ACTIVE_PLAN and not Goal.objects.filter(plan__case=locked).exists():
            raise ValidationError(
                {"to": [_("A case moves to “Active plan” only when its action plan has a goal.")]}
            )
        now = timezone.now()
        if to == Status.CLOSED:
            if closure_reason not in ClosureReason.values:
                raise ValidationError({"closure_reason": [_("Choose why the case is closed.")]})
            if not closure_outcome.strip():
                raise ValidationError({"closure_outcome": [_("Describe the outcome.")]})
            locked.closed_at = now
            locked.closure_reason = closure_reason
            locked.closure_outcome = closure_outcome.strip()
        previous = locked.status
        locked.status = to
        locked.status_changed_at = now
        locked.save()
        audit_record(
            action="case.status_changed",
            actor=actor,
            obj=locked,
            case_id=locked.pk,
            details={"from": previous, "to": str(to)},
        )
        # No statistics refresh here: the closure reaches the council's figures with the
        # nightly build (stats.refresh), so they never change at the minute of a closure.
    return locked


def team_add(*, actor: User, case: Case, user: User, agency: Agency) -> CaseTeamMember:
    if not rules.can_manage_team(actor, case):
        raise ValidationError(_("Only the group's coordinator assigns the case team."))
    if not case.is_open:
        raise ValidationError(_("The team of a closed case cannot be changed."))
    if not Membership.objects.filter(user=user, agency=agency, role=Role.PRACTITIONER).exists():
        raise ValidationError(_("The person is not a practitioner at that agency."))
    if not GroupMembership.objects.filter(group=case.group, user=user, agency=agency).exists():
        raise ValidationError(_("The person does not sit in the group for that agency."))
    with transaction.atomic():
        if case.team.filter(user=user, agency=agency, removed_at__isnull=True).exists():
            raise ValidationError(_("The person is already on the team for that agency."))
        member = CaseTeamMember.objects.create(case=case, user=user, agency=agency, added_by=actor)
        audit_record(
            action="case_team.added",
            actor=actor,
            agency=agency,
            obj=member,
            case_id=case.pk,
            details={"user_id": user.pk},
        )
    return member


def team_remove(*, actor: User, member: CaseTeamMember) -> None:
    if not rules.can_manage_team(actor, member.case):
        raise ValidationError(_("Only the group's coordinator changes the case team."))
    if not member.case.is_open:
        raise ValidationError(_("The team of a closed case cannot be changed."))
    with transaction.atomic():
        member.removed_at = timezone.now()
        member.save(update_fields=["removed_at"])
        audit_record(
            action="case_team.removed",
            actor=actor,
            agency=member.agency,
            obj=member,
            case_id=member.case_id,
            details={"user_id": member.user_id},
        )


def _entry_checked(agency: Agency, category: InformationCategory, text: str) -> str:
    if not rules.may_write_category(agency, category):
        raise ValidationError({"category": [_("That category does not belong to your sector.")]})
    text = text.strip()
    if not text:
        raise ValidationError({"text": [_("Write the entry.")]})
    return text


def entry_add(
    *, actor: User, case: Case, agency: Agency, category: InformationCategory, text: str
) -> Entry:
    if not rules.may_write_for(actor, case, agency.pk):
        raise ValidationError(_("You can write only for an agency you sit on the team for."))
    text = _entry_checked(agency, category, text)
    screen_if_pseudonymous(actor=actor, case=case, text=text, field="text")
    with transaction.atomic():
        entry = Entry.objects.create(case=case, agency=agency, category=category, created_by=actor)
        version = EntryVersion(entry=entry, number=1, author=actor)
        version.text = text
        version.save()
        audit_record(action="entry.created", actor=actor, agency=agency, obj=entry, case_id=case.pk)
    return entry


def entry_correct(*, actor: User, entry: Entry, text: str) -> EntryVersion:
    """A correction is a new version; earlier versions stay, readable in the entry's history."""
    case = entry.case
    if not rules.may_write_for(actor, case, entry.agency_id):
        raise ValidationError(_("You can correct only your own agency's entries."))
    text = text.strip()
    if not text:
        raise ValidationError({"text": [_("Write the entry.")]})
    screen_if_pseudonymous(actor=actor, case=case, text=text, field="text")
    with transaction.atomic():
        locked = Entry.objects.select_for_update().get(pk=entry.pk)
        locked.version_count += 1
        locked.save(update_fields=["version_count"])
        version = EntryVersion(entry=locked, number=locked.version_count, author=actor)
        version.text = text
        version.save()
        audit_record(
            action="entry.corrected",
            actor=actor,
            agency=locked.agency,
            obj=locked,
            case_id=case.pk,
            details={"version": version.number},
        )
    return version


def concern_report_add(
    *, actor: User, case: Case, agency: Agency, reported_on: date
) -> ConcernReport:
    if not rules.may_write_for(actor, case, agency.pk):
        raise ValidationError(_("You can record only for an agency you sit on the team for."))
    if reported_on > timezone.localdate():
        raise ValidationError({"reported_on": [_("The date cannot be in the future.")]})
    with transaction.atomic():
        report = ConcernReport.objects.create(
            case=case, agency=agency, reported_by=actor, reported_on=reported_on
        )
        audit_record(
            action="concern_report.recorded",
            actor=actor,
            agency=agency,
            obj=report,
            case_id=case.pk,
        )
    return report


def concern_report_acknowledge(*, actor: User, report: ConcernReport) -> ConcernReport:
    if not rules.can_acknowledge_concern(actor, report.case):
        raise ValidationError(
            _("Only social services on the team acknowledge a report of concern.")
        )
    with transaction.atomic():
        locked = ConcernReport.objects.select_for_update().get(pk=report.pk)
        if locked.acknowledged_at is None:
            locked.acknowledged_at = timezone.now()
            locked.acknowledged_by = actor
            locked.save(update_fields=["acknowledged_at", "acknowledged_by"])
            audit_record(
                action="concern_report.acknowledged",
                actor=actor,
                obj=locked,
                case_id=locked.case_id,
            )
    return locked
