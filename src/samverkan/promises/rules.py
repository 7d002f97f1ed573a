"""Who may read and change agreements. Shared by views, the API, selectors and templates.

An agreement editor (Role.AGREEMENT_EDITOR) in an agency of a municipality, or of a police
area serving it, reads and changes that municipality's agreements; a council member reads them.
Everyone else meets them only through the published-only selectors, like the public.

A party's fulfilment assessment is its own (issue 5): only an agreement editor of the agency
linked to the party records it (``can_assess_party``).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from django.db.models import Q

from samverkan.organisations.models import Agency, Municipality, Role
from samverkan.organisations.rules import roles_of
from samverkan.organisations.selectors import group_list
from samverkan.promises.models import PartyKind

if TYPE_CHECKING:
    from django.contrib.auth.models import AnonymousUser

    from samverkan.accounts.models import User
    from samverkan.promises.models import Agreement, Party


def _municipality_ids(user: User | AnonymousUser, role: Role) -> frozenset[int]:
    if not user.is_authenticated or not user.is_active:
        return frozenset()
    if role not in roles_of(user):
        # The roles are known for the request already: most users need no query here.
        return frozenset()
    attr = f"_samverkan_agreement_{role}"
    cached: frozenset[int] | None = getattr(user, attr, None)
    if cached is None:
        held = {"memberships__user": user, "memberships__role": role, "is_active": True}
        direct = Q(**{f"agencies__{k}": v for k, v in held.items()})
        via_police = Q(**{f"police_areas__agencies__{k}": v for k, v in held.items()})
        cached = frozenset(
            Municipality.objects.filter(direct | via_police).values_list("pk", flat=True)
        )
        setattr(user, attr, cached)  # a per-request cache, like organisations.rules.roles_of
    return cached


def editor_municipality_ids(user: User | AnonymousUser) -> frozenset[int]:
    return _municipality_ids(user, Role.AGREEMENT_EDITOR)


def reader_municipality_ids(user: User | AnonymousUser) -> frozenset[int]:
    return editor_municipality_ids(user) | _municipality_ids(user, Role.COUNCIL_MEMBER)


def can_view_agreements(user: User | AnonymousUser) -> bool:
    return bool(reader_municipality_ids(user))


def can_create_agreements(user: User | AnonymousUser) -> bool:
    return bool(editor_municipality_ids(user))


def can_edit_agreement(user: User | AnonymousUser, agreement: Agreement) -> bool:
    return agreement.municipality_id in editor_municipality_ids(user)


def editor_agency_ids(user: User | AnonymousUser) -> frozenset[int]:
    """The active agencies where the user holds the agreement-editor role."""
    if not user.is_authenticated or not user.is_active:
        return frozenset()
    if Role.AGREEMENT_EDITOR not in roles_of(user):
        return frozenset()
    attr = "_samverkan_agreement_agencies"
    cached: frozenset[int] | None = getattr(user, attr, None)
    if cached is None:
        cached = frozenset(
            Agency.objects.filter(
                memberships__user=user,
                memberships__role=Role.AGREEMENT_EDITOR,
                is_active=True,
            ).values_list("pk", flat=True)
        )
        setattr(user, attr, cached)  # per request, as above
    return cached


def can_assess_party(user: User | AnonymousUser, agreement: Agreement, party: Party) -> bool:
    """Whether the user may record ``party``'s own assessment of ``agreement``.

    A linked party is assessed only by an agreement editor of its agency, so the police assess
    the police's part and the municipality its own. An outside party with no agency (a housing
    company, an association) cannot log in to assess; an editor of the municipality records its
    written assessment on its behalf, and the version history names who did. A police or
    municipality party without an agency is refused outright: nobody can be checked to speak
    for it.
    """
    if party.agreement_id != agreement.pk or not can_edit_agreement(user, agreement):
        return False
    if party.agency_id is None:
        return party.kind == PartyKind.OTHER
    return party.agency_id in editor_agency_ids(user)


def linkable_group_ids(user: User | AnonymousUser, agreement: Agreement) -> frozenset[int]:
    """The collaboration groups an editor of ``agreement`` may link a commitment to: groups of
    the agreement's municipality among those the user may see (the organisation register,
    ``organisations.selectors.group_list``). Nobody else links any."""
    if not user.is_authenticated or not can_edit_agreement(user, agreement):
        return frozenset()
    return frozenset(
        group_list(viewer=user)
        .filter(municipality_id=agreement.municipality_id)
        .values_list("pk", flat=True)
    )
