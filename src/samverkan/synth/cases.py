"""One case's life from raising to now: youth, team, guardians, journal, views, transitions.

Rows are made by the cases services' per-row functions (``youth_prepare``, ``case_prepare``,
``guardian_link_prepare``, ``entry_prepare``) and written by ``cases_create_bulk``.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta
from typing import Any

from samverkan.accounts.models import User
from samverkan.cases.models import (
    Case,
    CaseTeamMember,
    ClosureReason,
    ConcernReport,
    EntryVersion,
    FactorKind,
    Gender,
    GuardianLink,
    Status,
    Youth,
)
from samverkan.cases.services import (
    case_prepare,
    entry_prepare,
    guardian_link_prepare,
    youth_prepare,
)
from samverkan.consent.models import Consent
from samverkan.disclosure.policy import BASIS_OWN_AGENCY
from samverkan.meetings.models import AgendaItem, Meeting
from samverkan.organisations.models import Agency, Sector
from samverkan.plans.models import ActionPlan, Intervention
from samverkan.synth import words
from samverkan.synth.base import Builder, Chunk, day_of
from samverkan.synth.consent import consent_path
from samverkan.synth.meetings import agenda
from samverkan.synth.organisations import Town

# (consent, active from, active until, agency ids): when a consent covered whom.
Covering = tuple[Consent, datetime, datetime, list[int]]


def youth(b: Builder, town: Town, raised: datetime, *, girl: bool) -> Youth:
    """A youth of 10–17 registered when the first case is raised."""
    rng = b.rng
    age = rng.choices(range(10, 18), weights=[3, 6, 10, 15, 20, 20, 15, 11])[0]
    born = day_of(raised) - timedelta(days=age * 365 + rng.randint(0, 364))
    digits = b.number(born, girl=girl, kind="youth")
    gender = Gender.GIRL if girl else Gender.BOY
    roll = rng.random()
    if roll < 0.04:
        gender = Gender.UNKNOWN
    elif roll < 0.05:
        gender = Gender.OTHER
    first = rng.choice(words.GIRLS if girl else words.BOYS)
    return youth_prepare(
        municipality=town.municipality,
        identity_number=digits,
        name=f"{first} {rng.choice(words.SURNAMES)}",
        gender=gender,
        pseudonyms=b.pseudonyms,
        year=day_of(raised).year,
    )


class CaseStory:
    """One case's life from raising to now, written as rows and audit events."""

    def __init__(
        self,
        b: Builder,
        chunk: Chunk,
        town: Town,
        youth: Youth,
        raised: datetime,
        agenda: dict[int, list[AgendaItem]],
        meetings: list[Meeting],
    ) -> None:
        self.b, self.chunk, self.town, self.youth = b, chunk, town, youth
        self.rng = b.rng
        self.raised = raised
        self.agenda = agenda
        self.meetings = meetings
        sector = self.rng.choices(
            [Sector.SCHOOL, Sector.SOCIAL_SERVICES, Sector.POLICE, Sector.LEISURE],
            weights=[40, 25, 25, 10],
        )[0]
        self.raising_agency = town.agencies[sector]
        self.raiser = self.rng.choice(town.practitioners[sector])
        self.team: list[tuple[User, Agency, datetime]] = []
        self.links: list[GuardianLink] = []
        self.closed_at: datetime | None = None
        self.active: list[Covering] = []
        self.plan: ActionPlan | None = None
        self.interventions: list[tuple[Intervention, User]] = []

    def audit(self, at: datetime, action: str, **kwargs: Any) -> None:
        self.b.audit.add(at, action, case=self.case, **kwargs)

    def until(self) -> datetime:
        return self.closed_at or self.b.now

    def transition(self, at: datetime, to: Status, actor: User, **closure: str) -> bool:
        """Move the case on at ``at``; False (and nothing happens) when that lies ahead."""
        if at > self.b.now or self.case.status == Status.CLOSED:
            return False
        previous = self.case.status
        self.case.status = to
        self.case.status_changed_at = at
        if to == Status.CLOSED:
            self.case.closed_at = at
            self.case.closure_reason = closure["reason"]
            self.case.closure_outcome = words.CLOSURE_OUTCOMES[ClosureReason(closure["reason"])]
            self.closed_at = at
        self.audit(
            at,
            "case.status_changed",
            actor=actor.pk,
            obj=self.case,
            details={"from": previous, "to": str(to)},
        )
        return True

    def write(self) -> None:
        b, rng, raised = self.b, self.rng, self.raised
        case, member = case_prepare(
            youth=self.youth,
            group=self.town.group,
            agency=self.raising_agency,
            raised_by=self.raiser,
            raised_at=raised,
            reason=rng.choice(words.REASONS),
        )
        self.case = case
        self.chunk.add(case)
        risks = rng.sample(b.factors[FactorKind.RISK], k=min(2, len(b.factors[FactorKind.RISK])))
        for pk in risks:
            self.chunk.add(Case.risk_factors.through(case=case, factor_id=pk))
        for pk in rng.sample(b.factors[FactorKind.PROTECTIVE], k=rng.randint(0, 2)):
            self.chunk.add(Case.protective_factors.through(case=case, factor_id=pk))
        self.audit(
            raised,
            "case.raised",
            actor=self.raiser.pk,
            agency=self.raising_agency.pk,
            obj=case,
            details={"group_id": self.town.group.pk},
        )
        self.chunk.add(member)
        self.team.append((self.raiser, self.raising_agency, raised))
        self._team()
        self._guardians()
        self._concern()
        consent_path(self)
        self._entries()
        agenda(self)
        self._views()

    def _team(self) -> None:
        coordinator = self.town.coordinator
        others = [
            (u, a)
            for u, a in self.town.seats
            if a.pk != self.raising_agency.pk and u.pk != coordinator.pk
        ]
        social = [(u, a) for u, a in others if a.sector == Sector.SOCIAL_SERVICES]
        rest = [(u, a) for u, a in others if a.sector != Sector.SOCIAL_SERVICES]
        chosen = self.rng.sample(social, k=1) if social else []
        seen = {self.raising_agency.pk, *(a.pk for _, a in chosen)}
        for user, agency in self.rng.sample(rest, k=len(rest)):
            if agency.pk not in seen and len(chosen) < self.rng.randint(1, 3):
                chosen.append((user, agency))
                seen.add(agency.pk)
        for user, agency in chosen:
            # The coordinator assigns the team within a couple of days of the raising.
            at = self.raised + timedelta(hours=self.rng.randint(1, 48))
            if at > self.b.now:
                continue
            member = CaseTeamMember(
                case=self.case, user=user, agency=agency, added_by=coordinator, added_at=at
            )
            self.chunk.add(member)
            self.team.append((user, agency, at))
            self.audit(
                at,
                "case_team.added",
                actor=coordinator.pk,
                agency=agency.pk,
                obj=member,
                details={"user_id": user.pk},
            )

    def _guardians(self) -> None:
        b, rng = self.b, self.rng
        count = rng.choices([1, 2, 3], weights=[25, 60, 15])[0]
        surname = rng.choice(words.SURNAMES)
        for index in range(count):
            # Recorded by the raiser right after raising: consent needs the custodians first.
            at = self.raised + timedelta(minutes=rng.randint(5, 120))
            if at > b.now:
                continue
            has_custody = index < 2 and (index == 0 or rng.random() < 0.9)
            born = date(rng.randint(1968, 1992), rng.randint(1, 12), rng.randint(1, 28))
            digits = b.number(born, girl=None, kind="guardian") if rng.random() < 0.92 else ""
            first = rng.choice(words.ADULTS)
            address = ""
            if rng.random() < 0.6:
                address = f"{first}.{surname}.{rng.randint(1, 9999)}@exempel.invalid".lower()
            link = guardian_link_prepare(
                case=self.case,
                identity_number=digits,
                name=f"{first} {surname}",
                has_custody=has_custody,
                email=address,
            )
            self.chunk.add(link.guardian)
            self.chunk.add(link)
            self.links.append(link)
            self.audit(
                at,
                "guardian.linked",
                actor=self.raiser.pk,
                obj=link,
                details={"has_custody": has_custody},
            )

    def _concern(self) -> None:
        if self.raising_agency.sector == Sector.SOCIAL_SERVICES or self.rng.random() > 0.25:
            return
        at = self.b.after(self.raised, 0, 3)
        if at > self.b.now:
            return
        report = ConcernReport(
            case=self.case,
            agency=self.raising_agency,
            reported_by=self.raiser,
            reported_on=day_of(at),
        )
        self.audit(
            at,
            "concern_report.recorded",
            actor=self.raiser.pk,
            agency=self.raising_agency.pk,
            obj=report,
        )
        social = [(u, t) for u, a, t in self.team if a.sector == Sector.SOCIAL_SERVICES]
        if social and self.rng.random() < 0.85:
            user, joined = social[0]
            seen = self.b.after(max(at, joined), 1, 5)
            if seen <= self.b.now:
                report.acknowledged_at = seen
                report.acknowledged_by = user
                self.audit(seen, "concern_report.acknowledged", actor=user.pk, obj=report)
        self.chunk.add(report)

    def _entries(self) -> None:
        b, rng = self.b, self.rng
        until = self.until()
        span = max(1, (day_of(until) - day_of(self.raised)).days)
        for _ in range(rng.randint(1, 5)):
            at = b.work_time(day_of(self.raised) + timedelta(days=rng.randint(0, span)))
            if at > until or at < self.raised:
                continue
            writers = [(u, a) for u, a, joined in self.team if joined <= at]
            user, agency = rng.choice(writers)
            categories = b.categories[agency.sector] or b.categories[Sector.OTHER]
            category = rng.choice(categories)
            texts = words.ENTRIES.get(agency.sector, words.ENTRIES[Sector.OTHER])
            entry, first = entry_prepare(
                case=self.case,
                agency=agency,
                category=category,
                author=user,
                at=at,
                text=rng.choice(texts),
            )
            self.chunk.add(entry)
            self.chunk.add(first)
            self.audit(at, "entry.created", actor=user.pk, agency=agency.pk, obj=entry)
            if rng.random() < 0.12:
                later = b.after(at, 1, 10)
                if later <= until:
                    entry.version_count = 2
                    second = EntryVersion(entry=entry, number=2, author=user, created_at=later)
                    second.text = first.text + " Rättat datum."
                    self.chunk.add(second)
                    self.audit(
                        later,
                        "entry.corrected",
                        actor=user.pk,
                        agency=agency.pk,
                        obj=entry,
                        details={"version": 2},
                    )

    def _views(self) -> None:
        until = self.until()
        for _ in range(self.rng.randint(1, 3)):
            user, agency, joined = self.rng.choice(self.team)
            at = self.b.after(joined, 0, 60)
            if at > until:
                continue
            own = agency.pk == self.raising_agency.pk
            basis = BASIS_OWN_AGENCY if own else self.covering(agency.pk, at)
            self.audit(
                at,
                "case.viewed",
                actor=user.pk,
                obj=self.case,
                basis=basis or "",
                details={"identity_shown": own or bool(basis)},
            )

    def covering(self, agency_id: int, at: datetime) -> Consent | str:
        for consent, active_from, active_until, agency_ids in self.active:
            if active_from <= at < active_until and {agency_id, self.raising_agency.pk} <= set(
                agency_ids
            ):
                return consent
        return ""
