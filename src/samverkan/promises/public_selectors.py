"""Reads for the public promise tracker, its feed and PDF, and the council report.

Built on ``promises.selectors``: the public side reads only through its published-only door
(``published_details`` / ``promise_public_detail``) or, for what that module lacks, through
querysets here that start from ``published_agreements()`` so that the published filter cannot be
forgotten. The council report goes through the staff door (``active_agreements``), which takes
the acting user.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from typing import TYPE_CHECKING

from django.db.models import Prefetch, Q, QuerySet
from django.http import Http404
from django.utils import timezone
from django.utils.translation import gettext as _

from samverkan.indicators.selectors import published_indicators
from samverkan.organisations.models import Municipality
from samverkan.promises import rules, selectors
from samverkan.promises.models import (
    Agreement,
    AgreementStatus,
    FollowUp,
    FollowUpProgress,
)
from samverkan.promises.selectors import AgreementDetail, CommitmentRow

if TYPE_CHECKING:
    from django.contrib.auth.models import AnonymousUser

    from samverkan.accounts.models import User
    from samverkan.indicators.models import Indicator

# The feed carries the latest follow-ups only: readers poll it, and older entries stay on the
# promise pages.
FEED_SIZE = 50


def _published() -> Q:
    # Same rule as selectors.published_promises: published and past draft (a draft cannot be
    # published through the services, but the check costs nothing and closes the door twice).
    return Q(published=True) & ~Q(status=AgreementStatus.DRAFT)


def published_agreements() -> QuerySet[Agreement]:
    return Agreement.objects.filter(_published())


# --- Tracker ---------------------------------------------------------------------------------


def tracker_municipalities() -> list[Municipality]:
    """Municipalities with at least one published agreement, for the tracker's filter."""
    return list(
        Municipality.objects.filter(
            pk__in=published_agreements().values("municipality_id")
        ).order_by("name")
    )


def municipality_by_code(code: str) -> Municipality:
    """A municipality named by its public *kommunkod*; 404 for any other text."""
    found = Municipality.objects.filter(code=code).first() if code.isdigit() else None
    if found is None:
        raise Http404
    return found


@dataclass
class ProgressRow:
    """A commitment with a countable target, as the progress chart and its table show it."""

    number: int
    row: CommitmentRow


def countable_rows(detail: AgreementDetail) -> list[ProgressRow]:
    """Commitments with a numeric target, numbered as on the page (all commitments count)."""
    return [
        ProgressRow(number, row)
        for number, row in enumerate(_rows_in_page_order(detail), 1)
        if row.progress.target
    ]


def _rows_in_page_order(detail: AgreementDetail) -> list[CommitmentRow]:
    return [row for group in detail.groups for row in group.rows]


def linked_public_indicators(detail: AgreementDetail) -> list[Indicator]:
    """The published series linked to the agreement's commitments, with their values.

    ``promise_public_detail`` already keeps unpublished series out of ``row.indicators``; they
    are fetched again here through the indicators app's public door so that their values come
    in one query rather than one per series.
    """
    ids = {i.pk for row in detail.commitments for i in row.indicators}
    if not ids:
        return []
    return list(published_indicators(ids=ids).order_by("name", "area"))


def published_follow_ups(municipality: Municipality | None = None) -> list[FollowUp]:
    """The latest follow-ups of published agreements, newest first, for the Atom feed."""
    qs = (
        FollowUp.objects.filter(agreement__in=published_agreements())
        .select_related("agreement", "agreement__municipality")
        .prefetch_related(
            Prefetch(
                "progress",
                queryset=FollowUpProgress.objects.select_related("commitment"),
            )
        )
        .order_by("-date", "-recorded_at", "-pk")
    )
    if municipality is not None:
        qs = qs.filter(agreement__municipality=municipality)
    return list(qs[:FEED_SIZE])


# --- Council report --------------------------------------------------------------------------


@dataclass
class CouncilRow:
    heading: str  # "The police promise", …, "Joint"
    row: CommitmentRow
    reported: FollowUpProgress | None  # where the latest follow-up said it stands


@dataclass
class CouncilItem:
    detail: AgreementDetail
    latest: FollowUp | None

    @property
    def rows(self) -> list[CouncilRow]:
        reported = {p.commitment_id: p for p in self.latest.progress.all()} if self.latest else {}
        return [
            CouncilRow(group.heading, row, reported.get(row.commitment.pk))
            for group in self.detail.groups
            for row in group.rows
        ]

    @property
    def days_since_follow_up(self) -> int | None:
        if self.latest is None:
            return None
        return (timezone.localdate() - self.latest.date).days


@dataclass
class CouncilSection:
    municipality: Municipality
    items: list[CouncilItem] = field(default_factory=list)


@dataclass
class CouncilReport:
    sections: list[CouncilSection]
    choices: list[Municipality]
    chosen: Municipality | None
    made_on: date

    @property
    def title(self) -> str:
        if self.chosen is not None:
            return _("Council report: running agreements in %(municipality)s") % {
                "municipality": self.chosen.name
            }
        return _("Council report: running agreements")


def council_report(*, viewer: User | AnonymousUser, code: str = "") -> CouncilReport:
    """Every running (active or extended) agreement, published or not, of the municipalities
    the viewer serves as a council member or agreement editor.

    404 for anyone else, and for a municipality code outside the viewer's, exactly as for a
    missing one (DESIGN §4 rule 7).
    """
    ids = rules.reader_municipality_ids(viewer)
    if not ids:
        raise Http404
    choices = list(Municipality.objects.filter(pk__in=ids).order_by("name"))
    chosen: Municipality | None = None
    if code:
        chosen = next((m for m in choices if m.code == code), None)
        if chosen is None:
            raise Http404
    details = selectors.active_agreements(viewer=viewer, municipality=chosen)
    sections: dict[int, CouncilSection] = {
        m.pk: CouncilSection(m) for m in ([chosen] if chosen else choices)
    }
    for detail in details:
        # follow_ups arrive newest first (FollowUp.Meta.ordering).
        latest = detail.follow_ups[0] if detail.follow_ups else None
        sections[detail.agreement.municipality_id].items.append(CouncilItem(detail, latest))
    return CouncilReport(
        sections=list(sections.values()),
        choices=choices,
        chosen=chosen,
        made_on=timezone.localdate(),
    )
