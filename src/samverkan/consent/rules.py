"""Who may do what with consents. Templates, views and the API ask these same predicates."""

from __future__ import annotations

from typing import TYPE_CHECKING

from samverkan.cases import rules as case_rules

if TYPE_CHECKING:
    from django.contrib.auth.models import AnonymousUser

    from samverkan.accounts.models import User
    from samverkan.cases.models import Case, Entry
    from samverkan.consent.models import ConsentSignature


def can_see_consents(user: User | AnonymousUser, case: Case) -> bool:
    """The case's team and its coordinator see what each consent allows and its state."""
    return case_rules.is_on_team(user, case) or case_rules.is_coordinator(user, case.group)


def can_manage_consents(user: User | AnonymousUser, case: Case) -> bool:
    """Obtaining consent is the coordinator's job, or the raising agency's (the professional
    closest to the family): create, print the form, record signatures."""
    if not case.is_open:
        return False
    return case_rules.is_coordinator(user, case.group) or case_rules.may_write_for(
        user, case, case.raising_agency_id
    )


def can_confirm_signature(
    user: User | AnonymousUser, case: Case, signature: ConsentSignature
) -> bool:
    """A staff-recorded signature is confirmed by someone who could have recorded it, but not
    by the one who did: the point is a second person's word."""
    return (
        signature.recorded_by_staff
        and signature.recorded_by_id != user.pk
        and can_manage_consents(user, case)
    )


def can_record_withdrawal(user: User | AnonymousUser, case: Case) -> bool:
    """A withdrawal may reach any of the staff, in any form, and must be recorded at once:
    anyone on the team or the coordinator records it, open case or not."""
    return can_see_consents(user, case)


def can_disclose_statutory(user: User | AnonymousUser, entry: Entry) -> bool:
    """Only someone sitting on the team for the entry's own agency discloses it."""
    return case_rules.may_write_for(user, entry.case, entry.agency_id)
