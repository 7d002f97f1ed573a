"""Audited reads of the guardian portal, for its *subject* (``portal.subjects``).

A subject sees a consent only where they are one of its required signers (a guardian through
one of their case links, the young person through the consent's youth signer); any other
consent answers 404, exactly like a missing one. The access log covers the cases of those
consents only. Every read is audited with the subject's kind and id in the details.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.core.exceptions import ValidationError
from django.core.paginator import Page, Paginator
from django.db import models, transaction
from django.db.models import Case as SqlCase
from django.db.models import CharField, F, Max, Prefetch, Sum, When
from django.db.models.functions import Cast
from django.http import Http404
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from samverkan.audit.models import AuditEvent
from samverkan.audit.services import Subject, audit_record, audit_record_many
from samverkan.consent.models import Consent, ConsentWithdrawal, RequiredSigner, SignerKind
from samverkan.disclosure.facts import facts_of, last_covered_day
from samverkan.disclosure.policy import State, state_at
from samverkan.lib.aggregates import ListedCount
from samverkan.organisations.models import Agency, Sector
from samverkan.portal.access_log import AccessRow, access_rows
from samverkan.portal.subjects import GUARDIAN, PortalSubject

ACCESS_LOG_PAGE_SIZE = 25

# --- Consents ------------------------------------------------------------------------------

STATE_LABELS = {
    State.PENDING: gettext_lazy("Waiting for signatures"),
    State.ACTIVE: gettext_lazy("In force"),
    State.AWAITING_COSIGNATURE: gettext_lazy("Awaiting a co-signature"),
    State.EXPIRED: gettext_lazy("Ended"),
    State.WITHDRAWN: gettext_lazy("Withdrawn"),
}


@dataclass(frozen=True)
class SignerRow:
    label: str
    is_you: bool
    signed_at: datetime | None


@dataclass
class PortalConsent:
    consent: Consent
    state: State
    mine: RequiredSigner
    signers: list[SignerRow]
    agencies: list[Agency]
    categories: list[tuple[str, str]]  # (category, sector)
    child_name: str  # empty when the subject is the young person
    withdrawn_by: str = ""
    can_sign: bool = False
    sign_note: str = ""
    can_withdraw: bool = False

    @property
    def number(self) -> int:
        return self.consent.pk

    @property
    def state_label(self) -> str:
        return str(STATE_LABELS[self.state])

    @property
    def valid_from(self) -> datetime:
        return self.consent.valid_from

    @property
    def last_day(self) -> datetime:
        """The last day covered (``valid_until`` is the start of the day after)."""
        return last_covered_day(self.consent.valid_until)

    @property
    def withdrawal(self) -> ConsentWithdrawal | None:
        return getattr(self.consent, "withdrawal", None)

    @property
    def i_signed(self) -> bool:
        return getattr(self.mine, "signature", None) is not None


def _my_signers(subject: PortalSubject) -> models.QuerySet[RequiredSigner]:
    if subject.kind == GUARDIAN:
        return RequiredSigner.objects.filter(
            kind=SignerKind.GUARDIAN, guardian_link__guardian_id=subject.id
        )
    return RequiredSigner.objects.filter(kind=SignerKind.YOUTH, consent__youth_id=subject.id)


def _consents(subject: PortalSubject) -> models.QuerySet[Consent]:
    return (
        Consent.objects.filter(pk__in=_my_signers(subject).values("consent_id"))
        .select_related("youth", "withdrawal")
        .prefetch_related(
            Prefetch("agencies", queryset=Agency.objects.order_by("name")),
            "categories",
            Prefetch(
                "signers",
                queryset=RequiredSigner.objects.select_related(
                    "signature", "guardian_link__guardian"
                ).order_by("order"),
            ),
        )
        .order_by("-created_at", "-pk")
    )


def _is_mine(subject: PortalSubject, signer: RequiredSigner) -> bool:
    if subject.kind == GUARDIAN:
        return signer.guardian_link is not None and signer.guardian_link.guardian_id == subject.id
    return signer.kind == SignerKind.YOUTH


def _labels(subject: PortalSubject, signers: list[RequiredSigner]) -> dict[int, str]:
    """How each signer is named to the subject: never by name or number, only by their part."""
    guardians = [s for s in signers if s.kind == SignerKind.GUARDIAN]
    others = [s for s in guardians if not _is_mine(subject, s)]
    labels: dict[int, str] = {}
    for signer in signers:
        if _is_mine(subject, signer):
            labels[signer.pk] = _("You")
        elif signer.kind == SignerKind.YOUTH:
            labels[signer.pk] = _("The young person")
        elif subject.kind == GUARDIAN:
            labels[signer.pk] = (
                _("The other guardian") if len(others) == 1 else _("Another guardian")
            )
        elif len(guardians) == 1:
            labels[signer.pk] = _("Your guardian")
        else:
            labels[signer.pk] = _("Guardian %(n)s") % {"n": guardians.index(signer) + 1}
    return labels


def youth_signs_with_staff(consent: Consent, signer: RequiredSigner) -> bool:
    """A young person under the consent's signing age signs with staff, who record a maturity
    assessment (``consent.services.signature_record_electronic`` refuses e-ID for them)."""
    return (
        signer.kind == SignerKind.YOUTH
        and consent.youth.age_on(timezone.localdate()) < consent.youth_signs_from_age
    )


def _view(subject: PortalSubject, consent: Consent, *, at: datetime) -> PortalConsent:
    signers = list(consent.signers.all())
    mine = next(s for s in signers if _is_mine(subject, s))
    labels = _labels(subject, signers)
    state = state_at(facts_of(consent), at)
    view = PortalConsent(
        consent=consent,
        state=state,
        mine=mine,
        signers=[
            SignerRow(
                label=labels[s.pk],
                is_you=s.pk == mine.pk,
                signed_at=s.signature.signed_at if getattr(s, "signature", None) else None,
            )
            for s in signers
        ],
        agencies=list(consent.agencies.all()),
        categories=sorted((c.label, str(Sector(c.sector).label)) for c in consent.categories.all()),
        child_name=consent.youth.name if subject.kind == GUARDIAN else "",
    )
    withdrawal = view.withdrawal
    if withdrawal is not None:
        view.withdrawn_by = labels.get(withdrawal.signer_id, "")
    open_state = (
        state in (State.PENDING, State.ACTIVE, State.AWAITING_COSIGNATURE) and withdrawal is None
    )
    view.can_withdraw = open_state
    if open_state and not view.i_signed:
        guardian = mine.guardian_link.guardian if mine.guardian_link is not None else None
        if youth_signs_with_staff(consent, mine):
            view.sign_note = _(
                "You sign this consent together with the staff who asked for it: they talk "
                "with you first."
            )
        elif guardian is not None and not guardian.identity_number_hash:
            view.sign_note = _(
                "Your identity number is not recorded on the case, so you cannot sign with "
                "e-ID. Ask the staff who contacted you to record it, or sign the paper form."
            )
        else:
            view.can_sign = True
    return view


def consent_list(*, subject: PortalSubject) -> list[PortalConsent]:
    now = timezone.now()
    views = [_view(subject, c, at=now) for c in _consents(subject)]
    with transaction.atomic():
        audit_record_many(
            action="portal.consents_viewed",
            subjects=[Subject("consent.consent", str(v.number), v.consent.case_id) for v in views]
            or [Subject(subject.object_type, str(subject.id))],
            details=subject.details(),
        )
    return views


def consent_view(subject: PortalSubject, pk: int) -> PortalConsent:
    """One of the subject's consents, not audited: for a service that audits its own write.
    Any other number answers 404."""
    consent = _consents(subject).filter(pk=pk).first()
    if consent is None:
        raise Http404
    return _view(subject, consent, at=timezone.now())


def consent_get(*, subject: PortalSubject, pk: int) -> PortalConsent:
    """One of the subject's consents; any other number answers 404."""
    view = consent_view(subject, pk)
    with transaction.atomic():
        audit_record(
            action="portal.consent_viewed",
            obj=view.consent,
            case_id=view.consent.case_id,
            details=subject.details(),
        )
    return view


def sign_text(view: PortalConsent, *, subject: PortalSubject) -> str:
    """The text shown on the person's e-ID device and signed. It names no one (it passes
    through the e-ID provider): the consent's number, the agencies, the categories, the period."""
    return _(
        "I consent (consent no. %(number)s) to %(agencies)s sharing information with each other "
        "about %(whom)s in these categories: %(categories)s. Purpose: %(purpose)s. Valid from "
        "%(start)s to and including %(end)s. I can withdraw my consent at any time."
    ) % {
        "number": view.number,
        "agencies": ", ".join(a.name for a in view.agencies),
        "whom": _("my child") if subject.kind == GUARDIAN else _("me"),
        "categories": ", ".join(f"{label} ({sector})" for label, sector in view.categories),
        "purpose": view.consent.get_purpose_display(),
        "start": timezone.localtime(view.valid_from).date().isoformat(),
        "end": timezone.localtime(view.last_day).date().isoformat(),
    }


def sign_prepare(*, subject: PortalSubject, pk: int) -> tuple[PortalConsent, str]:
    """The consent and the text to sign, when the subject may sign it now."""
    view = consent_view(subject, pk)
    if not view.can_sign:
        raise ValidationError(view.sign_note or _("This consent cannot be signed now."))
    text = sign_text(view, subject=subject)
    with transaction.atomic():
        audit_record(
            action="portal.signing_started",
            obj=view.consent,
            case_id=view.consent.case_id,
            details=subject.details(),
        )
    return view, text


def withdraw_prepare(*, subject: PortalSubject, pk: int) -> PortalConsent:
    view = consent_get(subject=subject, pk=pk)
    if not view.can_withdraw:
        raise ValidationError(_("This consent has already ended or been withdrawn."))
    return view


# --- Access log ----------------------------------------------------------------------------


@dataclass
class AccessLog:
    page: Page[Any]
    rows: list[AccessRow]
    case_count: int


def _case_ids(subject: PortalSubject) -> list[int]:
    return sorted(set(_my_signers(subject).values_list("consent__case_id", flat=True)))


def access_log(*, subject: PortalSubject, page_number: str | None) -> AccessLog:
    """Who at which agency, in which role, did what with the child's case, newest first.

    The events of one request are one row ("Read journal entries", 12), counting what they
    cover: a page that shows twelve entries writes one event per legal basis, naming them.
    Staff are named by agency and role, never by name (docs/consent.md says why). A fixed
    number of queries per page, whatever its rows.
    """
    case_ids = _case_ids(subject)
    key = SqlCase(
        When(request_id="", then=Cast("id", output_field=CharField())),
        default=F("request_id"),
        output_field=CharField(),
    )
    grouped = (
        AuditEvent.objects.filter(case_id__in=case_ids, actor_id__isnull=False)
        .annotate(key=key)
        .values("key", "actor_id", "agency_id", "agency__name", "action", "case_id", "outcome")
        .annotate(at=Max("occurred_at"), n=Sum(ListedCount("details", "entries")), last=Max("id"))
        .order_by("-last")
    )
    page = Paginator(grouped, ACCESS_LOG_PAGE_SIZE).get_page(page_number)
    events: list[dict[str, Any]] = [dict(e) for e in page.object_list]
    rows = access_rows(events)
    with transaction.atomic():
        audit_record_many(
            action="portal.access_log_viewed",
            subjects=[Subject("cases.case", str(pk), pk) for pk in case_ids]
            or [Subject(subject.object_type, str(subject.id))],
            details=subject.details(page=page.number),
        )
    return AccessLog(page=page, rows=rows, case_count=len(case_ids))
