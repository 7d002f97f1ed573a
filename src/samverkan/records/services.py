"""Every write of records: the retention purge (what is due is planned in
``samverkan.records.retention``), legal holds, and the recorded log reviews with their monthly
reminder (the log page's reads are in ``samverkan.records.selectors``).

Each case is purged in its own transaction, together with its audit event, so a failure leaves
the cases before it purged, the failing one whole, and the run goes on with the next.
"""

from __future__ import annotations

import dataclasses
import logging
import re
from collections import Counter, defaultdict
from datetime import date, datetime, timedelta

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.mail import EmailMessage, get_connection
from django.db import transaction
from django.db.models import Q, QuerySet
from django.http import Http404
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext
from django.utils.translation import gettext as _

from samverkan.accounts.models import User
from samverkan.audit.services import Subject, audit_record, audit_record_many
from samverkan.cases.activity import dormant_cases
from samverkan.cases.models import Case, Status
from samverkan.lib.personnummer import looks_like_identity_number
from samverkan.notifications.models import Notification, NotificationKind
from samverkan.notifications.services import notify
from samverkan.organisations.models import GroupMembership, GroupRole, Role
from samverkan.records import rules
from samverkan.records.models import DormancyNotice, LegalHold, LogReview, PartialPurge
from samverkan.records.retention import (
    RetentionReport,
    RetentionRules,
    case_querysets,
    case_scope,
    due_types,
    expired_querysets,
    retention_plan,
    type_cutoffs,
    type_querysets,
)
from samverkan.records.review import LogFilters, previous_month
from samverkan.records.selectors import log_search
from samverkan.stats.facts import facts_refresh

logger = logging.getLogger("samverkan.records")


# --- Retention ----------------------------------------------------------------------------

PURGED_MARKER = "[gallrat ärende]"


def _reviews_redact(pseudonyms: list[str]) -> int:
    """Replace the purged youths' pseudonyms in recorded reviews' findings with a neutral
    marker (any case). The reviews themselves stay: they are the record that the log was
    reviewed. Returns how many reviews were changed."""
    if not pseudonyms:
        return 0
    pattern = re.compile("|".join(re.escape(p) for p in pseudonyms), re.IGNORECASE)
    naming = Q(pk__in=[])
    for pseudonym in pseudonyms:
        naming |= Q(findings__icontains=pseudonym)
    changed = 0
    for review in LogReview.objects.select_for_update().filter(naming):
        findings = pattern.sub(PURGED_MARKER, review.findings)
        if findings != review.findings:
            review.findings = findings
            review.save(update_fields=["findings"])
            changed += 1
    return changed


def _flat(counts: dict[str, int]) -> dict[str, int]:
    """Counts as audit details: ``cases.entry`` becomes ``cases_entry``."""
    return {label.replace(".", "_"): n for label, n in sorted(counts.items())}


def case_purge(*, case_id: int, cutoff: datetime) -> dict[str, int] | None:
    """Purge one closed case, in one transaction with its audit event.

    Returns the rows removed per record type, or ``None`` when the case is no longer due (it
    went, was put on hold, or was reopened since the plan was made).
    """
    with transaction.atomic():
        case = (
            Case.objects.select_for_update()
            .filter(pk=case_id, status=Status.CLOSED, closed_at__lte=cutoff)
            .first()
        )
        if case is None or LegalHold.objects.filter(case_id=case_id).exists():
            return None
        # The statistics keep the case: its facts are brought up to date before the data goes.
        facts_refresh(case_ids=[case_id])
        scope = case_scope([case_id])
        removed: Counter[str] = Counter()
        for queryset in case_querysets(scope):
            _total, per_model = queryset.delete()
            removed.update({label.lower(): n for label, n in per_model.items() if n})
        # Recorded reviews stay, without the pseudonym of the youth who went.
        redacted = _reviews_redact(scope.pseudonyms)
        audit_record(
            action="records.case_purged",
            object_type="cases.case",
            object_id=case_id,
            case_id=case_id,
            legal_basis="retention",
            details={
                **_flat(dict(removed)),
                "youth_removed": bool(scope.youth_ids),
                "guardians_removed": len(scope.guardian_ids),
                "log_reviews_redacted": redacted,
            },
        )
    return dict(removed)


def case_records_purge(
    *, case_id: int, now: datetime, case_cutoff: datetime
) -> dict[str, dict[str, int]] | None:
    """Remove the record types of one closed case that are past their own periods, in one
    transaction with its audit event. Returns the rows removed per type and ``app.model``, or
    ``None`` when nothing went (the case is on hold, reopened, purged, or holds no such rows).

    What is due is worked out again here, under the case's lock, not taken from the plan.
    """
    rules = RetentionRules.from_settings()
    cutoffs = type_cutoffs(rules, now)
    with transaction.atomic():
        case = (
            Case.objects.select_for_update()
            .filter(pk=case_id, status=Status.CLOSED, closed_at__gt=case_cutoff)
            .first()
        )
        if case is None or case.closed_at is None:
            return None
        if LegalHold.objects.filter(case_id=case_id).exists():
            return None
        due = due_types(case.closed_at, cutoffs)
        if not due:
            return None
        if not PartialPurge.objects.filter(case_id=case_id).exists():
            # The figures keep the case as it was: refreshed once more, then frozen.
            facts_refresh(case_ids=[case_id])
            PartialPurge.objects.create(case_id=case_id, first_at=now)
        removed: dict[str, dict[str, int]] = {}
        for kind, querysets in type_querysets([case_id], due).items():
            went: Counter[str] = Counter()
            for queryset in querysets:
                _total, per_model = queryset.delete()
                went.update({label.lower(): n for label, n in per_model.items() if n})
            if went:
                removed[kind.value] = dict(went)
        if not removed:
            # Nothing of a due type was left: no event, and the mark stays (harmless).
            return None
        audit_record(
            action="records.case_records_purged",
            object_type="cases.case",
            object_id=case_id,
            case_id=case_id,
            legal_basis="retention",
            details={
                "types": sorted(removed),
                **{
                    f"{kind}__{label.replace('.', '_')}": n
                    for kind, counts in sorted(removed.items())
                    for label, n in sorted(counts.items())
                },
            },
        )
    return removed


def expired_purge(*, now: datetime) -> dict[str, int]:
    """Remove the short-lived records past their period, audited as one event."""
    rules = RetentionRules.from_settings()
    removed: Counter[str] = Counter()
    with transaction.atomic():
        for queryset in expired_querysets(rules, now):
            _total, per_model = queryset.delete()
            removed.update({label.lower(): n for label, n in per_model.items() if n})
        if removed:
            audit_record(
                action="records.expired_purged",
                object_type="records.retention",
                legal_basis="retention",
                details=_flat(dict(removed)),
            )
    return dict(removed)


def retention_run(*, dry_run: bool, now: datetime | None = None) -> RetentionReport:
    """Plan, and unless ``dry_run`` purge: every due case on its own, then the expired rows.

    A dry run changes nothing (not even the audit log). A case that fails to purge is left whole
    and named in ``failed_case_ids``; the others still go.
    """
    plan = retention_plan(now=now)
    report = RetentionReport(plan=plan, dry_run=dry_run)
    if dry_run:
        typed: Counter[str] = Counter()
        for counts in plan.type_records.values():
            typed.update(counts)
        report.removed = dict(Counter(plan.case_records) + Counter(plan.expired_records) + typed)
        report.removed_by_type = {kind: dict(c) for kind, c in plan.type_records.items()}
        return report
    removed: Counter[str] = Counter()
    for case_id in plan.due_case_ids:
        try:
            went = case_purge(case_id=case_id, cutoff=plan.case_cutoff)
        except Exception as exc:
            # One case's failure must not stop the others. Its type only: a database error's
            # message can quote the row's values.
            logger.error("retention: case %s not purged (%s)", case_id, type(exc).__name__)
            report.failed_case_ids.append(case_id)
            continue
        if went is not None:
            report.purged_case_ids.append(case_id)
            removed.update(went)
    by_type: dict[str, Counter[str]] = {}
    for case_id in plan.partial_case_ids:
        try:
            parts = case_records_purge(case_id=case_id, now=plan.now, case_cutoff=plan.case_cutoff)
        except Exception as exc:
            logger.error("retention: case %s records not purged (%s)", case_id, type(exc).__name__)
            report.failed_case_ids.append(case_id)
            continue
        if parts:
            report.partially_purged_case_ids.append(case_id)
            for kind, counts in parts.items():
                by_type.setdefault(kind, Counter()).update(counts)
                removed.update(counts)
    report.removed_by_type = {kind: dict(c) for kind, c in by_type.items()}
    removed.update(expired_purge(now=plan.now))
    report.removed = dict(removed)
    return report


def legal_hold_place(*, actor: User, case: Case, reason: str) -> LegalHold:
    """Stop retention from purging ``case`` until the hold is released. Audited."""
    if not rules.can_manage_legal_holds(actor):
        raise ValidationError(_("Only auditors place legal holds."))
    reason = reason.strip()
    if not reason:
        raise ValidationError({"reason": [_("Give the reason for the hold.")]})
    if looks_like_identity_number(reason):
        raise ValidationError({"reason": [_("The reason must not contain an identity number.")]})
    with transaction.atomic():
        if Case.objects.select_for_update().filter(pk=case.pk).first() is None:
            # Purged (or deleted) since it was looked up.
            raise ValidationError(_("The case no longer exists."))
        if LegalHold.objects.filter(case=case).exists():
            raise ValidationError(_("The case is already on legal hold."))
        hold = LegalHold.objects.create(case=case, reason=reason, placed_by=actor)
        audit_record(action="records.legal_hold_placed", actor=actor, obj=hold, case_id=case.pk)
    return hold


def legal_hold_release(*, actor: User, hold: LegalHold) -> None:
    """Lift a hold: the case is purged by the next run if it is past its period. Audited."""
    if not rules.can_manage_legal_holds(actor):
        raise ValidationError(_("Only auditors release legal holds."))
    with transaction.atomic():
        deleted, _count_by_model = LegalHold.objects.filter(pk=hold.pk).delete()
        if not deleted:
            raise ValidationError(_("The hold has already been released."))
        audit_record(
            action="records.legal_hold_released",
            actor=actor,
            object_type="records.legalhold",
            object_id=hold.pk,
            case_id=hold.case_id,
            details={"held_days": (timezone.now() - hold.placed_at).days},
        )


# --- Log review (loggkontroll) ---------------------------------------------------------------

# Scope keys that do not narrow a review: one with any other filter does not cover the month.
_WHOLE_SCOPE_KEYS = frozenset({"date_from", "date_to", "flagged"})


def log_review_record(*, actor: User, filters: LogFilters, findings: str) -> LogReview:
    """Record a signed-off review of the period and filters. The number of flagged events is
    counted here, not taken from the form, so the record says what the log held."""
    if not rules.can_review_log(actor):
        raise Http404
    findings = findings.strip()
    if not findings:
        raise ValidationError({"findings": [_("Write the findings of the review.")]})
    if looks_like_identity_number(findings):
        raise ValidationError({"findings": [_("Leave identity numbers out of the findings.")]})
    if filters.date_from > filters.date_to:
        raise ValidationError({"date_to": [_("The period must end on or after its start.")]})
    if filters.date_to > timezone.localdate():
        raise ValidationError({"date_to": [_("A review cannot cover days still to come.")]})
    whole = dataclasses.replace(filters, flagged_only=False)
    with transaction.atomic():
        counts = log_search(viewer=actor, filters=whole).counts
        review = LogReview.objects.create(
            period_start=filters.date_from,
            period_end=filters.date_to,
            scope=whole.scope(),
            flagged_events=counts["flagged"],
            findings=findings,
            signed_off_by=actor,
            signed_off_at=timezone.now(),
        )
        audit_record(
            action="records.log_review_recorded",
            actor=actor,
            obj=review,
            details={
                "period_start": review.period_start.isoformat(),
                "period_end": review.period_end.isoformat(),
                "flagged_events": review.flagged_events,
            },
        )
    return review


def auditors() -> QuerySet[User]:
    return User.objects.filter(
        is_active=True, memberships__role=Role.AUDITOR, memberships__agency__is_active=True
    ).distinct()


def _covered(start: date, end: date) -> bool:
    """Whether recorded reviews together cover every day from start to end (weekly reviews
    count as well as one monthly one). A review narrowed by a filter (one user, agency, case,
    action or outcome) covers only that slice of the log, so it does not count."""
    periods = (
        LogReview.objects.filter(period_start__lte=end, period_end__gte=start)
        .order_by("period_start")
        .values_list("period_start", "period_end", "scope")
    )
    cursor = start
    for first, last, scope in periods:
        if set(scope or {}) - _WHOLE_SCOPE_KEYS:
            continue
        if first > cursor:
            break
        cursor = max(cursor, last + timedelta(days=1))
    return cursor > end


def log_review_remind(*, today: date | None = None) -> int:
    """Tell every auditor when no recorded review covers the whole of last month. Idempotent:
    an auditor already told about that month is not told again. Returns how many were told."""
    start, end = previous_month(today or timezone.localdate())
    if _covered(start, end):
        return 0
    told = set(
        Notification.objects.filter(
            kind=NotificationKind.LOG_REVIEW_DUE, params__start=start.isoformat()
        ).values_list("recipient_id", flat=True)
    )
    recipients = [user for user in auditors() if user.pk not in told]
    if not recipients:
        return 0
    with transaction.atomic():
        sent = notify(
            recipients=recipients,
            kind=NotificationKind.LOG_REVIEW_DUE,
            params={"start": start, "end": end},
            link=reverse("records:review"),
        )
    return len(sent)


# --- Dormant cases ------------------------------------------------------------------------
#
# Tell coordinators, once, about open cases that have gone quiet (issue 19, gap 5).
#
# An open case with no activity (``cases.activity``) for ``CASE_DORMANT_DAYS`` is shown on its
# group's case index at once; this daily job also e-mails the group's coordinators, once per case
# and quiet spell (``DormancyNotice``): new activity starts a new spell, which is told about when
# it too runs out. The e-mail names the cases by pseudonym only, like the notifications, and
# links to the case index.
#
# The queries do not grow with the number of cases: one for the quiet cases, one for the notices
# already sent, one for the coordinators, one insert, and the audit event.


def dormancy_notify(*, now: datetime | None = None) -> int:
    """E-mail each group's coordinators about its cases newly found quiet; returns how many
    cases were told about. Idempotent: a spell already told about is not told again."""
    now = now or timezone.now()
    quiet = list(
        dormant_cases(now)  # type: ignore[misc]  # ``last_activity`` is an annotation
        .order_by("group_id", "pk")
        .values("pk", "group_id", "group__name", "youth__pseudonym", "last_activity")
    )
    if not quiet:
        return 0
    told = set(
        DormancyNotice.objects.filter(case_id__in=[row["pk"] for row in quiet]).values_list(
            "case_id", "last_activity_at"
        )
    )
    new = [row for row in quiet if (row["pk"], row["last_activity"]) not in told]
    if not new:
        return 0
    by_group: dict[int, list[dict[str, object]]] = defaultdict(list)
    for row in new:
        by_group[row["group_id"]].append(row)
    coordinators: dict[int, set[str]] = defaultdict(set)
    for group_id, email in GroupMembership.objects.filter(
        group_id__in=list(by_group), role=GroupRole.COORDINATOR, user__is_active=True
    ).values_list("group_id", "user__email"):
        if email:
            coordinators[group_id].add(email)
    # One e-mail per coordinator: they need not see each other's addresses.
    messages = [
        _email(address, rows, group_id)
        for group_id, rows in by_group.items()
        for address in sorted(coordinators[group_id])
    ]
    with transaction.atomic():
        DormancyNotice.objects.bulk_create(
            [
                DormancyNotice(case_id=row["pk"], last_activity_at=row["last_activity"])
                for row in new
            ],
            ignore_conflicts=True,
        )
        audit_record_many(
            action="records.dormancy_notified",
            subjects=[Subject("cases.case", str(row["pk"]), row["pk"]) for row in new],
            details={"days": settings.CASE_DORMANT_DAYS, "emails": len(messages)},
        )
        # Sent inside the transaction: if the mail server refuses, the notices roll back and
        # tomorrow's run tries again, rather than the coordinator never being told.
        if messages:
            with get_connection() as connection:
                connection.send_messages(messages)
    logger.info("dormant cases told to coordinators: %s", len(new))
    return len(new)


def _email(to: str, rows: list[dict[str, object]], group_id: int) -> EmailMessage:
    url = f"{settings.BASE_URL.rstrip('/')}{reverse('cases:group_index', args=[group_id])}"
    bodies = []
    # Staff accounts have no language of their own: Swedish, then English, as other e-mails.
    for language in ("sv", "en"):
        with translation.override(language):
            bodies.append(
                render_to_string(
                    "records/email/dormant_cases.txt",
                    {
                        "group": rows[0]["group__name"],
                        "days": settings.CASE_DORMANT_DAYS,
                        "rows": rows,
                        "url": url,
                    },
                ).strip()
            )
    with translation.override("sv"):
        subject = gettext("Cases with no activity")
    return EmailMessage(
        subject=f"{settings.ACCOUNT_EMAIL_SUBJECT_PREFIX}{subject}",
        body="\n\n----\n\n".join(bodies) + "\n",
        to=[to],
    )
