"""Issue 5's browser acceptance test: an agreement editor creates a citizen promise with
commitments for two parties, each linked to the agency that speaks for it, publishes it, logs an
activity and records a follow-up through the editor pages under /agreements/; an anonymous
visitor sees it on the public tracker; each party assesses it fulfilled — the municipality
through the municipal editor, the police through a police editor logged in in a browser of
their own — and then it shows as fulfilled. The public pages (list and detail) pass axe-core
(WCAG 2.1 A/AA) in Swedish and English, and no page logs a CSP violation.

Elements are found by form field names and form actions rather than by visible text, so the
test does not depend on the translation of a button.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import date, timedelta
from typing import Any

import pytest
from django.utils import timezone
from playwright.sync_api import Browser, Page, expect

from samverkan.accounts.models import User
from samverkan.organisations.models import Role
from samverkan.promises.models import Agreement, Assessment, Commitment, Party
from tests.conftest import World
from tests.e2e.browser import (
    LOGIN_URL,
    MFA_URL,
    assert_accessible,
    assert_language,
    fresh_totp_code,
    submit_code,
    submit_password,
    switch_language,
)
from tests.e2e.conftest import TIMEOUT_MS, Console
from tests.helpers import make_user

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

TITLE = "Medborgarlöfte Testby: tryggare centrum"
POLICE_PROMISE = "Polisen genomför trygghetsvandringar i centrum tillsammans med invånarna."
MUNICIPALITY_PROMISE = "Kommunen förbättrar belysningen i gångtunnlarna vid stationen."
ACTIVITY = "Första trygghetsvandringen, med tolv deltagare."
NARRATIVE = "Arbetet har kommit igång; belysningen är beställd."
CAUSE_NOTE = "Arbetsanteckning för parterna: publiceras inte."


def path_of(page: Page) -> str:
    return re.sub(r"^https?://[^/]+", "", page.url).split("?", 1)[0]


def log_in(page: Page, user: User) -> None:
    page.goto(LOGIN_URL)
    submit_password(page, user.username)
    assert path_of(page) == MFA_URL, "password alone must not log in"
    submit_code(page, fresh_totp_code(user.totp_secret))  # type: ignore[attr-defined]
    assert path_of(page) == "/"


def submit(page: Page, form: str) -> None:
    """Press the submit button of the form matched by ``form``, waiting for the next page."""
    with page.expect_navigation():
        page.locator(f"{form} button[type=submit]").first.click()


def check(page: Page, console: Console, what: str) -> None:
    page.wait_for_load_state("load")
    assert_accessible(page, what)
    console.assert_clean()


def _profile(browser: Browser, live_server: Any) -> Iterator[tuple[Page, Console]]:
    """Another browser profile (its own cookies) beside the editor's, with its own console."""
    console = Console()
    context = browser.new_context(base_url=live_server.url, locale="sv-SE")
    context.set_default_timeout(TIMEOUT_MS)
    page = context.new_page()
    page.on("console", console.on_console)
    page.on("response", console.on_response)
    page.on("pageerror", lambda error: console.errors.append(f"page error: {error}"))
    yield page, console
    context.close()
    console.assert_clean()


@pytest.fixture
def visitor(browser: Browser, live_server: Any) -> Iterator[tuple[Page, Console]]:
    """An anonymous visitor."""
    yield from _profile(browser, live_server)


@pytest.fixture
def police_browser(browser: Browser, live_server: Any) -> Iterator[tuple[Page, Console]]:
    """The police's agreement editor, who records the police party's assessment."""
    yield from _profile(browser, live_server)


def assert_chart_loaded(page: Page) -> None:
    """The SVG chart arrived and decoded as an image (under its own CSP)."""
    image = page.locator("main img[src$='/progress.svg']")
    expect(image).to_have_count(1)
    assert image.get_attribute("alt")
    page.wait_for_function(
        "img => img.complete && img.naturalWidth > 0", arg=image.element_handle()
    )


def _create_the_draft(page: Page, world: World, today: date) -> Agreement:
    avesta = world.avesta_school.municipality
    assert avesta is not None
    page.goto("/agreements/new/")
    page.select_option("select[name=kind]", "promise")
    page.fill("input[name=title]", TITLE)
    page.select_option("select[name=municipality]", str(avesta.pk))
    page.fill("input[name=period_start]", (today - timedelta(days=30)).isoformat())
    page.fill("input[name=period_end]", (today + timedelta(days=700)).isoformat())
    page.fill("input[name=focus_area]", "Otrygghet i centrum")
    page.fill("textarea[name=situation_summary]", "Många känner sig otrygga vid stationen.")
    page.fill("textarea[name=cause_analysis]", CAUSE_NOTE)
    submit(page, "main form[method=post]")
    agreement = Agreement.objects.get(title=TITLE)
    assert path_of(page) == f"/agreements/{agreement.pk}/"
    assert not agreement.published
    return agreement


def _add_the_parties(page: Page, world: World, agreement: Agreement) -> tuple[Party, Party]:
    """The police and the municipality, each speaking through its agency."""
    parties_form = f"form[action='/agreements/{agreement.pk}/parties/']"
    for name, kind, agency in (
        ("Polisen LPO Falun", "police", world.police),
        ("Avesta kommun", "municipality", world.avesta_other),
    ):
        page.fill(f"{parties_form} input[name=name]", name)
        page.select_option(f"{parties_form} select[name=kind]", kind)
        page.select_option(f"{parties_form} select[name=agency]", str(agency.pk))
        submit(page, parties_form)
    return (
        Party.objects.get(agreement=agreement, kind="police"),
        Party.objects.get(agreement=agreement, kind="municipality"),
    )


def _add_the_commitments(
    page: Page, agreement: Agreement, police: Party, municipality: Party
) -> tuple[Commitment, Commitment]:
    """A commitment for each party; the police one has a countable target."""
    commitment_form = f"form[action='/agreements/{agreement.pk}/commitments/']"
    for party, text, target in (
        (police, POLICE_PROMISE, "2"),
        (municipality, MUNICIPALITY_PROMISE, ""),
    ):
        page.select_option(f"{commitment_form} select[name=party]", str(party.pk))
        page.fill(f"{commitment_form} textarea[name=text]", text)
        if target:
            page.fill(f"{commitment_form} input[name=target_count]", target)
            page.fill(f"{commitment_form} input[name=target_unit]", "vandringar per år")
        submit(page, commitment_form)
    expect(page.locator("main")).to_contain_text(POLICE_PROMISE)
    expect(page.locator("main")).to_contain_text(MUNICIPALITY_PROMISE)
    return (
        Commitment.objects.get(agreement=agreement, party=police),
        Commitment.objects.get(agreement=agreement, party=municipality),
    )


def _sign_activate_and_publish(
    page: Page, agreement: Agreement, police: Party, municipality: Party, today: date
) -> None:
    """A signatory for each party, then signed, active and published."""
    pk = agreement.pk
    signatory_form = f"form[action='/agreements/{pk}/signatories/']"
    for party, name, title in (
        (police, "Eva Exempel", "Lokalpolisområdeschef"),
        (municipality, "Per Exempel", "Kommunalråd"),
    ):
        page.select_option(f"{signatory_form} select[name=party]", str(party.pk))
        page.fill(f"{signatory_form} input[name=name]", name)
        page.fill(f"{signatory_form} input[name=title]", title)
        page.fill(f"{signatory_form} input[name=signed_on]", today.isoformat())
        page.fill(f"{signatory_form} input[name=place]", "Avesta")
        submit(page, signatory_form)
    status_form = f"form[action='/agreements/{pk}/status/']"
    for status in ("signed", "active"):
        page.select_option(f"{status_form} select[name=to]", status)
        submit(page, status_form)
        agreement.refresh_from_db()
        assert agreement.status == status
    submit(page, f"form[action='/agreements/{pk}/publish/']")
    agreement.refresh_from_db()
    assert agreement.published


def _log_an_activity_and_a_follow_up(
    page: Page, pk: int, police: Commitment, municipality: Commitment, today: date
) -> None:
    """An activity under the police commitment, from the commitment's page; then a follow-up
    with where each commitment stands."""
    page.goto(f"/agreements/{pk}/commitments/{police.pk}/")
    activity_form = f"form[action='/agreements/{pk}/commitments/{police.pk}/activities/']"
    page.fill(f"{activity_form} input[name=date]", today.isoformat())
    page.fill(f"{activity_form} textarea[name=description]", ACTIVITY)
    page.fill(f"{activity_form} input[name=count]", "1")
    submit(page, activity_form)
    assert path_of(page) == f"/agreements/{pk}/"

    follow_up_form = f"form[action='/agreements/{pk}/follow-ups/']"
    page.fill(f"{follow_up_form} input[name=date]", today.isoformat())
    page.fill(f"{follow_up_form} textarea[name=narrative]", NARRATIVE)
    page.select_option(f"{follow_up_form} select[name=progress_{police.pk}]", "on_track")
    page.select_option(f"{follow_up_form} select[name=progress_{municipality.pk}]", "not_started")
    submit(page, follow_up_form)
    expect(page.locator("main")).to_contain_text(NARRATIVE)


def _visitor_follows_it_on_the_tracker(anon: Page, anon_console: Console, pk: int) -> None:
    """From the start page in Swedish, then in English through the language switch."""
    anon.goto("/")
    with anon.expect_navigation():
        anon.locator("header a[href='/promises/']").click()
    assert path_of(anon) == "/promises/"
    assert_language(anon, "sv")
    main = anon.locator("main")
    expect(main).to_contain_text(TITLE)
    expect(main).to_contain_text(POLICE_PROMISE)
    expect(main).to_contain_text(MUNICIPALITY_PROMISE)
    expect(main).to_contain_text(NARRATIVE[:30])
    assert CAUSE_NOTE not in anon.content()
    check(anon, anon_console, "public tracker list (sv)")

    with anon.expect_navigation():
        anon.locator(f"main a[href='/promises/{pk}/']").first.click()
    assert path_of(anon) == f"/promises/{pk}/"
    expect(main).to_contain_text(ACTIVITY)
    expect(main).to_contain_text(NARRATIVE)
    expect(main).to_contain_text("Eva Exempel")
    expect(anon.locator("main table.indicator-table tbody td").first).to_have_text("1")
    assert_chart_loaded(anon)
    expect(anon.locator(".fulfilment-pending")).to_have_count(1)
    assert CAUSE_NOTE not in anon.content()
    check(anon, anon_console, "public promise page (sv)")

    switch_language(anon, "en")
    assert path_of(anon) == f"/promises/{pk}/"
    expect(main).to_contain_text("Commitments")
    assert_chart_loaded(anon)
    check(anon, anon_console, "public promise page (en)")
    anon.goto("/promises/")
    assert_language(anon, "en")
    expect(main).to_contain_text(TITLE)
    check(anon, anon_console, "public tracker list (en)")


def _assess_fulfilled(
    browser_page: Page, pk: int, party: Party, statement: str, today: date
) -> None:
    assessment_form = f"form[action='/agreements/{pk}/assessments/']"
    # The form offers only the party the editor speaks for.
    options = browser_page.locator(f"{assessment_form} select[name=party] option")
    expect(options).to_have_count(1)
    expect(options).to_have_attribute("value", str(party.pk))
    browser_page.select_option(f"{assessment_form} select[name=verdict]", "fulfilled")
    browser_page.fill(f"{assessment_form} textarea[name=statement]", statement)
    browser_page.fill(f"{assessment_form} input[name=assessed_on]", today.isoformat())
    submit(browser_page, assessment_form)
    assert path_of(browser_page) == f"/agreements/{pk}/"


def _visitor_sees_it_fulfilled(anon: Page, anon_console: Console, pk: int) -> None:
    """On the list and on its page, in both languages."""
    main = anon.locator("main")
    anon.goto(f"/promises/{pk}/")
    expect(anon.locator(".fulfilment-fulfilled")).to_have_count(1)
    expect(main).to_contain_text("Polisen bedömer löftet som uppfyllt.")
    expect(main).to_contain_text("Kommunen bedömer löftet som uppfyllt.")
    check(anon, anon_console, "fulfilled promise page (en)")
    switch_language(anon, "sv")
    expect(anon.locator(".fulfilment-fulfilled")).to_have_count(1)
    check(anon, anon_console, "fulfilled promise page (sv)")
    anon.goto("/promises/")
    expect(anon.locator(f"article[aria-labelledby='a-{pk}'] .fulfilment-fulfilled")).to_have_count(
        1
    )
    check(anon, anon_console, "public tracker list with a fulfilled promise (sv)")


def test_editor_publishes_a_promise_and_the_public_follows_it_to_fulfilment(
    page: Page,
    console: Console,
    visitor: tuple[Page, Console],
    police_browser: tuple[Page, Console],
    world: World,
) -> None:
    editor = make_user("e2e-redaktor", world.avesta_other, Role.AGREEMENT_EDITOR)
    police_editor = make_user("e2e-kommunpolis", world.police, Role.AGREEMENT_EDITOR)
    today = timezone.localdate()

    # --- The editor creates the promise as a draft, and runs it to a follow-up. ----------
    log_in(page, editor)
    agreement = _create_the_draft(page, world, today)
    pk = agreement.pk
    police, municipality = _add_the_parties(page, world, agreement)
    police_commitment, municipality_commitment = _add_the_commitments(
        page, agreement, police, municipality
    )
    _sign_activate_and_publish(page, agreement, police, municipality, today)
    _log_an_activity_and_a_follow_up(page, pk, police_commitment, municipality_commitment, today)
    console.assert_clean()

    # --- An anonymous visitor finds it on the public tracker. -----------------------------
    anon, anon_console = visitor
    _visitor_follows_it_on_the_tracker(anon, anon_console, pk)

    # --- Each party assesses the promise fulfilled, through its own editor. ------------
    page.goto(f"/agreements/{pk}/")
    _assess_fulfilled(page, pk, municipality, "Kommunen bedömer löftet som uppfyllt.", today)
    console.assert_clean()
    anon.goto(f"/promises/{pk}/")
    expect(anon.locator(".fulfilment-pending")).to_have_count(1)  # the police have not yet

    police_page, police_console = police_browser
    log_in(police_page, police_editor)
    police_page.goto(f"/agreements/{pk}/")
    _assess_fulfilled(police_page, pk, police, "Polisen bedömer löftet som uppfyllt.", today)
    police_console.assert_clean()
    assert {
        a.party_id: a.recorded_by_id for a in Assessment.objects.filter(agreement=agreement)
    } == {
        police.pk: police_editor.pk,
        municipality.pk: editor.pk,
    }

    _visitor_sees_it_fulfilled(anon, anon_console, pk)
