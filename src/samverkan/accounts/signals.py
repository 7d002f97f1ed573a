"""Audit events for authentication, written as the events happen (DESIGN rule 8)."""

from __future__ import annotations

from typing import Any

from allauth.account.signals import password_changed, password_reset, password_set
from allauth.mfa import signals as mfa_signals
from allauth.mfa.models import Authenticator
from axes.signals import user_locked_out
from django.contrib.auth import get_user_model
from django.contrib.auth.signals import user_logged_in, user_logged_out, user_login_failed
from django.db import transaction
from django.db.models.signals import post_delete, post_save
from django.dispatch import receiver

from samverkan.audit.models import Outcome
from samverkan.audit.services import audit_record


def _user_named(username: Any) -> Any:
    if not isinstance(username, str) or not username:
        return None
    return get_user_model().objects.filter(username__iexact=username.strip()).first()


@receiver(user_logged_in)
def _logged_in(sender: Any, request: Any, user: Any, **kwargs: Any) -> None:
    with transaction.atomic():
        audit_record(action="auth.login", actor=user, obj=user)


@receiver(user_logged_out)
def _logged_out(sender: Any, request: Any, user: Any, **kwargs: Any) -> None:
    if user is None:
        return
    with transaction.atomic():
        audit_record(action="auth.logout", actor=user, obj=user)


@receiver(user_login_failed)
def _login_failed(
    sender: Any, credentials: dict[str, Any], request: Any = None, **kwargs: Any
) -> None:
    # The attempted name is never stored: people type identity numbers into login fields.
    user = _user_named(credentials.get("username"))
    with transaction.atomic():
        audit_record(
            action="auth.login_failed",
            actor=user,
            object_type="accounts.user",
            object_id=str(user.pk) if user else "",
            outcome=Outcome.DENIED,
            details={"known_account": user is not None},
        )


@receiver(user_locked_out)
def _locked_out(sender: Any, request: Any, username: Any, ip_address: Any, **kwargs: Any) -> None:
    # axes passes its hashed key (accounts/lockout.py); the account comes from the form.
    typed = request.POST.get("login") if request is not None else None
    user = _user_named(typed)
    with transaction.atomic():
        audit_record(
            action="auth.locked_out",
            actor=user,
            object_type="accounts.user",
            object_id=str(user.pk) if user else "",
            outcome=Outcome.DENIED,
            details={"known_account": user is not None},
        )


def _mfa_event(action: str, outcome: str = Outcome.ALLOWED) -> Any:
    def handler(
        sender: Any, request: Any, user: Any, authenticator: Any = None, **kwargs: Any
    ) -> None:
        with transaction.atomic():
            audit_record(
                action=action,
                actor=user,
                obj=user,
                outcome=outcome,
                details={"type": authenticator.type if authenticator is not None else ""},
            )

    return handler


@receiver(post_save, sender=Authenticator)
def _authenticator_saved(
    sender: Any, instance: Authenticator, created: bool, **kwargs: Any
) -> None:
    # A model signal, not allauth's authenticator_added (sent after commit), so that the event
    # is written in the same transaction as the factor it records.
    if created:
        with transaction.atomic():
            audit_record(
                action="mfa.authenticator_added",
                actor=instance.user,
                obj=instance.user,
                details={"type": instance.type},
            )


@receiver(post_delete, sender=Authenticator)
def _authenticator_deleted(sender: Any, instance: Authenticator, **kwargs: Any) -> None:
    with transaction.atomic():
        audit_record(
            action="mfa.authenticator_removed",
            actor=instance.user,
            obj=instance.user,
            details={"type": instance.type},
        )


_mfa_reset = _mfa_event("mfa.authenticator_reset")
_mfa_failed = _mfa_event("mfa.authentication_failed", Outcome.DENIED)
mfa_signals.authenticator_reset.connect(_mfa_reset, dispatch_uid="samverkan.mfa_reset")
mfa_signals.authentication_failed.connect(_mfa_failed, dispatch_uid="samverkan.mfa_failed")


def _password_event(action: str) -> Any:
    def handler(sender: Any, request: Any, user: Any, **kwargs: Any) -> None:
        with transaction.atomic():
            audit_record(action=action, actor=user, obj=user)

    return handler


_pw_changed = _password_event("auth.password_changed")
_pw_reset = _password_event("auth.password_reset")
_pw_set = _password_event("auth.password_set")
password_changed.connect(_pw_changed, dispatch_uid="samverkan.pw_changed")
password_reset.connect(_pw_reset, dispatch_uid="samverkan.pw_reset")
password_set.connect(_pw_set, dispatch_uid="samverkan.pw_set")
