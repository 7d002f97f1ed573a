"""Issue 18: the query budgets of the pages `bench/pages.py` measures, on the demo data.

Each page is read once before it is counted (the first read records which entries crossed to
the viewer's agency; later reads find them recorded), then counted with few rows and again
after thirty more entries, consents' worth of history and cases: the count must not move, and
must stay within the budget. The budgets are PostgreSQL's, as operators run it; where writers
seal the audit log themselves (SQLite, ``SAMVERKAN_AUDIT_SEALING=inline``) the request's one
audit append also takes the chain head's lock and moves it (`INLINE_SEALING`).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import pytest
from django.db import connection
from django.template.loader import render_to_string
from django.test import Client, RequestFactory
from django.test.utils import CaptureQueriesContext

from samverkan import demo
from samverkan.accounts.models import User
from samverkan.api.services import token_create
from samverkan.audit.models import AuditEvent
from samverkan.cases.models import Case, Entry, InformationCategory
from samverkan.cases.services import entry_add
from samverkan.consent.models import Consent
from samverkan.organisations.models import Membership, Role
from tests.helpers import inline_sealing_queries, login

pytestmark = pytest.mark.budgets

# The budgets (queries per request, PostgreSQL).
CASE_PAGE = 15
CONSENT_PAGE = 15
GROUP_INDEX = 15
API_ENTRY_LIST = 10
# The navigation of every page: the user's positions (memberships and seats) and the unread
# count; the roles that read agreements, indicators or statistics also look up the
# municipalities their agencies serve (through the police area, for the police).
NAVIGATION = 2
NAVIGATION_WITH_MUNICIPALITIES = 5


def budget(queries: int) -> int:
    return queries + inline_sealing_queries()


@dataclass
class Demo:
    practitioner: User
    coordinator: User
    case: Case
    web: Client
    coordination: Client
    api: Client


@pytest.fixture
def demo_world(db) -> Demo:
    demo.load()
    practitioner = User.objects.get(username="socialtjanst")
    coordinator = User.objects.get(username="samordnare")
    # The practitioner's case with the most entries: the one the benchmark reads.
    case = max(
        Case.objects.filter(team__user=practitioner, team__removed_at=None).distinct(),
        key=lambda c: c.entries.count(),
    )
    assert Consent.objects.filter(case=case).exists()
    issued = token_create(actor=practitioner, user=practitioner, name="budget", days=1)
    return Demo(
        practitioner=practitioner,
        coordinator=coordinator,
        case=case,
        web=login(Client(), practitioner),
        coordination=login(Client(), coordinator),
        api=Client(HTTP_AUTHORIZATION=f"Bearer {issued.text}"),
    )


def queries(client: Client, url: str) -> int:
    client.get(url)  # the first read: crossings recorded, the token's use marked
    with CaptureQueriesContext(connection) as ctx:
        response = client.get(url)
    assert response.status_code == 200, (url, response.status_code)
    return len(ctx.captured_queries)


def _more_rows(world: Demo) -> None:
    """Thirty more entries from every agency on the case, visible and withheld, and a second
    case in the group."""
    team = [m for m in world.case.team.select_related("user", "agency") if m.removed_at is None]
    for member in team:
        if not Membership.objects.filter(
            user=member.user, agency=member.agency, role=Role.PRACTITIONER
        ).exists():
            continue
        category = InformationCategory.objects.filter(sector=member.agency.sector).first()
        assert category is not None
        for i in range(30 // len(team) + 1):
            entry_add(
                actor=member.user,
                case=world.case,
                agency=member.agency,
                category=category,
                text=f"Anteckning {i} från {member.agency.sector}",
            )


PAGES: dict[str, tuple[Callable[[Demo], tuple[Client, str]], int]] = {
    "case page": (lambda w: (w.web, f"/cases/{w.case.pk}/"), CASE_PAGE),
    "consent page": (lambda w: (w.web, f"/consents/case/{w.case.pk}/"), CONSENT_PAGE),
    "group index": (
        lambda w: (w.coordination, f"/cases/groups/{w.case.group_id}/"),
        GROUP_INDEX,
    ),
    "API entry list": (lambda w: (w.api, f"/api/v1/cases/{w.case.pk}/entries"), API_ENTRY_LIST),
}


@pytest.mark.parametrize("page", list(PAGES))
def test_the_page_is_within_its_budget_and_does_not_grow_with_rows(demo_world, page):
    where, limit = PAGES[page]
    client, url = where(demo_world)
    before = queries(client, url)
    entries = Entry.objects.filter(case=demo_world.case).count()
    _more_rows(demo_world)
    assert Entry.objects.filter(case=demo_world.case).count() >= entries + 30
    after = queries(client, url)
    assert after == before, f"{page}: {before} queries with few rows, {after} with more"
    assert before <= budget(limit), f"{page}: {before} queries, budget {budget(limit)}"


def test_a_page_shows_many_entries_with_one_audit_row_per_basis(demo_world):
    """Two hundred entries read: a handful of rows (one per legal basis), each naming its
    entries, not one row per entry; the log still says who read entry N."""
    _more_rows(demo_world)
    url = f"/cases/{demo_world.case.pk}/"
    demo_world.web.get(url)
    last = AuditEvent.objects.order_by("-id").first()
    assert last is not None
    demo_world.web.get(url)
    read = list(
        AuditEvent.objects.filter(pk__gt=last.pk, action="entry.viewed").order_by("legal_basis")
    )
    shown = sorted(i for event in read for i in event.details["entries"])
    assert len(shown) == len(set(shown)) >= 20
    assert len(read) == len({e.legal_basis for e in read}) <= 3
    assert all(e.case_id == demo_world.case.pk for e in read)
    first_shown = shown[0]
    who = AuditEvent.objects.filter(action="entry.viewed", case_id=demo_world.case.pk)
    assert any(first_shown in e.details["entries"] for e in who)


@pytest.mark.parametrize(
    ("username", "limit"),
    [
        ("skola", NAVIGATION),
        ("socialtjanst", NAVIGATION),
        ("fritid", NAVIGATION),
        ("samordnare", NAVIGATION),
        ("dso", NAVIGATION),
        ("admin", NAVIGATION),
        ("polis", NAVIGATION_WITH_MUNICIPALITIES),  # also an agreement editor
        ("avtal", NAVIGATION_WITH_MUNICIPALITIES),
        ("bra", NAVIGATION_WITH_MUNICIPALITIES),
    ],
)
def test_the_navigation_asks_only_what_the_roles_need(db, username, limit):
    demo.load()
    request = RequestFactory().get("/")
    request.user = User.objects.get(username=username)  # a fresh object: nothing cached yet
    with CaptureQueriesContext(connection) as ctx:
        html = render_to_string("base.html", request=request)
    assert 'href="/"' in html
    assert len(ctx.captured_queries) <= limit, [q["sql"][:80] for q in ctx.captured_queries]
