"""A running agreement past its end date is flagged — derived from its status and today, never
stored — to editors and the council ("extend or assess it") and, as a neutral note, to the
public."""

from __future__ import annotations

from datetime import date

import time_machine
from django.urls import reverse

from samverkan.promises import services
from samverkan.promises.models import AgreementStatus, Verdict

STAFF_FLAG = "Past its end date: extend or assess it."
PUBLIC_NOTE = "The period has ended; the parties have not yet extended or assessed the agreement."

# The promise world's promise runs 2019-03-22 – 2020-12-31 and is active.
DURING = "2020-06-01 12:00 +02:00"
ON_THE_LAST_DAY = "2020-12-31 12:00 +01:00"
AFTER = "2021-01-01 12:00 +01:00"


def test_derived_from_status_and_today(personas, promise_world):
    promise, draft = promise_world.promise, promise_world.draft
    for moment, expected in ((DURING, False), (ON_THE_LAST_DAY, False), (AFTER, True)):
        with time_machine.travel(moment, tick=False):
            assert promise.past_end is expected, moment
            assert not draft.past_end  # a draft is not running
    with time_machine.travel(AFTER, tick=False):
        promise = services.agreement_extend(
            actor=personas.agreement_editor,
            agreement=promise,
            new_end=date(2021, 12, 31),
            reason="Arbetet fortsätter.",
        ).agreement
        assert promise.status == AgreementStatus.EXTENDED
        assert not promise.past_end
    with time_machine.travel("2022-01-01 12:00 +01:00", tick=False):
        promise.refresh_from_db()
        assert promise.past_end  # extended, and past the new end too


def test_an_assessed_agreement_is_not_flagged(personas, promise_world):
    for party in (promise_world.police, promise_world.municipality):
        services.assessment_record(
            actor=promise_world.assessor(party),
            agreement=promise_world.promise,
            party=party,
            verdict=Verdict.FULFILLED,
            statement="Uppfyllt.",
            assessed_on=date(2021, 1, 15),
        )
    promise = services.agreement_transition(
        actor=personas.agreement_editor, agreement=promise_world.promise, to="assessed"
    )
    assert not promise.past_end


def test_editors_and_the_council_see_the_flag(client_for, personas, promise_world):
    pages = (
        reverse("promises:list"),
        reverse("promises:detail", args=[promise_world.promise.pk]),
        reverse("tracker:council"),
    )
    for persona in (personas.agreement_editor, personas.council_member):
        client = client_for(persona)
        with time_machine.travel(AFTER, tick=False):
            for url in pages:
                assert STAFF_FLAG in client.get(url).content.decode(), url
        with time_machine.travel(DURING, tick=False):
            for url in pages:
                assert STAFF_FLAG not in client.get(url).content.decode(), url
    with time_machine.travel(AFTER, tick=False):
        draft = reverse("promises:detail", args=[promise_world.draft.pk])
        assert STAFF_FLAG not in client_for(personas.agreement_editor).get(draft).content.decode()


def test_the_public_sees_a_neutral_note(client, promise_world):
    pages = (reverse("tracker:list"), reverse("tracker:detail", args=[promise_world.promise.pk]))
    with time_machine.travel(AFTER, tick=False):
        for url in pages:
            html = client.get(url, HTTP_ACCEPT_LANGUAGE="en").content.decode()
            assert PUBLIC_NOTE in html, url
            assert STAFF_FLAG not in html
    with time_machine.travel(DURING, tick=False):
        for url in pages:
            assert PUBLIC_NOTE not in client.get(url, HTTP_ACCEPT_LANGUAGE="en").content.decode()


def test_the_api_says_past_end(client, personas, promise_world):
    from tests.promises.test_api import token

    with time_machine.travel(AFTER, tick=False):
        public = client.get(f"/api/v1/promises/{promise_world.promise.pk}").json()
        assert public["past_end"] is True
        rows = client.get("/api/v1/agreements", **token(personas.council_member)).json()
        assert {r["id"]: r["past_end"] for r in rows} == {
            promise_world.promise.pk: True,
            promise_world.draft.pk: False,
        }
    with time_machine.travel(DURING, tick=False):
        public = client.get(f"/api/v1/promises/{promise_world.promise.pk}").json()
        assert public["past_end"] is False
