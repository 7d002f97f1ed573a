from __future__ import annotations

import pytest
from django.urls import reverse

from samverkan.audit.models import AuditEvent
from samverkan.organisations.models import Agency, GroupMembership, Sector
from tests.helpers import assert_trio, count_queries


def test_agency_list_trio(client_for, personas):
    assert_trio(
        client_for,
        reverse("organisations:agency_list"),
        allowed=personas.admin,
        outsider=personas.auditor,
    )


@pytest.mark.parametrize(
    "persona", ["practitioner", "coordinator", "auditor", "council_member", "outsider"]
)
def test_organisation_admin_is_invisible_to_others(client_for, personas, world, persona):
    client = client_for(getattr(personas, persona), reauth=True)
    for url in (
        reverse("organisations:agency_list"),
        reverse("organisations:agency_create"),
        reverse("organisations:agency_edit", args=[world.avesta_school.pk]),
        reverse("organisations:group_list"),
        reverse("organisations:group_create"),
        reverse("organisations:group_detail", args=[world.avesta_group.pk]),
    ):
        assert client.get(url).status_code == 404, url


def test_create_agency(client_for, personas, world):
    admin = client_for(personas.admin, reauth=True)
    response = admin.post(
        reverse("organisations:agency_create"),
        {
            "name": "Avesta gymnasium",
            "sector": Sector.SCHOOL,
            "municipality": world.avesta_school.municipality_id,
        },
    )
    assert response.status_code == 302
    agency = Agency.objects.get(name="Avesta gymnasium")
    assert AuditEvent.objects.filter(action="agency.created", object_id=str(agency.pk)).exists()


def test_agency_needs_exactly_one_owner(client_for, personas, world):
    admin = client_for(personas.admin, reauth=True)
    response = admin.post(
        reverse("organisations:agency_create"),
        {
            "name": "Fel",
            "sector": Sector.SCHOOL,
            "municipality": world.avesta_school.municipality_id,
            "police_area": world.police.police_area_id,
        },
    )
    assert response.status_code == 200
    assert not Agency.objects.filter(name="Fel").exists()


def test_edit_agency(client_for, personas, world):
    admin = client_for(personas.admin, reauth=True)
    url = reverse("organisations:agency_edit", args=[world.avesta_leisure.pk])
    assert admin.put(url).status_code == 405
    response = admin.post(
        url, {"name": "Avesta fritidsgårdar", "sector": Sector.LEISURE, "is_active": ""}
    )
    assert response.status_code == 302
    world.avesta_leisure.refresh_from_db()
    assert world.avesta_leisure.name == "Avesta fritidsgårdar"
    assert not world.avesta_leisure.is_active
    event = AuditEvent.objects.filter(action="agency.updated").latest("id")
    assert event.details == {"fields": ["is_active", "name"]}


def test_group_membership_rules(client_for, personas, world):
    admin = client_for(personas.admin, reauth=True)
    url = reverse("organisations:group_member_add", args=[world.avesta_group.pk])
    # The police officer's agency serves Avesta through the police area: allowed.
    # (Already a member from the fixture, so this is refused as a duplicate.)
    response = admin.post(
        url, {"membership": f"{personas.police.pk}:{world.police.pk}", "role": "member"}
    )
    assert response.status_code == 302
    # A Hedemora school counsellor is not offered for Avesta's group.
    response = admin.post(
        url, {"membership": f"{personas.outsider.pk}:{world.hedemora_school.pk}", "role": "member"}
    )
    assert response.status_code == 302
    assert not GroupMembership.objects.filter(user=personas.outsider).exists()
    # The colleague can be added.
    response = admin.post(
        url, {"membership": f"{personas.colleague.pk}:{world.avesta_school.pk}", "role": "member"}
    )
    assert GroupMembership.objects.filter(
        user=personas.colleague, group=world.avesta_group
    ).exists()
    member = GroupMembership.objects.get(user=personas.colleague, group=world.avesta_group)
    remove = reverse("organisations:group_member_remove", args=[world.avesta_group.pk, member.pk])
    assert admin.get(remove).status_code == 405
    assert admin.post(remove).status_code == 302
    assert not GroupMembership.objects.filter(pk=member.pk).exists()


def test_group_list_query_count_does_not_grow(client_for, personas, world):
    from samverkan.organisations.services import group_create

    admin = client_for(personas.admin)
    url = reverse("organisations:group_list")

    def count() -> int:
        return count_queries(admin, url)

    count()  # the first request of a session writes the session; measure from the second
    before = count()
    municipality = world.avesta_school.municipality
    for i in range(10):
        group_create(
            actor=None, municipality=municipality, name=f"Grupp {i}", min_age=10, max_age=17
        )
    assert count() == before
