"""The notifications page, marking read, and the unread count in the navigation."""

from __future__ import annotations

import re

from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from samverkan.notifications.models import Notification, NotificationKind
from samverkan.notifications.services import notify
from tests.helpers import assert_trio, count_queries

LIST = "/notifications/"


def _notify(user, n: int = 1, case: str = "AVE-2026-0042") -> list[Notification]:
    created = []
    for i in range(n):
        created += notify(
            recipients=[user],
            kind=NotificationKind.CONSENT_WITHDRAWN,
            params={"consent": i + 1, "case": case},
            link=f"/cases/{i + 1}/",
            email=False,
        )
    return created


def test_the_list_shows_own_notifications_newest_first(client_for, personas):
    _notify(personas.practitioner, 2)
    _notify(personas.colleague, 1, case="AVE-2026-0099")
    html = client_for(personas.practitioner).get(LIST).content.decode()
    assert html.index("Consent #2 ") < html.index("Consent #1 ")
    assert "AVE-2026-0099" not in html
    assert 'href="/cases/2/"' in html
    assert "<caption" in html
    assert 'scope="col"' in html


def test_anonymous_visitors_go_to_the_login_page(client_for, db):
    for method, url in (
        ("get", LIST),
        ("post", "/notifications/1/read/"),
        ("post", "/notifications/read-all/"),
    ):
        response = getattr(client_for(None), method)(url)
        assert response.status_code == 302
        assert response["Location"].startswith(reverse("account_login"))


def test_trio_for_the_list(client_for, personas):
    assert_trio(client_for, LIST, allowed=personas.practitioner, outsider=personas.no_role)


def test_trio_for_marking_one_read(client_for, personas):
    (mine,) = _notify(personas.practitioner)
    assert_trio(
        client_for,
        f"/notifications/{mine.pk}/read/",
        allowed=personas.practitioner,
        outsider=personas.colleague,  # another user's notification answers like a missing one
        method="post",
        wrong_method="get",
    )
    mine.refresh_from_db()
    assert mine.read_at is not None


def test_trio_for_marking_all_read(client_for, personas):
    _notify(personas.practitioner)
    assert_trio(
        client_for,
        "/notifications/read-all/",
        allowed=personas.practitioner,
        outsider=personas.no_role,
        method="post",
        wrong_method="get",
    )


def test_marking_read_by_post(client_for, personas):
    first, _ = _notify(personas.practitioner, 2)
    _notify(personas.colleague)
    client = client_for(personas.practitioner)
    response = client.post(f"/notifications/{first.pk}/read/")
    assert response.status_code == 302
    assert response["Location"] == LIST
    assert Notification.objects.filter(read_at__isnull=True).count() == 2
    client.post("/notifications/read-all/")
    unread = Notification.objects.filter(read_at__isnull=True)
    assert list(unread) == list(Notification.objects.filter(recipient=personas.colleague))
    html = client.get(LIST).content.decode()
    assert "Mark all as read" not in html


def test_the_list_query_count_does_not_grow_with_rows(client_for, personas):
    client = client_for(personas.practitioner)
    _notify(personas.practitioner, 1)
    client.get(LIST)
    one = count_queries(client, LIST)
    _notify(personas.practitioner, 19)
    assert count_queries(client, LIST) == one
    _notify(personas.practitioner, 30)  # more than a page
    assert count_queries(client, LIST) == one
    assert one <= 12  # session, user, factor, roles and the other navigation rules, 2 here


def test_the_navigation_shows_the_unread_count_with_one_query(client_for, personas):
    client = client_for(personas.practitioner)
    home = reverse("web:home")
    assert 'class="badge"' not in client.get(home).content.decode()
    _notify(personas.practitioner, 3)
    with CaptureQueriesContext(connection) as ctx:
        html = client.get(home).content.decode()
    badge = re.search(r'<span class="badge">(\d+)<span class="visually-hidden"> unread', html)
    assert badge is not None
    assert badge.group(1) == "3"
    queries = [q["sql"] for q in ctx.captured_queries if "notifications_notification" in q["sql"]]
    assert len(queries) == 1
    client.post("/notifications/read-all/")
    assert 'class="badge"' not in client.get(home).content.decode()


def test_no_navigation_link_for_an_account_without_a_role(client_for, personas):
    html = client_for(personas.no_role).get(reverse("web:home")).content.decode()
    assert LIST not in html


def test_the_page_has_no_inline_script_or_style(client_for, personas):
    _notify(personas.practitioner, 2)
    html = client_for(personas.practitioner).get(LIST).content.decode()
    for tag in re.findall(r"<script\b[^>]*>", html):
        assert "src=" in tag
    assert " style=" not in html
    assert " onclick=" not in html.lower()


def test_pagination(client_for, personas):
    _notify(personas.practitioner, 30)
    client = client_for(personas.practitioner)
    first = client.get(LIST).content.decode()
    assert "Page 1 of 2" in first
    assert "Consent #30 " in first
    second = client.get(LIST, {"page": 2}).content.decode()
    assert "Consent #1 " in second
