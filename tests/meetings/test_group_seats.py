"""A seat in a collaboration group, and with it the group's meetings and index, counts only
while a practitioner or coordinator role at an active agency backs it."""

from __future__ import annotations

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse

from samverkan.meetings.services import minutes_record
from samverkan.organisations.models import GroupMembership, Membership, Role
from samverkan.organisations.services import group_member_add, membership_remove

SECRET_MINUTES = "HEMLIGA minnesanteckningar"


@pytest.fixture
def minuted(personas, meeting_world):
    """The fixture meeting, with minutes recorded under the consent that covers the police."""
    minutes_record(actor=personas.coordinator, item=meeting_world.item, minutes=SECRET_MINUTES)
    return meeting_world.meeting


def test_meeting_access_ends_with_the_job(client_for, personas, minuted):
    url = reverse("meetings:detail", args=[minuted.pk])
    assert client_for(personas.police).get(url).status_code == 200
    membership_remove(
        actor=personas.admin,
        membership=Membership.objects.get(user=personas.police, role=Role.PRACTITIONER),
    )
    page = client_for(personas.police).get(url)
    assert page.status_code == 404
    assert b"HEMLIGA" not in page.content
    assert not GroupMembership.all_seats.filter(user=personas.police).exists()


def test_only_practitioners_and_coordinators_take_seats(personas, world):
    with pytest.raises(ValidationError):
        group_member_add(
            actor=None,
            group=world.avesta_group,
            user=personas.council_member,
            agency=world.avesta_other,
        )


def test_a_deactivated_agency_takes_its_seats_with_it(client_for, personas, world, minuted):
    world.police.is_active = False
    world.police.save()
    assert (
        client_for(personas.police).get(reverse("meetings:detail", args=[minuted.pk])).status_code
        == 404
    )


def test_coordinator_without_a_role_loses_the_index(client_for, personas, world):
    for membership in Membership.objects.filter(user=personas.coordinator):
        membership_remove(actor=personas.admin, membership=membership)
    url = reverse("cases:group_index", args=[world.avesta_group.pk])
    assert client_for(personas.coordinator).get(url).status_code == 404
