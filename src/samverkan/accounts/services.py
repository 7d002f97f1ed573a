"""Writes to staff accounts: invitation, acceptance, activation. Each is audited."""

from __future__ import annotations

from collections.abc import Sequence

from django.conf import settings
from django.contrib.auth.password_validation import validate_password
from django.contrib.auth.tokens import default_token_generator
from django.core.exceptions import ValidationError
from django.core.mail import send_mail
from django.db import transaction
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import translation
from django.utils.encoding import force_bytes
from django.utils.http import urlsafe_base64_encode
from django.utils.translation import gettext as _

from samverkan.accounts.models import User
from samverkan.audit.services import audit_record
from samverkan.lib.bulk import insert_rows
from samverkan.organisations.models import Agency, Role
from samverkan.organisations.services import membership_add


def invitation_url(user: User) -> str:
    """The one-time link to set a password; it stops working once a password is set."""
    uid = urlsafe_base64_encode(force_bytes(user.pk))
    token = default_token_generator.make_token(user)
    path = reverse("accounts:accept_invitation", kwargs={"uidb64": uid, "token": token})
    return f"{settings.BASE_URL.rstrip('/')}{path}"


def _send_invitation(user: User) -> None:
    url = invitation_url(user)
    # Invitations go out in Swedish, the language of the service, with English below.
    with translation.override("sv"):
        subject = _("Your Samverkan account")
        body_sv = render_to_string("accounts/email/invitation.txt", {"user": user, "url": url})
    with translation.override("en"):
        body_en = render_to_string("accounts/email/invitation.txt", {"user": user, "url": url})
    send_mail(
        subject=f"{settings.ACCOUNT_EMAIL_SUBJECT_PREFIX}{subject}",
        message=f"{body_sv}\n\n----\n\n{body_en}",
        from_email=None,
        recipient_list=[user.email],
    )


def _invited(username: str, email: str, first_name: str, last_name: str) -> User:
    user = User(username=username, email=email, first_name=first_name, last_name=last_name)
    user.set_unusable_password()
    return user


def user_invite(
    *,
    actor: User | None,
    username: str,
    email: str,
    first_name: str,
    last_name: str,
    agency: Agency,
    role: Role | str,
    send: bool = True,
) -> User:
    """Create an account without a password and e-mail a link to set one and enrol MFA."""
    username = username.strip().lower()
    email = email.strip().lower()
    if User.objects.filter(username__iexact=username).exists():
        raise ValidationError({"username": _("That username is taken.")})
    if User.objects.filter(email__iexact=email).exists():
        raise ValidationError({"email": _("An account with that e-mail address exists.")})
    with transaction.atomic():
        user = _invited(username, email, first_name, last_name)
        user.full_clean(exclude=["password"])
        user.save()
        audit_record(
            action="user.invited", actor=actor, obj=user, agency=agency, details={"role": str(role)}
        )
        membership_add(actor=actor, user=user, agency=agency, role=role)
        if send:
            transaction.on_commit(lambda: _send_invitation(user))
    return user


def user_resend_invitation(*, actor: User, user: User) -> None:
    if user.has_usable_password():
        raise ValidationError(_("The user has already accepted the invitation."))
    with transaction.atomic():
        audit_record(action="user.invitation_resent", actor=actor, obj=user)
        transaction.on_commit(lambda: _send_invitation(user))


def user_accept_invitation(*, user: User, token: str, password: str) -> User:
    """Set the first password. The token is single-use: it is bound to the password hash."""
    if not user.is_active or not default_token_generator.check_token(user, token):
        raise ValidationError(_("The invitation link is invalid or has expired."))
    validate_password(password, user)
    with transaction.atomic():
        user.set_password(password)
        user.save(update_fields=["password"])
        audit_record(action="user.invitation_accepted", actor=user, obj=user)
    return user


def user_set_active(*, actor: User, user: User, active: bool) -> User:
    if actor.pk == user.pk and not active:
        raise ValidationError(_("You cannot deactivate your own account."))
    with transaction.atomic():
        user.is_active = active
        user.save(update_fields=["is_active"])
        audit_record(
            action="user.activated" if active else "user.deactivated", actor=actor, obj=user
        )
        if not active:
            # Revoke API tokens too, so a deactivated account has no way in.
            from samverkan.api.services import token_revoke_all

            token_revoke_all(actor=actor, user=user)
    return user


def user_update(*, actor: User, user: User, first_name: str, last_name: str, email: str) -> User:
    email = email.strip().lower()
    if User.objects.filter(email__iexact=email).exclude(pk=user.pk).exists():
        raise ValidationError({"email": _("An account with that e-mail address exists.")})
    with transaction.atomic():
        changed = sorted(
            field
            for field, value in (
                ("first_name", first_name),
                ("last_name", last_name),
                ("email", email),
            )
            if getattr(user, field) != value
        )
        user.first_name, user.last_name, user.email = first_name, last_name, email
        user.full_clean(exclude=["password"])
        user.save()
        audit_record(action="user.updated", actor=actor, obj=user, details={"fields": changed})
    return user


def user_prepare(*, username: str, email: str, first_name: str, last_name: str) -> User:
    """An unsaved invited account, as ``user_invite`` makes it (names normalised, no usable
    password, fields validated), for ``users_create_bulk``; uniqueness is left to the
    database's constraints, so a set of thousands costs no query each."""
    user = _invited(username.strip().lower(), email.strip().lower(), first_name, last_name)
    user.full_clean(exclude=["password"], validate_unique=False)
    return user


def users_create_bulk(users: Sequence[User]) -> int:
    """Write accounts made by ``user_prepare``; the caller appends the audit events with
    ``audit.services.append_bulk`` and adds the memberships."""
    return insert_rows(User, users)


def session_expired(*, user: User, reason: str) -> None:
    """A staff session ended by the clock (``reason`` "idle" or "absolute"); the caller then
    logs the user out."""
    with transaction.atomic():
        audit_record(
            action="auth.session_expired", actor=user, obj=user, details={"reason": reason}
        )
