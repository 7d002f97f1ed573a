"""Writes of the guardian portal: login by one-time code or e-ID, logout, and a subject's own
signature and withdrawal (through ``consent.services``' public functions).

Nothing here tells a visitor whether an e-mail address or a person is known before they have
proved who they are, and not even then unless they are a signer: a code is sent only to an
address recorded for a guardian who must sign a consent, and the answer to the request is the
same for every address. Each transaction does one thing and audits it inside.
"""

from __future__ import annotations

import hmac
import logging
import re
import secrets
import uuid
from datetime import timedelta

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.mail import EmailMessage
from django.db import models, transaction
from django.template.loader import render_to_string
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from samverkan.audit.models import Outcome
from samverkan.audit.services import audit_record
from samverkan.cases.models import Guardian, GuardianLink, Youth
from samverkan.consent.models import ConsentWithdrawal, RequiredSigner, SignerKind, WithdrawalMethod
from samverkan.consent.services import consent_withdraw, signature_record_electronic
from samverkan.lib import limits
from samverkan.lib.fields import search_hash
from samverkan.portal.eid import EidCompletion
from samverkan.portal.models import PortalLoginCode
from samverkan.portal.selectors import PortalConsent, consent_view
from samverkan.portal.subjects import GUARDIAN, YOUTH, LoginRefusedError, PortalSubject

logger = logging.getLogger(__name__)

CODE_LIFETIME = timedelta(minutes=10)
CODE_MAX_TRIES = 5
# Per typed address (counted in the database, so every process agrees) and per client address.
CODE_WINDOW = timedelta(minutes=15)
CODES_PER_ADDRESS = 3
CODE_REQUESTS_PER_IP = 10
CODE_TRIES_PER_IP = 30
EID_STARTS_PER_IP = 20


# --- Rate limits ---------------------------------------------------------------------------


def throttled(bucket: str, client: str, *, limit: int, window: timedelta) -> bool:
    """Count one more hit for ``client`` in ``bucket``; True once the limit is passed.

    The counter is an atomic increment in the security-state store, which never evicts it
    (``lib/limits.py``); its key is a keyed hash, so the store holds no client addresses.
    """
    rate = limits.Rate(limit, int(window.total_seconds()))
    return limits.hit(f"portal:{bucket}", client or "-", rate) > limit


def _too_many() -> str:
    return _("Too many attempts. Wait a quarter of an hour and try again.")


def eid_start_allowed(*, ip: str) -> bool:
    return not throttled("eid_start", ip, limit=EID_STARTS_PER_IP, window=CODE_WINDOW)


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
        throttled("code_request", ip, limit=CODE_REQUESTS_PER_IP, window=CODE_WINDOW)
        or recent >= CODES_PER_ADDRESS
    ):
        with transaction.atomic():
            audit_record(
                action="portal.code_refused",
                object_type="portal.portallogincode",
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
    if throttled("code_try", ip, limit=CODE_TRIES_PER_IP, window=CODE_WINDOW):
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
            object_type="portal.portallogincode" if method == "email" else "portal.eidorder",
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


# --- Signing and withdrawal -----------------------------------------------------------------


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
    view = consent_view(subject, pk)
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
        return consent_view(subject, pk)
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


def consent_withdraw_by_subject(*, subject: PortalSubject, pk: int) -> ConsentWithdrawal:
    """The subject's own withdrawal, effective when it commits."""
    view = consent_view(subject, pk)
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
