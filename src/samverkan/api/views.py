"""The pages where a user manages their own API tokens."""

from __future__ import annotations

from allauth.account.decorators import reauthentication_required
from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from samverkan.api.forms import TokenForm
from samverkan.api.selectors import token_get, token_list
from samverkan.api.services import token_create, token_revoke
from samverkan.lib.http import acting_user, require_visible
from samverkan.organisations.rules import roles_of


def _has_any_role(user: object) -> bool:
    return bool(roles_of(user))  # type: ignore[arg-type]


@require_GET
def token_list_view(request: HttpRequest) -> HttpResponse:
    user = acting_user(request)
    require_visible(_has_any_role, user)
    return render(
        request,
        "api/token_list.html",
        {"tokens": token_list(viewer=user)},
    )


@require_http_methods(["GET", "POST"])
def token_create_view(request: HttpRequest) -> HttpResponse:
    user = acting_user(request)
    require_visible(_has_any_role, user)
    return _token_create(request)


@reauthentication_required
def _token_create(request: HttpRequest) -> HttpResponse:
    user = acting_user(request)
    form = TokenForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            issued = token_create(actor=user, user=user, **form.cleaned_data)
        except ValidationError as exc:
            form.add_error(None, exc.messages)
        else:
            # Shown once, in this response only; the server keeps only a digest.
            return render(request, "api/token_created.html", {"issued": issued})
    return render(request, "api/token_form.html", {"form": form})


@require_POST
def token_revoke_view(request: HttpRequest, pk: int) -> HttpResponse:
    user = acting_user(request)
    require_visible(_has_any_role, user)
    token = token_get(viewer=user, pk=pk)
    token_revoke(actor=user, token=token)
    messages.success(request, _("The token has been revoked."))
    return redirect("api:token_list")
