"""The run: organisations, then a few municipalities at a time their meetings and youths' cases,
each chunk written through the services' bulk helpers, then the audit chain, then agreements
and indicators through the services, then the anonymised facts."""

from __future__ import annotations

import time as clock
from collections import defaultdict
from collections.abc import Callable, Iterable
from datetime import timedelta

from django.db import transaction

from samverkan.audit.sealing import audit_seal
from samverkan.cases.services import CASE_TABLES, cases_create_bulk
from samverkan.consent.services import CONSENT_TABLES, consents_create_bulk
from samverkan.meetings.models import AgendaItem
from samverkan.meetings.services import MEETING_TABLES, meetings_create_bulk
from samverkan.plans.services import PLAN_TABLES, plans_create_bulk
from samverkan.synth.base import CHUNK, Builder, Chunk, SynthOptions, SynthReport
from samverkan.synth.cases import CaseStory, youth
from samverkan.synth.meetings import town_meetings
from samverkan.synth.organisations import Town, organisations
from samverkan.synth.promises import agreement

_OWNED = {*CASE_TABLES, *CONSENT_TABLES, *MEETING_TABLES, *PLAN_TABLES}


def _save_chunk(b: Builder, chunk: Chunk) -> None:
    """Every row of the chunk, each table written by the service that owns it."""
    unowned = sorted(m._meta.label for m in chunk.rows if m not in _OWNED)
    if unowned:
        raise AssertionError(f"no service writes {', '.join(unowned)}")
    b.count(cases_create_bulk(chunk.rows, pseudonyms=b.pseudonyms))
    b.count(consents_create_bulk(chunk.rows))
    b.count(meetings_create_bulk(chunk.rows))
    b.count(plans_create_bulk(chunk.rows))
    b.audit.resolve()


def _town_chunk(b: Builder, towns: Iterable[Town]) -> None:
    rng = b.rng
    chunk = Chunk()
    span_days = max(1, (b.end - b.start).days)
    for town in towns:
        meetings = town_meetings(b, chunk, town)
        agenda: dict[int, list[AgendaItem]] = defaultdict(list)
        for _ in range(b.options.youths_per_municipality):
            girl = rng.random() < 0.42
            raised = b.work_time(b.start + timedelta(days=rng.randint(0, span_days - 1)))
            if raised > b.now:
                raised = b.now - timedelta(hours=1)
            registered = youth(b, town, raised, girl=girl)
            chunk.add(registered)
            story = CaseStory(b, chunk, town, registered, raised, agenda, meetings)
            b.audit.add(raised, "youth.registered", actor=story.raiser.pk, obj=registered)
            story.write()
            # One in ten comes back: a second case after the first has closed.
            first_closed = story.closed_at
            if first_closed is not None and rng.random() < 0.1:
                again = b.after(first_closed, 30, 200)
                if again <= b.now:
                    CaseStory(b, chunk, town, registered, again, agenda, meetings).write()
    _save_chunk(b, chunk)


def synth_generate(
    *, options: SynthOptions, progress: Callable[[str], None] | None = None
) -> SynthReport:
    """Generate the data set into the configured database, in one transaction, then build the
    anonymised facts. Call ``synth_check_allowed`` first."""
    say = progress or (lambda message: None)
    report = SynthReport()
    began = clock.monotonic()
    with transaction.atomic():
        b = Builder(options, report, say)
        towns = organisations(b)
        say(f"organisations: {len(towns)} municipalities, {report.counts['accounts.User']} staff")
        for index in range(0, len(towns), CHUNK):
            part = towns[index : index + CHUNK]
            _town_chunk(b, part)
            say(
                f"municipalities {index + len(part)}/{len(towns)}: "
                f"{report.counts['cases.Case']} cases, {len(b.audit.resolved)} audit events"
            )
        report.seconds["rows"] = clock.monotonic() - began
        mark = clock.monotonic()
        report.counts["audit.AuditEvent"] = b.audit.write()
        report.seconds["audit"] = clock.monotonic() - mark
    say(f"audit chain: {report.counts['audit.AuditEvent']} events appended")
    mark = clock.monotonic()
    for town in towns:
        with transaction.atomic():
            agreement(b, town)
    report.counts["promises.Agreement"] = len(towns)
    report.counts["indicators.Indicator"] = len(towns)
    report.seconds["agreements"] = clock.monotonic() - mark
    say(f"agreements and indicators: {len(towns)} of each, through the services")
    mark = clock.monotonic()
    from samverkan.stats.facts import facts_refresh

    # A full build, as the nightly job makes it, so the dashboard can say when it was built.
    report.facts = facts_refresh()
    report.seconds["facts"] = clock.monotonic() - mark
    # The services wrote their events unsealed (PostgreSQL, D28); the set is handed over with
    # the whole log sealed, as if a worker had run all along.
    audit_seal()
    report.seconds["total"] = clock.monotonic() - began
    return report
