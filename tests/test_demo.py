"""The demo data set (DESIGN §6) loads through the services and covers what it promises."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Any

from django.urls import reverse
from django.utils import timezone

from samverkan import demo
from samverkan.accounts.models import User
from samverkan.audit.selectors import audit_verify
from samverkan.cases.models import Case, Status
from samverkan.lib.personnummer import parse
from samverkan.organisations.models import Municipality, Role


def test_demo_loads_once_and_covers_every_role(db):
    demo.load()
    demo.load()  # a second call changes nothing
    assert set(Municipality.objects.values_list("code", flat=True)) == {"2084", "2083"}
    roles = set(User.objects.values_list("memberships__role", flat=True))
    assert set(Role.values) <= roles
    assert audit_verify().ok


def test_demo_cases_span_both_municipalities_and_many_statuses(db):
    demo.load()
    cases = Case.objects.select_related("group__municipality")
    assert {c.group.municipality.code for c in cases} == {"2084", "2083"}
    statuses = {c.status for c in cases}
    assert statuses == set(Status.values)


def test_demo_has_a_meeting_with_an_action_for_the_school(db):
    from samverkan.meetings.models import Action

    demo.load()
    action = Action.objects.get()
    assert action.responsible_user is not None
    assert action.responsible_user.username == "skola"


def test_demo_identity_numbers_are_valid_in_form(db):
    for demo_case in demo.CASES:
        number = demo.fictional_identity_number(demo_case.born, demo_case.serial)
        assert parse(number, today=timezone.localdate()).birth_date == demo_case.born
    assert demo.fictional_identity_number(date(2012, 3, 15), 123) == "20120315-1236"


def test_demo_consents_cover_every_state_and_share_what_they_allow(db):
    from django.utils import timezone

    from samverkan.accounts.models import User
    from samverkan.cases import selectors as case_selectors
    from samverkan.disclosure import selectors as disclosure_selectors
    from samverkan.disclosure.facts import consent_queryset, facts_of
    from samverkan.disclosure.policy import State, state_at

    demo.load()
    now = timezone.now()
    states = sorted(state_at(facts_of(c), now) for c in consent_queryset())
    assert set(states) == set(State)
    # Elias's case: social services sees the school's entry under consent; the police, on the
    # team but not covered, see only the pseudonym.
    social = User.objects.get(username="socialtjanst")
    police = User.objects.get(username="polis")
    case = next(
        c
        for c in case_selectors.my_cases(viewer=police)
        if c.case.raising_agency.name.endswith("Skola")
    ).case
    access = disclosure_selectors.case_open(viewer=social, pk=case.pk)
    texts = [v.text for v in disclosure_selectors.entry_listing(access).visible]
    assert "Frånvaro 35 % i oktober, mest måndagar." in texts
    assert access.identity.basis.startswith("consent:")
    police_access = disclosure_selectors.case_open(viewer=police, pk=case.pk)
    assert not police_access.identity
    assert [v.text for v in disclosure_selectors.entry_listing(police_access).visible] == [
        "Påträffad i centrum sent en vardagskväll."
    ]


# --- Issue 19, gap 8: the seed's story, completely ------------------------------------------


def _story() -> tuple[Any, Any]:
    from samverkan.promises.models import Agreement, Kind

    promise = Agreement.objects.get(kind=Kind.PROMISE, municipality__code="2084")
    successor = Agreement.objects.get(kind=Kind.COOPERATION, municipality__code="2084")
    return promise, successor


def test_demo_successor_has_its_mandate_and_commitments(db, client_for):
    """(a) The successor's "mandat och åtagande" is its own field, shown on the public page."""
    demo.load()
    promise, successor = _story()
    assert successor.mandate.startswith("Mandat:")
    assert "Åtagande:" in successor.mandate
    assert "Mandat:" not in successor.situation_summary
    assert promise.mandate == ""
    page = client_for(None).get(reverse("tracker:detail", args=[successor.pk])).content.decode()
    assert "Åtagande:" in page


def test_demo_promise_commitment_links_the_group_it_started(db, client_for):
    """(b) "Start an SSPF group" links to the collaboration group, shown as a link to staff who
    may open the group."""
    from samverkan.organisations.models import CollaborationGroup

    demo.load()
    promise, successor = _story()
    sspf = CollaborationGroup.objects.get(name="SSPF Avesta")
    started = promise.commitments.get(text__startswith="Starta en lokalt strukturerad")
    assert started.group == sspf
    assert successor.commitments.filter(group=sspf).exists()
    editor = User.objects.get(username="avtal")
    c = client_for(editor)
    page = c.get(reverse("promises:detail", args=[promise.pk])).content.decode()
    link = reverse("promises:commitment_group", args=[promise.pk, started.pk])
    assert f'href="{link}">SSPF Avesta</a>' in page
    group_page = c.get(link).content.decode()
    assert "SSPF Avesta" in group_page
    assert "Avesta kommun, Skola" in group_page  # the agencies that sit in it, not the people
    public = client_for(None).get(reverse("tracker:detail", args=[promise.pk])).content.decode()
    assert "SSPF Avesta" in public
    assert link not in public


def test_demo_promise_was_extended_with_the_extension_feature(db):
    """(c) The article: the promise was extended. One extension, by a year, with a reason."""
    from samverkan.indicators.demo import promise_year
    from samverkan.promises.models import AgreementStatus

    demo.load()
    promise, _ = _story()
    year = promise_year()
    (extension,) = promise.extensions.all()
    assert (extension.previous_end, extension.new_end) == (
        date(year, 12, 31),
        date(year + 1, 12, 31),
    )
    assert extension.reason
    assert promise.period_end == extension.new_end
    assert promise.status == AgreementStatus.ASSESSED
    assert promise.versions.filter(action="extended").exists()


def test_demo_drug_use_promise_follows_a_pupils_survey(db):
    """(d) The drug-use promise's indicator: pupils in year 9 reporting narcotics use, fictional."""
    from samverkan.indicators.models import Indicator

    demo.load()
    promise, _ = _story()
    linked = Indicator.objects.filter(commitments__agreement=promise).distinct()
    (survey,) = linked
    assert "årskurs 9" in survey.name
    assert "narkotika" in survey.name
    assert "FIKTIVA" in survey.description
    assert "fiktiva" in survey.source
    assert survey.published
    years = sorted(int(v.period_label) for v in survey.values.all())
    assert years[-1] == timezone.localdate().year - 1  # the last survey: last spring
    assert promise.period_start.year in years


def _story_problems() -> list[str]:
    """What is out of step with today in the loaded demo."""
    from samverkan.cases.models import ConcernReport
    from samverkan.indicators.models import IndicatorValue
    from samverkan.promises.models import Activity, Assessment, FollowUp, Signatory

    today = timezone.localdate()
    problems: list[str] = []
    promise, successor = _story()
    if promise.period_start.year != today.year - 7:
        problems.append(f"the promise starts in {promise.period_start.year}")
    if not successor.period_start <= today <= successor.period_end or successor.past_end:
        problems.append("the successor is not running today")
    if not promise.period_start < successor.period_start < promise.period_end:
        problems.append("the successor does not overlap the promise's end")
    dated = [
        *Signatory.objects.values_list("signed_on", flat=True),
        *Activity.objects.values_list("date", flat=True),
        *FollowUp.objects.values_list("date", flat=True),
        *Assessment.objects.values_list("assessed_on", flat=True),
        *ConcernReport.objects.values_list("reported_on", flat=True),
    ]
    problems += [f"{d} is in the future" for d in dated if d > today]
    recent = Activity.objects.filter(
        commitment__agreement=successor, date__gte=today.replace(day=1) - timedelta(days=200)
    )
    if not recent.exists():
        problems.append("the running agreement has no recent activity")
    years = {int(v.period_label) for v in IndicatorValue.objects.all()}
    if max(years) >= today.year:
        problems.append(f"an indicator value for {max(years)}, not yet surveyed")
    for demo_case in demo.CASES:
        born = demo_case.born
        age = today.year - born.year - ((today.month, today.day) < (born.month, born.day))
        if age != demo_case.birth.age:
            problems.append(f"a youth is {age}, not {demo_case.birth.age}")
    return problems


def test_demo_dates_are_relative_to_today(db):
    """(e) No literal year: today the story is in step, and so it is years from now."""
    demo.load()
    assert _story_problems() == []


def test_demo_dates_stay_coherent_in_another_year(db):
    """(e) Loaded in 2031 the story moves with it: the promise in 2024, the successor running."""
    import time_machine

    with time_machine.travel(datetime(2031, 5, 15, 10, tzinfo=UTC), tick=False):
        demo.load()
        assert _story_problems() == []
        promise, _ = _story()
        assert promise.period_start == date(2024, 3, 22)
        assert promise.title == "Medborgarlöfte Avesta 2024–2025"


def test_demo_cases_past_awaiting_consent_went_on_under_a_consent(db):
    """Rule 16: every case of several agencies that left "awaiting consent" has a consent that
    was active when it did; the meeting discusses the case without consent anonymously."""
    from samverkan.audit.models import AuditEvent
    from samverkan.disclosure.facts import consent_queryset, facts_of
    from samverkan.disclosure.policy import State, state_at
    from samverkan.meetings.models import AgendaItem

    demo.load()
    for case in Case.objects.prefetch_related("team"):
        left = AuditEvent.objects.filter(
            action="case.status_changed", case_id=case.pk, details__from="awaiting_consent"
        ).first()
        agencies = {m.agency_id for m in case.team.all()}
        if left is None or agencies == {case.raising_agency_id}:
            continue
        assert any(
            state_at(facts_of(c), left.occurred_at) == State.ACTIVE
            for c in consent_queryset().filter(case=case)
        ), case.youth.pseudonym
    anonymous = AgendaItem.objects.get(discussed_anonymously_at__isnull=False)
    assert anonymous.minutes_enc == ""
    assert not anonymous.actions.exists()
    # Noah's consent is waiting for his co-signature since he turned 15: it covers nothing.
    now = timezone.now()
    assert State.ACTIVE not in {
        state_at(facts_of(c), now) for c in consent_queryset().filter(case=anonymous.case)
    }
