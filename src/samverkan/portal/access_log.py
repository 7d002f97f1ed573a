"""How staff's handling of a case is shown to a guardian or young person: in plain words, by
agency and role, never by name (docs/consent.md says why). Used by the portal's access log and
by the subject-access export (``records.subject_export``)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from samverkan.audit.models import Outcome
from samverkan.cases.models import Case, CaseTeamMember
from samverkan.organisations.models import GroupMembership, GroupRole, Membership, Role

# What staff did, in plain words. Exact actions first, then by the part before the dot.
_ACTION_LABELS = {
    "case.viewed": gettext_lazy("Opened the case"),
    "case.card_viewed": gettext_lazy("Looked at the case's summary"),
    "case.listed": gettext_lazy("Saw the case in a list of cases"),
    "case_index.viewed": gettext_lazy("Saw the case in the group's list of cases"),
    "case.view_denied": gettext_lazy("Tried to open the case"),
    "case.raised": gettext_lazy("Raised the case"),
    "case.status_changed": gettext_lazy("Changed the case's status"),
    "entry.viewed": gettext_lazy("Read journal entries"),
    "entry.history_viewed": gettext_lazy("Read the history of a journal entry"),
    "entry.created": gettext_lazy("Wrote in the journal"),
    "entry.corrected": gettext_lazy("Corrected a journal entry"),
    "entry.disclosed_statutory": gettext_lazy("Disclosed information under a provision of law"),
    "entry.statutory_disclosure_refused": gettext_lazy(
        "Tried to disclose information under a provision of law"
    ),
    "guardian.linked": gettext_lazy("Recorded a guardian"),
    "consent.created": gettext_lazy("Drew up a consent"),
    "consent.signed": gettext_lazy("Recorded a signature"),
    "consent.activated": gettext_lazy("The consent came into force"),
    "consent.signers_notified": gettext_lazy("E-mailed the signers a notice about a consent"),
    "consent.signer_added": gettext_lazy("Added a signer to a consent"),
    "consent.signature_confirmed": gettext_lazy("Confirmed a signature someone else recorded"),
    "consent.withdrawn": gettext_lazy("Recorded a withdrawal of consent"),
    "consent.evidence_viewed": gettext_lazy("Opened a signed consent form"),
    "plan.pdf_exported": gettext_lazy("Exported the action plan as a PDF"),
}
_PREFIX_LABELS = {
    "case": gettext_lazy("Handled the case"),
    "case_team": gettext_lazy("Changed who works on the case"),
    "entry": gettext_lazy("Handled the journal"),
    "consent": gettext_lazy("Looked at the consents"),
    "plan": gettext_lazy("Worked with the action plan"),
    "meeting": gettext_lazy("Handled the case at a meeting"),
    "concern_report": gettext_lazy("Recorded a report of concern"),
    "screening": gettext_lazy("Text was checked for names and identity numbers"),
}


def action_label(action: str, *, outcome: str = Outcome.ALLOWED) -> str:
    label = _ACTION_LABELS.get(action) or _PREFIX_LABELS.get(action.split(".", 1)[0])
    if label is None:
        label = (
            gettext_lazy("Exported information")
            if "export" in action
            else gettext_lazy("Other handling of the case's information")
        )
    text = str(label)
    if outcome == Outcome.DENIED:
        text = _("%(action)s (refused)") % {"action": text}
    return text


@dataclass(frozen=True)
class AccessRow:
    at: datetime
    agency: str
    role: str
    action: str
    count: int
    refused: bool


def _role_label(role: str) -> str:
    return str(Role(role).label) if role in Role.values else role


def access_rows(events: list[dict[str, Any]]) -> list[AccessRow]:
    """Agency and role of each event's actor: the agency written on the event, else the one
    they sat on the case's team for at the time, else their coordinator seat in the case's
    group; the role is their membership's at that agency."""
    if not events:
        return []
    user_ids = {e["actor_id"] for e in events}
    case_ids = {e["case_id"] for e in events}
    groups = dict(Case.objects.filter(pk__in=case_ids).values_list("pk", "group_id"))
    team = list(
        CaseTeamMember.objects.filter(case_id__in=case_ids, user_id__in=user_ids).select_related(
            "agency"
        )
    )
    seats = list(
        GroupMembership.all_seats.filter(
            user_id__in=user_ids, group_id__in=set(groups.values()), role=GroupRole.COORDINATOR
        ).select_related("agency")
    )
    roles: dict[tuple[int, int], set[str]] = {}
    for user_id, agency_id, role in Membership.objects.filter(user_id__in=user_ids).values_list(
        "user_id", "agency_id", "role"
    ):
        roles.setdefault((user_id, agency_id), set()).add(role)

    def role_at(user_id: int, agency_id: int, preferred: str) -> str:
        held = roles.get((user_id, agency_id), set())
        if preferred in held or not held:
            return _role_label(preferred)
        return _role_label(next(r for r in Role.values if r in held))

    rows: list[AccessRow] = []
    for event in events:
        user_id, case_id, at = event["actor_id"], event["case_id"], event["at"]
        agency_name: str | None = event["agency__name"]
        role = ""
        if agency_name is not None:
            role = role_at(user_id, event["agency_id"], Role.PRACTITIONER)
        else:
            on_team = [m for m in team if m.user_id == user_id and m.case_id == case_id]
            current = [
                m
                for m in on_team
                if m.added_at <= at and (m.removed_at is None or at <= m.removed_at)
            ]
            member = current[0] if current else (on_team[0] if on_team else None)
            if member is not None:
                agency_name = member.agency.name
                role = role_at(user_id, member.agency_id, Role.PRACTITIONER)
            else:
                group_id = groups.get(case_id)
                seat = next(
                    (s for s in seats if s.user_id == user_id and s.group_id == group_id), None
                )
                if seat is not None:
                    agency_name = seat.agency.name
                    role = _role_label(Role.COORDINATOR)
        rows.append(
            AccessRow(
                at=at,
                agency=agency_name or _("Unknown agency"),
                role=role or "–",
                action=action_label(event["action"], outcome=event["outcome"]),
                count=event["n"],
                refused=event["outcome"] == Outcome.DENIED,
            )
        )
    return rows
