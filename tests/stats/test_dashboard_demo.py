"""The demo data set comes with its statistics built, and the demo council member sees them."""

from __future__ import annotations

from django.test import Client

from samverkan import demo
from samverkan.accounts.models import User
from samverkan.cases.models import Case
from samverkan.stats.models import CaseFact
from tests.helpers import login


def test_demo_builds_the_facts_and_the_council_member_sees_the_dashboard(db) -> None:
    demo.load()
    assert CaseFact.objects.count() == Case.objects.count() > 0
    client = Client(HTTP_ACCEPT_LANGUAGE="sv")
    login(client, User.objects.get(username="bra"))
    response = client.get("/stats/", {"year": "1990"})
    assert response.status_code == 400  # a year without figures is not offered
    response = client.get("/stats/")
    assert response.status_code == 200
    assert 'data-stats-table="commitments"' in response.content.decode()
