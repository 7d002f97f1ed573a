"""Many rows at once, for the synthetic data set (``samverkan.synth``)."""

from __future__ import annotations

from collections import Counter
from datetime import datetime

from django.db import models

from samverkan.accounts.models import User
from samverkan.cases.models import (
    Case,
    CaseTeamMember,
    ConcernReport,
    Entry,
    EntryVersion,
    Guardian,
    GuardianLink,
    InformationCategory,
    Youth,
)
from samverkan.cases.screening import screen
from samverkan.cases.services.casework import (
    _entry_checked,
    _reason_checked,
)
from samverkan.cases.services.people import (
    Pseudonyms,
)
from samverkan.lib.bulk import Rows, insert_in_order
from samverkan.organisations.models import (
    Agency,
    CollaborationGroup,
)

# Many rows at once, for the synthetic data set (``samverkan.synth``). Each row is made by the
# same per-row functions the services above use; the caller appends the audit events with
# ``audit.services.append_bulk``. Nothing here checks who may do it: there is no actor.

CASE_TABLES: tuple[type[models.Model], ...] = (
    Youth,
    Case,
    Case.risk_factors.through,
    Case.protective_factors.through,
    Guardian,
    GuardianLink,
    CaseTeamMember,
    Entry,
    EntryVersion,
    ConcernReport,
)


def case_prepare(
    *,
    youth: Youth,
    group: CollaborationGroup,
    agency: Agency,
    raised_by: User,
    raised_at: datetime,
    reason: str,
) -> tuple[Case, CaseTeamMember]:
    """An unsaved case and the raiser's seat on its team, as ``case_raise`` makes them (the
    reason checked and screened against the youth's name)."""
    reason = _reason_checked(reason)
    screen(reason, names=[youth.name], field="reason", specific=True)
    case = Case(
        youth=youth,
        group=group,
        raising_agency=agency,
        raised_by=raised_by,
        raised_at=raised_at,
        status_changed_at=raised_at,
    )
    case.reason = reason
    member = CaseTeamMember(
        case=case, user=raised_by, agency=agency, added_by=raised_by, added_at=raised_at
    )
    return case, member


def entry_prepare(
    *,
    case: Case,
    agency: Agency,
    category: InformationCategory,
    author: User,
    at: datetime,
    text: str,
) -> tuple[Entry, EntryVersion]:
    """An unsaved entry and its first version, checked as ``entry_add`` checks them."""
    text = _entry_checked(agency, category, text)
    entry = Entry(case=case, agency=agency, category=category, created_by=author, created_at=at)
    version = EntryVersion(entry=entry, number=1, author=author, created_at=at)
    version.text = text
    return entry, version


def cases_create_bulk(rows: Rows, *, pseudonyms: Pseudonyms) -> Counter[str]:
    """Write the rows of the cases tables among ``rows`` (made by ``youth_prepare``,
    ``case_prepare``, ``guardian_link_prepare``, ``entry_prepare``), parents first, and the
    pseudonym counters the youths' pseudonyms were drawn from."""
    counts = insert_in_order(CASE_TABLES, rows)
    pseudonyms.save()
    return counts
