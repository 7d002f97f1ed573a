from __future__ import annotations

from allauth.account.decorators import reauthentication_required
from django.contrib import messages
from django.contrib.auth.tokens import default_token_generator
from django.core.exceptions import ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.encoding import force_str
from django.utils.http import urlsafe_base64_decode
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from samverkan.accounts import services
from samverkan.accounts.forms import InviteForm, MembershipForm, SetPasswordForm, UserEditForm
from samverkan.accounts.models import User
from samverkan.accounts.rules import can_manage_users, can_view_users
from samverkan.accounts.selectors import user_get, user_get_audited, user_list_audited
from samverkan.lib.forms import add_validation_errors
from samverkan.lib.http import acting_user, require_allowed, require_visible
from samverkan.organisations.models import Agency, Membership
from samverkan.organisations.services import membership_add, membership_remove


def _active_agencies():  # type: ignore[no-untyped-def]
    return Agency.objects.filter(is_active=True).select_related("municipality", "police_area")


def _to_manage(request: HttpRequest, pk: int) -> tuple[User, User]:
    """The acting administrator and the account they act on: 404 for those who may not see the
    account, 403 for those who see it but may not change it (auditors)."""
    user = acting_user(request)
    require_visible(can_view_users, user)
    subject = user_get(viewer=user, pk=pk)
    require_allowed(can_manage_users, user)
    return user, subject


@require_GET
def user_list_view(request: HttpRequest) -> HttpResponse:
    user = acting_user(request)
    require_visible(can_view_users, user)
    users = user_list_audited(viewer=user)
    return render(
        request,
        "accounts/user_list.html",
        {"users": users, "can_manage": can_manage_users(user)},
    )


@require_http_methods(["GET", "POST"])
def user_invite_view(request: HttpRequest) -> HttpResponse:
    user = acting_user(request)
    require_visible(can_view_users, user)
    require_allowed(can_manage_users, user)
    return _user_invite(request)


@reauthentication_required
def _user_invite(request: HttpRequest) -> HttpResponse:
    user = acting_user(request)
    form = InviteForm(request.POST or None, agencies=_active_agencies())
    if request.method == "POST" and form.is_valid():
        try:
            invited = services.user_invite(actor=user, **form.cleaned_data)
        except ValidationError as exc:
            add_validation_errors(form, exc)
        else:
            messages.success(request, _("The invitation has been sent."))
            return redirect("accounts:user_detail", pk=invited.pk)
    return render(request, "accounts/user_invite.html", {"form": form})


@require_GET
def user_detail_view(request: HttpRequest, pk: int) -> HttpResponse:
    user = acting_user(request)
    require_visible(can_view_users, user)
    subject = user_get_audited(viewer=user, pk=pk)
    return render(
        request,
        "accounts/user_detail.html",
        {
            "subject": subject,
            "memberships": list(subject.memberships.all()),
            "can_manage": can_manage_users(user),
            "membership_form": MembershipForm(agencies=_active_agencies()),
        },
    )


@require_http_methods(["GET", "POST"])
def user_edit_view(request: HttpRequest, pk: int) -> HttpResponse:
    _actor, subject = _to_manage(request, pk)
    return _user_edit(request, subject)


@reauthentication_required
def _user_edit(request: HttpRequest, subject: User) -> HttpResponse:
    user = acting_user(request)
    initial = {
        "first_name": subject.first_name,
        "last_name": subject.last_name,
        "email": subject.email,
    }
    form = UserEditForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        try:
            services.user_update(actor=user, user=subject, **form.cleaned_data)
        except ValidationError as exc:
            add_validation_errors(form, exc)
        else:
            messages.success(request, _("The account has been updated."))
            return redirect("accounts:user_detail", pk=subject.pk)
    return render(request, "accounts/user_edit.html", {"form": form, "subject": subject})


@require_POST
def membership_add_view(request: HttpRequest, pk: int) -> HttpResponse:
    _actor, subject = _to_manage(request, pk)
    return _membership_add(request, subject)


@reauthentication_required
def _membership_add(request: HttpRequest, subject: User) -> HttpResponse:
    user = acting_user(request)
    form = MembershipForm(request.POST, agencies=_active_agencies())
    if form.is_valid():
        try:
            membership_add(actor=user, user=subject, **form.cleaned_data)
        except ValidationError as exc:
            messages.error(request, " ".join(exc.messages))
        else:
            messages.success(request, _("The role has been added."))
    else:
        messages.error(request, _("Choose an agency and a role."))
    return redirect("accounts:user_detail", pk=subject.pk)


@require_POST
def membership_remove_view(request: HttpRequest, pk: int, membership_id: int) -> HttpResponse:
    _actor, subject = _to_manage(request, pk)
    try:
        membership = subject.memberships.get(pk=membership_id)
    except Membership.DoesNotExist:
        raise Http404 from None
    return _membership_remove(request, subject, membership)


@reauthentication_required
def _membership_remove(request: HttpRequest, subject: User, membership: Membership) -> HttpResponse:
    user = acting_user(request)
    membership_remove(actor=user, membership=membership)
    messages.success(request, _("The role has been removed."))
    return redirect("accounts:user_detail", pk=subject.pk)


@require_POST
def user_set_active_view(request: HttpRequest, pk: int) -> HttpResponse:
    _actor, subject = _to_manage(request, pk)
    return _user_set_active(request, subject)


@reauthentication_required
def _user_set_active(request: HttpRequest, subject: User) -> HttpResponse:
    user = acting_user(request)
    active = request.POST.get("active") == "1"
    try:
        services.user_set_active(actor=user, user=subject, active=active)
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    else:
        messages.success(
            request,
            _("The account has been activated.")
            if active
            else _("The account has been deactivated."),
        )
    return redirect("accounts:user_detail", pk=subject.pk)


@require_POST
def user_resend_invitation_view(request: HttpRequest, pk: int) -> HttpResponse:
    actor, subject = _to_manage(request, pk)
    try:
        services.user_resend_invitation(actor=actor, user=subject)
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    else:
        messages.success(request, _("The invitation has been sent again."))
    return redirect("accounts:user_detail", pk=subject.pk)


@require_http_methods(["GET", "POST"])
def accept_invitation_view(request: HttpRequest, uidb64: str, token: str) -> HttpResponse:
    """Set the first password from the invitation link, then log in and enrol the second factor."""
    try:
        user = User.objects.get(pk=int(force_str(urlsafe_base64_decode(uidb64))))
    except (ValueError, TypeError, OverflowError, User.DoesNotExist):
        user = None
    if user is None or not user.is_active or not default_token_generator.check_token(user, token):
        return render(request, "accounts/invitation_invalid.html", status=404)
    form = SetPasswordForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            services.user_accept_invitation(
                user=user, token=token, password=form.cleaned_data["password1"]
            )
        except ValidationError as exc:
            form.add_error("password1", exc.messages)
        else:
            messages.success(
                request,
                _("Your password is set. Log in, then set up your second factor."),
            )
            return redirect("account_login")
    return render(request, "accounts/accept_invitation.html", {"form": form, "invitee": user})
