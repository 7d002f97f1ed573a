"""Reads and writes of the guardian portal, for its *subject*: a guardian or a young person who
logged in with a one-time code by e-mail or with e-ID.

A subject sees a consent only where they are one of its required signers (a guardian through
one of their case links, the young person through the consent's youth signer); any other
consent answers 404, exactly like a missing one. The access log covers the cases of those
consents only. Every read and every write is audited with the subject's kind and id in the
details (the event's actor is empty: a portal subject is no staff account).

Nothing here tells a visitor whether an e-mail address or a person is known before they have
proved who they are, and not even then unless they are a signer: a code is sent only to an
address recorded for a guardian who must sign a consent, and the answer to the request is the
same for every address.
"""

from __future__ import annotations

import hmac
import logging
import re
import secrets
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.mail import EmailMessage
from django.core.paginator import Page, Paginator
from django.db import models, transaction
from django.db.models import Case as SqlCase
from django.db.models import CharField, Count, F, Max, Prefetch, When
from django.db.models.functions import Cast
from django.http import Http404
from django.template.loader import render_to_string
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext

from samverkan.audit.models import AuditEvent, Outcome
from samverkan.audit.services import Subject, audit_record, audit_record_many
from samverkan.cases.models import Case, CaseTeamMember, Guardian, GuardianLink, Youth
from samverkan.consent.eid import EidCompletion
from samverkan.consent.models import (
    Consent,
    ConsentWithdrawal,
    RequiredSigner,
    SignerKind,
    WithdrawalMethod,
)
from samverkan.consent.portal_models import PortalLoginCode
from samverkan.consent.services import consent_withdraw, signature_record_electronic
from samverkan.disclosure.facts import facts_of, last_covered_day
from samverkan.disclosure.policy import State, state_at
from samverkan.lib import limits
from samverkan.lib.fields import search_hash
from samverkan.organisations.models import (
    Agency,
    GroupMembership,
    GroupRole,
    Membership,
    Role,
    Sector,
)

logger = logging.getLogger(__name__)

GUARDIAN = "guardian"
YOUTH = "youth"

CODE_LIFETIME = timedelta(minutes=10)
CODE_MAX_TRIES = 5
# Per typed address (counted in the database, so every process agrees) and per client address.
CODE_WINDOW = timedelta(minutes=15)
CODES_PER_ADDRESS = 3
CODE_REQUESTS_PER_IP = 10
CODE_TRIES_PER_IP = 30
EID_STARTS_PER_IP = 20
IDLE_TIMEOUT_SECONDS = 15 * 60
ACCESS_LOG_PAGE_SIZE = 25


@dataclass(frozen=True)
class PortalSubject:
    kind: str  # GUARDIAN or YOUTH
    id: int

    def details(self, **extra: Any) -> dict[str, Any]:
        return {"portal_subject": self.kind, "portal_subject_id": self.id, **extra}

    @property
    def object_type(self) -> str:
        return "cases.guardian" if self.kind == GUARDIAN else "cases.youth"


class LoginRefusedError(Exception):
    """A login step refused, with the reason (for the audit log and tests) and the message."""

    def __init__(self, reason: str, message: str, *, tries_left: int = 0) -> None:
        super().__init__(reason)
        self.reason = reason
        self.message = message
        self.tries_left = tries_left


# --- Rate limits ---------------------------------------------------------------------------


def _throttled(bucket: str, client: str, *, limit: int, window: timedelta) -> bool:
    """Count one more hit for ``client`` in ``bucket``; True once the limit is passed.

    The counter is an atomic increment in the security-state store, which never evicts it
    (``lib/limits.py``); its key is a keyed hash, so the store holds no client addresses.
    """
    rate = limits.Rate(limit, int(window.total_seconds()))
    return limits.hit(f"portal:{bucket}", client or "-", rate) > limit


def _too_many() -> str:
    return _("Too many attempts. Wait a quarter of an hour and try again.")


def eid_start_allowed(*, ip: str) -> bool:
    return not _throttled("eid_start", ip, limit=EID_STARTS_PER_IP, window=CODE_WINDOW)


# --- Login by one-time code ----------------------------------------------------------------


def _code_hash(row_uid: uuid.UUID, code: str) -> str:
    return search_hash("portal_code", f"{row_uid}:{code}")


def _signing_links(email_hash: str) -> models.QuerySet[GuardianLink]:
    """The links of an address whose guardian must sign at least one consent."""
    return GuardianLink.objects.filter(
        email_hash=email_hash,
        pk__in=RequiredSigner.objects.filter(guardian_link__isnull=False).values(
            "guardian_link_id"
        ),
    )


def login_code_request(*, email: str, ip: str) -> str:
    """Make a code for the address and send it if the address belongs to a signer.

    Returns the challenge (the code row's uid) for the session. The row is written, and the
    limits counted, for every address alike.
    """
    address = email.strip()
    email_hash = GuardianLink.hash_email(address)
    now = timezone.now()
    recent = PortalLoginCode.objects.filter(
        email_hash=email_hash, created_at__gte=now - CODE_WINDOW
    ).count()
    if (
        _throttled("code_request", ip, limit=CODE_REQUESTS_PER_IP, window=CODE_WINDOW)
        or recent >= CODES_PER_ADDRESS
    ):
        with transaction.atomic():
            audit_record(
                action="portal.code_refused",
                object_type="consent.portallogincode",
                outcome=Outcome.DENIED,
                details={"reason": "rate_limited"},
            )
        raise LoginRefusedError("rate_limited", _too_many())
    known = _signing_links(email_hash).exists()
    code = f"{secrets.randbelow(1_000_000):06d}"
    with transaction.atomic():
        row = PortalLoginCode(email_hash=email_hash, created_at=now, expires_at=now + CODE_LIFETIME)
        row.code_hash = _code_hash(row.uid, code)
        row.save()
        audit_record(action="portal.code_requested", obj=row, details={"sent": known})
        if known:
            language = translation.get_language() or settings.LANGUAGE_CODE
            transaction.on_commit(lambda: _send_code(address, code, language))
    return str(row.uid)


def _send_code(address: str, code: str, language: str) -> None:
    """After commit. A failure is logged without the address or the error's text; the visitor
    sees the same answer and can ask again."""
    context = {"code": code, "minutes": int(CODE_LIFETIME.total_seconds() // 60)}
    try:
        with translation.override(language):
            subject = _("Your login code for Samverkan")
            body = render_to_string("portal/email/code.txt", context)
        EmailMessage(
            subject=f"{settings.ACCOUNT_EMAIL_SUBJECT_PREFIX}{subject}", body=body, to=[address]
        ).send()
    except Exception as exc:
        logger.error("portal login code not sent: error=%s", type(exc).__name__)


def login_code_verify(*, challenge: str, code: str, ip: str) -> PortalSubject:
    """Check a typed code against the session's challenge: at most ``CODE_MAX_TRIES`` tries
    per code, within ``CODE_LIFETIME``, once. Every try is counted before it is answered."""
    code = re.sub(r"\s", "", code)
    if _throttled("code_try", ip, limit=CODE_TRIES_PER_IP, window=CODE_WINDOW):
        _audit_login_refused("email", "rate_limited")
        raise LoginRefusedError("rate_limited", _too_many())
    try:
        challenge_uid = uuid.UUID(challenge)
    except ValueError:
        challenge_uid = None
    subject: PortalSubject | None = None
    tries_left = 0
    with transaction.atomic():
        row = (
            PortalLoginCode.objects.select_for_update().filter(uid=challenge_uid).first()
            if challenge_uid is not None
            else None
        )
        now = timezone.now()
        if row is None or row.used_at is not None:
            reason = "missing"
        elif now >= row.expires_at:
            reason = "expired"
        elif row.attempts >= CODE_MAX_TRIES:
            reason = "locked"
        else:
            row.attempts += 1
            matches = re.fullmatch(r"\d{6}", code) is not None and hmac.compare_digest(
                row.code_hash, _code_hash(row.uid, code)
            )
            # An address of no signer got a code no one was sent: a guess that hits it is
            # still a wrong code.
            guardians = (
                set(_signing_links(row.email_hash).values_list("guardian_id", flat=True))
                if matches
                else set()
            )
            if len(guardians) == 1:
                row.used_at = now
                subject = PortalSubject(GUARDIAN, guardians.pop())
                reason = "ok"
            elif guardians:
                row.used_at = now
                reason = "shared_address"
            else:
                reason = "locked" if row.attempts >= CODE_MAX_TRIES else "wrong"
                tries_left = CODE_MAX_TRIES - row.attempts
            row.save(update_fields=["attempts", "used_at"])
        if subject is not None:
            _audit_login(subject, "email")
        else:
            _audit_login_refused("email", reason)
    if subject is None:
        raise LoginRefusedError(reason, _code_message(reason, tries_left), tries_left=tries_left)
    return subject


def _code_message(reason: str, tries_left: int) -> str:
    if reason == "wrong":
        return ngettext(
            "The code is not right. You have %(n)s more try.",
            "The code is not right. You have %(n)s more tries.",
            tries_left,
        ) % {"n": tries_left}
    if reason == "expired":
        return _("The code has expired. Ask for a new one.")
    if reason == "locked":
        return _("Too many wrong codes. Ask for a new code.")
    if reason == "shared_address":
        return _(
            "This e-mail address is recorded for more than one person, so it cannot tell us who "
            "you are. Log in with e-ID instead."
        )
    return _("Ask for a code first.")


# --- Login by e-ID -------------------------------------------------------------------------


def subject_for_identity(*, identity_number: str) -> PortalSubject:
    """The signer behind a number an e-ID provider verified: a guardian who must sign a consent,
    else a young person who must. Someone who is neither gets the same answer whether or not
    the service holds anything about them."""
    guardian = Guardian.objects.filter(
        identity_number_hash=search_hash("guardian", identity_number)
    ).first()
    subject: PortalSubject | None = None
    if (
        guardian is not None
        and RequiredSigner.objects.filter(guardian_link__guardian=guardian).exists()
    ):
        subject = PortalSubject(GUARDIAN, guardian.pk)
    else:
        youth = Youth.objects.filter(identity_number_hash=search_hash("youth", identity_number))
        youth_id = (
            RequiredSigner.objects.filter(kind=SignerKind.YOUTH, consent__youth__in=youth)
            .values_list("consent__youth_id", flat=True)
            .first()
        )
        if youth_id is not None:
            subject = PortalSubject(YOUTH, youth_id)
    with transaction.atomic():
        if subject is None:
            _audit_login_refused("eid", "no_consents")
        else:
            _audit_login(subject, "eid")
    if subject is None:
        raise LoginRefusedError(
            "no_consents", _("There is no consent here that you have been asked to sign.")
        )
    return subject


def _audit_login(subject: PortalSubject, method: str) -> None:
    audit_record(
        action="portal.login",
        object_type=subject.object_type,
        object_id=subject.id,
        details=subject.details(method=method),
    )


def _audit_login_refused(method: str, reason: str) -> None:
    with transaction.atomic():
        audit_record(
            action="portal.login_refused",
            outcome=Outcome.DENIED,
            object_type="consent.portallogincode" if method == "email" else "consent.eidorder",
            details={"method": method, "reason": reason},
        )


def logout_record(subject: PortalSubject, *, reason: str = "") -> None:
    with transaction.atomic():
        audit_record(
            action="portal.session_expired" if reason else "portal.logout",
            object_type=subject.object_type,
            object_id=subject.id,
            details=subject.details(**({"reason": reason} if reason else {})),
        )


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
    assessment (``services.signature_record_electronic`` refuses e-ID for them)."""
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


def _load(subject: PortalSubject, pk: int) -> PortalConsent:
    consent = _consents(subject).filter(pk=pk).first()
    if consent is None:
        raise Http404
    return _view(subject, consent, at=timezone.now())


def consent_get(*, subject: PortalSubject, pk: int) -> PortalConsent:
    """One of the subject's consents; any other number answers 404."""
    view = _load(subject, pk)
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
    view = _load(subject, pk)
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


def consent_sign(
    *,
    subject: PortalSubject,
    pk: int,
    signer_pk: int,
    expected_text_sha256: str,
    completion: EidCompletion,
) -> PortalConsent:
    """Record the signature an e-ID order completed: of the text the portal asked to have
    signed, by the subject's own signer, with the identity the provider verified."""
    view = _load(subject, pk)
    reason = ""
    if view.mine.pk != signer_pk:
        reason = "other_signer"
    elif not hmac.compare_digest(completion.signed_text_sha256, expected_text_sha256):
        reason = "text_mismatch"
    if not reason:
        try:
            with transaction.atomic():
                signature_record_electronic(
                    signer=view.mine,
                    provider=completion.provider,
                    reference=completion.reference,
                    identity_number=completion.identity_number,
                )
                audit_record(
                    action="portal.consent_signed",
                    obj=view.consent,
                    case_id=view.consent.case_id,
                    details=subject.details(),
                )
        except ValidationError:
            # The service says why (another person's e-ID, already signed, withdrawn).
            _audit_sign_refused(subject, view, "refused")
            raise
        return _load(subject, pk)
    _audit_sign_refused(subject, view, reason)
    raise ValidationError(_("The signature could not be checked. Please start again."))


def _audit_sign_refused(subject: PortalSubject, view: PortalConsent, reason: str) -> None:
    with transaction.atomic():
        audit_record(
            action="portal.signing_refused",
            obj=view.consent,
            case_id=view.consent.case_id,
            outcome=Outcome.DENIED,
            details=subject.details(reason=reason),
        )


def withdraw_prepare(*, subject: PortalSubject, pk: int) -> PortalConsent:
    view = consent_get(subject=subject, pk=pk)
    if not view.can_withdraw:
        raise ValidationError(_("This consent has already ended or been withdrawn."))
    return view


def consent_withdraw_by_subject(*, subject: PortalSubject, pk: int) -> ConsentWithdrawal:
    """The subject's own withdrawal, effective when it commits."""
    view = _load(subject, pk)
    if not view.can_withdraw:
        raise ValidationError(_("This consent has already ended or been withdrawn."))
    with transaction.atomic():
        withdrawal = consent_withdraw(
            consent=view.consent, signer=view.mine, method=WithdrawalMethod.PORTAL, actor=None
        )
        audit_record(
            action="portal.consent_withdrawn",
            obj=view.consent,
            case_id=view.consent.case_id,
            details=subject.details(),
        )
    return withdrawal


# --- Access log ----------------------------------------------------------------------------

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


@dataclass
class AccessLog:
    page: Page[Any]
    rows: list[AccessRow]
    case_count: int


def _case_ids(subject: PortalSubject) -> list[int]:
    return sorted(set(_my_signers(subject).values_list("consent__case_id", flat=True)))


def _role_label(role: str) -> str:
    return str(Role(role).label) if role in Role.values else role


def access_log(*, subject: PortalSubject, page_number: str | None) -> AccessLog:
    """Who at which agency, in which role, did what with the child's case, newest first.

    The events of one request are one row ("Read journal entries", 12): a page that shows
    twelve entries writes twelve events. Staff are named by agency and role, never by name
    (docs/consent.md says why). A fixed number of queries per page, whatever its rows.
    """
    case_ids = _case_ids(subject)
    key = SqlCase(
        When(request_id="", then=Cast("seq", output_field=CharField())),
        default=F("request_id"),
        output_field=CharField(),
    )
    grouped = (
        AuditEvent.objects.filter(case_id__in=case_ids, actor_id__isnull=False)
        .annotate(key=key)
        .values("key", "actor_id", "agency_id", "agency__name", "action", "case_id", "outcome")
        .annotate(at=Max("occurred_at"), n=Count("seq"), last=Max("seq"))
        .order_by("-last")
    )
    page = Paginator(grouped, ACCESS_LOG_PAGE_SIZE).get_page(page_number)
    events: list[dict[str, Any]] = [dict(e) for e in page.object_list]
    rows = _resolve(events)
    with transaction.atomic():
        audit_record_many(
            action="portal.access_log_viewed",
            subjects=[Subject("cases.case", str(pk), pk) for pk in case_ids]
            or [Subject(subject.object_type, str(subject.id))],
            details=subject.details(page=page.number),
        )
    return AccessLog(page=page, rows=rows, case_count=len(case_ids))


def _resolve(events: list[dict[str, Any]]) -> list[AccessRow]:
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
