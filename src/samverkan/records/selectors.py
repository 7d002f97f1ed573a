"""Reads of records, for auditors: the legal holds, and the audit log page (the log review)
with its recorded reviews. Each read that shows the auditor something is audited."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import BooleanField, Count, ExpressionWrapper, OuterRef, QuerySet, Subquery
from django.http import Http404
from django.utils.translation import gettext as _

from samverkan.audit.models import AuditEvent
from samverkan.audit.services import audit_record
from samverkan.cases.models import Case, Youth
from samverkan.lib.fields import search_hash
from samverkan.records import rules
from samverkan.records.models import LegalHold, LogReview
from samverkan.records.review import LogFilters, annotated, any_flag, flag_conditions

if TYPE_CHECKING:
    from samverkan.accounts.models import User


def legal_holds(*, viewer: User) -> list[LegalHold]:
    """The holds in force, for an auditor: case id and pseudonym, never case content. The
    reading is audited (with how many were shown)."""
    if not rules.can_manage_legal_holds(viewer):
        return []
    holds = list(
        LegalHold.objects.select_related("case__youth", "placed_by").order_by("-placed_at", "-pk")
    )
    with transaction.atomic():
        audit_record(
            action="records.legal_holds_viewed",
            actor=viewer,
            object_type="records.legalhold",
            details={"count": len(holds)},
        )
    return holds


def legal_hold_get(*, viewer: User, pk: int) -> LegalHold:
    """One hold, for an auditor; 404 for anyone else, exactly as for a missing one."""
    hold = (
        LegalHold.objects.select_related("case__youth").filter(pk=pk).first()
        if rules.can_manage_legal_holds(viewer)
        else None
    )
    if hold is None:
        raise Http404
    return hold


def legal_hold_find_case(*, viewer: User, pseudonym: str, case_id: int | None) -> Case:
    """The case a hold is to be placed on, by the youth's pseudonym (and case number if the
    youth has several cases). Raises ``ValidationError`` with a message for the form."""
    if not rules.can_manage_legal_holds(viewer):
        raise ValidationError(_("Only auditors place legal holds."))
    cases = list(Case.objects.filter(youth__pseudonym=pseudonym.strip().upper()).order_by("pk"))
    if case_id is not None:
        cases = [case for case in cases if case.pk == case_id]
    if not cases:
        raise ValidationError({"pseudonym": [_("No case has that pseudonym and number.")]})
    if len(cases) > 1:
        raise ValidationError(
            {"case_number": [_("The pseudonym has several cases: give the case number too.")]}
        )
    return cases[0]


# --- The audit log page (log review) ---------------------------------------------------------
# The data-protection officer's one page of the log: filters, flags, and every event in words.


@dataclass(frozen=True)
class LogSearch:
    events: QuerySet[AuditEvent]  # newest first, each with flag_<name> and case_pseudonym
    counts: dict[str, int]  # "total", "flagged" and one per flag, for the period and filters


def log_search(*, viewer: User, filters: LogFilters) -> LogSearch:
    """The filtered, flagged events, and the flag counts for the whole selection. Not audited
    here: the page that shows them audits the search (``log_search_audit``, once it knows which
    page it showed)."""
    if not rules.can_review_log(viewer):
        raise Http404
    conditions = flag_conditions(filters)
    events = annotated(filters)
    counts = events.aggregate(
        total=Count("id"),
        flagged=Count("id", filter=any_flag(conditions)),
        **{name: Count("id", filter=condition) for name, condition in conditions.items()},
    )
    if filters.flagged_only:
        events = events.filter(any_flag(conditions))
    pseudonym = Case.objects.filter(pk=OuterRef("case_id")).values("youth__pseudonym")[:1]
    events = (
        events.annotate(
            case_pseudonym=Subquery(pseudonym),
            **{
                f"flag_{name}": ExpressionWrapper(condition, output_field=BooleanField())
                for name, condition in conditions.items()
            },
        )
        .select_related("actor", "agency")
        .order_by("-id")
    )
    return LogSearch(events=events, counts={key: counts[key] or 0 for key in counts})


def log_search_audit(*, viewer: User, filters: LogFilters, page: int) -> None:
    """Audit a search of the log: the filters (the youth by id, never the pseudonym) and the
    page shown."""
    with transaction.atomic():
        audit_record(
            action="records.log_searched",
            actor=viewer,
            object_type="audit.chain",
            details={**filters.scope(), "page": page},
        )


def youth_pseudonym(*, viewer: User, youth_id: int | None) -> str | None:
    """The current pseudonym of the youth a recorded scope names by id; ``None`` once purged."""
    if not rules.can_review_log(viewer):
        raise Http404
    if youth_id is None:
        return None
    return Youth.objects.filter(pk=youth_id).values_list("pseudonym", flat=True).first()


def youth_pseudonym_for_number(*, viewer: User, digits: str) -> str | None:
    """The pseudonym of the youth with this identity number, through the keyed hash. The audit
    event says that a number was searched for, never which (not even its hash)."""
    if not rules.can_review_log(viewer):
        raise Http404
    with transaction.atomic():
        pseudonym = (
            Youth.objects.filter(identity_number_hash=search_hash("youth", digits))
            .values_list("pseudonym", flat=True)
            .first()
        )
        audit_record(
            action="records.log_searched",
            actor=viewer,
            object_type="audit.chain",
            details={"by_identity_number": True, "found": pseudonym is not None},
        )
    return pseudonym


def log_reviews(*, viewer: User) -> QuerySet[LogReview]:
    if not rules.can_review_log(viewer):
        raise Http404
    return LogReview.objects.select_related("signed_off_by").order_by("-period_end", "-pk")


def log_review_get(*, viewer: User, pk: int) -> LogReview:
    """One review, its reading audited."""
    if not rules.can_review_log(viewer):
        raise Http404
    review = LogReview.objects.select_related("signed_off_by").filter(pk=pk).first()
    if review is None:
        raise Http404
    with transaction.atomic():
        audit_record(action="records.log_review_viewed", actor=viewer, obj=review)
    return review
