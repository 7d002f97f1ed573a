"""Who the viewer is, for the policy: the agencies they sit on a case's team for and still
practise at. Every ``Viewer`` the policy decides for is built here (``viewer_for``)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from samverkan.disclosure.policy import Viewer
from samverkan.organisations.models import Agency, Role, Sector
from samverkan.organisations.rules import held_memberships

if TYPE_CHECKING:
    from django.contrib.auth.models import AnonymousUser

    from samverkan.accounts.models import User
    from samverkan.cases.models import Case


def practising_agency_ids(user: User | AnonymousUser) -> frozenset[int]:
    """Active agencies the user is a practitioner of now, cached on the user for the request.

    A seat on a case team counts only while this holds: someone who changes jobs, or whose
    agency is closed, loses the case when the membership goes, not when someone remembers to
    take them off every team.
    """
    return frozenset(
        agency_id for role, agency_id in held_memberships(user) if role == Role.PRACTITIONER
    )


def team_agency_ids(user: User | AnonymousUser, case: Case) -> frozenset[int]:
    """The agencies the user sits on this case's team for; empty when not on the team.

    Reads the team through ``case.team.all()``, so a case whose team was prefetched costs no
    query here.
    """
    practising = practising_agency_ids(user)
    if not practising or user.pk is None:
        return frozenset()
    seats = frozenset(
        m.agency_id for m in case.team.all() if m.user_id == user.pk and m.removed_at is None
    )
    return seats & practising


def viewer_for(user: User | AnonymousUser, case: Case) -> Viewer:
    """The viewer the policy decides for on this case."""
    return viewer_of(user, team_agency_ids(user, case))


def viewer_of(user: User | AnonymousUser, agency_ids: frozenset[int]) -> Viewer:
    """The viewer for agencies already known (a list of many cases read in one query)."""
    return Viewer(user_id=user.pk or 0, agency_ids=agency_ids)


def receives_concern_reports(agency_ids: frozenset[int]) -> bool:
    """Whether any of these team agencies is social services, who receive reports of concern
    (SoL 14 kap. 1 §) and so see every report on the case."""
    return Agency.objects.filter(pk__in=agency_ids, sector=Sector.SOCIAL_SERVICES).exists()
