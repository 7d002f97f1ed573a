"""Consents and statutory disclosures as the plain facts ``disclosure.policy`` decides on.

The only bridge from the consent tables to the policy: ``cases.selectors`` loads grants here,
for one case or for many in a fixed number of queries.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from django.conf import settings
from django.db.models import Prefetch, QuerySet

from samverkan.consent.models import (
    Consent,
    ConsentSignature,
    RequiredSigner,
    SignerKind,
    StatutoryDisclosure,
)
from samverkan.disclosure.policy import ConsentFacts, Grant, LaterSigner, all_grants
from samverkan.lib.aggregates import parse_ids, related_ids

STOCKHOLM = ZoneInfo("Europe/Stockholm")


def birthday(born: date, years: int) -> date:
    """The day someone born on ``born`` turns ``years``; 29 February counts from 1 March."""
    try:
        return born.replace(year=born.year + years)
    except ValueError:
        return date(born.year + years, 3, 1)


NEVER = datetime.max.replace(tzinfo=STOCKHOLM)


def last_covered_day(valid_until: datetime) -> datetime:
    """Midnight starting the last day a consent covers, in Stockholm. ``valid_until`` is the
    start of the day after; counting on the local calendar keeps the day right across a
    daylight-saving change."""
    day = valid_until.astimezone(STOCKHOLM).date() - timedelta(days=1)
    return datetime.combine(day, time.min, tzinfo=STOCKHOLM)


def adult_at(born: date) -> datetime:
    return datetime.combine(birthday(born, 18), time.min, tzinfo=STOCKHOLM)


def signing_age(consent: Consent) -> int:
    """The age from which the youth must sign this consent too (DESIGN rules 2 and 18).

    The lower of the age in force when it was drawn up and the configured one now: lowering
    ``settings.CONSENT_YOUTH_SIGNS_FROM_AGE`` reaches the consents already drawn up, raising it
    does not take from a youth a say they had when the consent was drawn up.
    """
    return min(consent.youth_signs_from_age, settings.CONSENT_YOUTH_SIGNS_FROM_AGE)


def signing_age_at(consent: Consent) -> datetime:
    """Midnight (Stockholm) starting the youth's signing-age birthday."""
    return datetime.combine(
        birthday(consent.youth.birth_date, signing_age(consent)), time.min, tzinfo=STOCKHOLM
    )


def consent_queryset(*signer_relations: str) -> QuerySet[Consent]:
    """Consents with everything ``facts_of`` reads; ``signer_relations`` adds what a page shows
    of each signer (``"guardian_link"`` …)."""
    # The withdrawal (one per consent at most) comes in the same row, not a query of its own.
    return Consent.objects.select_related("youth", "withdrawal").prefetch_related(
        "agencies",
        "categories",
        Prefetch(
            "signers",
            queryset=RequiredSigner.objects.select_related("signature", *signer_relations).order_by(
                "order"
            ),
        ),
    )


def awaiting_confirmation(signature: ConsentSignature | None) -> bool:
    """A signature staff recorded that waits for a second staff member's confirmation: only
    where the deployment asks for one (``settings.CONSENT_SIGNATURE_CONFIRMATION``).

    The setting is read now, whenever a state is derived, not when the signature was made:
    turning it on makes every unconfirmed staff-recorded signature stop counting at once, and
    turning it off gives back exactly the behaviour without it.
    """
    return (
        signature is not None
        and settings.CONSENT_SIGNATURE_CONFIRMATION
        and signature.recorded_by_staff
        and signature.confirmed_at is None
    )


def counts_from(signature: ConsentSignature | None) -> datetime | None:
    """When a signature starts to count towards the consent's state; None while it does not.

    Every state and grant is derived from this (through ``facts_of``), so an unconfirmed
    staff-recorded signature is, where confirmation is required, no signature at all for the
    policy, and a confirmed one counts from its confirmation, never retroactively.
    """
    if signature is None or awaiting_confirmation(signature):
        return None
    if (
        settings.CONSENT_SIGNATURE_CONFIRMATION
        and signature.recorded_by_staff
        and signature.confirmed_at is not None
    ):
        return max(signature.signed_at, signature.confirmed_at)
    return signature.signed_at


def facts_of(consent: Consent) -> ConsentFacts:
    """Needs the prefetches of ``consent_queryset`` (or ``policy_queryset``) to stay at a fixed
    number of queries."""
    signers = list(consent.signers.all())
    signed: list[datetime | None] = []
    later: list[LaterSigner] = []
    youth_signed: datetime | None = None
    youth_signs = False
    unconfirmed = 0
    for signer in signers:
        signature = getattr(signer, "signature", None)
        if awaiting_confirmation(signature):
            unconfirmed += 1
        at = counts_from(signature)
        if signer.kind == SignerKind.YOUTH:
            youth_signed = at
        if signer.required_from is not None:
            # The youth's co-signature is needed from the signing-age birthday as configured
            # now, not as stored on the row, so a changed setting reaches it (``signing_age``).
            needed = (
                signing_age_at(consent) if signer.kind == SignerKind.YOUTH else signer.required_from
            )
            later.append(LaterSigner(kind=signer.kind, required_from=needed, signed_at=at))
            continue
        signed.append(at)
        if signer.kind == SignerKind.YOUTH:
            youth_signs = True
    if signers and not any(s.kind == SignerKind.YOUTH for s in signers):
        # Signed by guardians only: from the signing age it covers nothing new until the youth
        # co-signs (DESIGN rule 18), whether or not a row for that signature exists yet, so
        # no reader depends on the daily job having run on the birthday.
        later.append(LaterSigner(kind=SignerKind.YOUTH, required_from=signing_age_at(consent)))
    withdrawal = getattr(consent, "withdrawal", None)
    return ConsentFacts(
        consent_id=consent.pk,
        agency_ids=_ids(consent, "agency_id_list", "agencies"),
        category_ids=_ids(consent, "category_id_list", "categories"),
        valid_from=consent.valid_from,
        valid_until=consent.valid_until,
        signed_at=tuple(signed),
        youth_signed_at=youth_signed,
        # The 18th birthday ends only a consent the youth has not signed (``ends_at``). One they
        # must sign from the start (from the signing age, or alone from 18) waits for their
        # signature instead of lapsing; one they co-sign later goes on past 18 on that signature.
        youth_adult_at=NEVER if youth_signs else adult_at(consent.youth.birth_date),
        withdrawn_at=withdrawal.withdrawn_at if withdrawal is not None else None,
        unconfirmed=unconfirmed,
        later=tuple(later),
    )


def policy_queryset(*signer_relations: str) -> QuerySet[Consent]:
    """Consents with what ``facts_of`` reads and nothing more: the agencies and categories they
    cover as ids in the consent's own row (``related_ids``), the signers in one more query."""
    return (
        Consent.objects.select_related("youth", "withdrawal")
        .annotate(
            agency_id_list=related_ids(Consent.agencies.through, "consent_id", "agency_id"),
            category_id_list=related_ids(
                Consent.categories.through, "consent_id", "informationcategory_id"
            ),
        )
        .prefetch_related(
            Prefetch(
                "signers",
                queryset=RequiredSigner.objects.select_related(
                    "signature", *signer_relations
                ).order_by("order"),
            ),
        )
    )


def _ids(consent: Consent, annotation: str, relation: str) -> frozenset[int]:
    """The ids ``policy_queryset`` put in the row, or else those of the prefetched relation."""
    if hasattr(consent, annotation):
        return parse_ids(getattr(consent, annotation))
    return frozenset(related.pk for related in getattr(consent, relation).all())


def _load(case_ids: Iterable[int], *signer_relations: str) -> dict[int, list[Consent]]:
    by_case: dict[int, list[Consent]] = defaultdict(list)
    queryset = policy_queryset(*signer_relations).filter(case_id__in=list(case_ids))
    for consent in queryset:
        by_case[consent.case_id].append(consent)
    return by_case


def consent_facts_for_cases(case_ids: Iterable[int]) -> dict[int, list[ConsentFacts]]:
    return {
        case_id: [facts_of(c) for c in consents] for case_id, consents in _load(case_ids).items()
    }


def _statutory_grants(case_ids: list[int]) -> dict[int, list[Grant]]:
    grants: dict[int, list[Grant]] = defaultdict(list)
    disclosures = StatutoryDisclosure.objects.filter(entry__case_id__in=case_ids).select_related(
        "entry"
    )
    for disclosure in disclosures:
        grants[disclosure.entry.case_id].append(
            Grant(
                from_agency_id=disclosure.entry.agency_id,
                to_agency_id=disclosure.to_agency_id,
                # A disclosure is not recalled: once given, the entry stays disclosed.
                valid_from=disclosure.disclosed_at,
                valid_until=datetime.max.replace(tzinfo=STOCKHOLM),
                basis=disclosure.basis,
                entry_id=disclosure.entry_id,
            )
        )
    return grants


def case_policy_facts(
    case_ids: Iterable[int],
) -> dict[int, tuple[list[ConsentFacts], list[Grant]]]:
    """Per case: its consents' facts and every grant (consents' and statutory), in three
    queries whatever the number of cases (consents, their signers, statutory disclosures)."""
    ids = list(case_ids)
    consents = consent_facts_for_cases(ids)
    statutory = _statutory_grants(ids)
    return {
        case_id: (
            consents.get(case_id, []),
            all_grants(consents.get(case_id, [])) + statutory.get(case_id, []),
        )
        for case_id in ids
    }


def one_case_facts(case_id: int) -> tuple[list[Consent], list[ConsentFacts], list[Grant]]:
    """One case's consents (with the signers' guardian links, for a page that names them), their
    facts and every grant: loaded once for a request that opens the case, in three queries."""
    consents = _load([case_id], "guardian_link").get(case_id, [])
    facts = [facts_of(c) for c in consents]
    return consents, facts, all_grants(facts) + _statutory_grants([case_id]).get(case_id, [])


def grants_with(case_id: int, consents: list[ConsentFacts]) -> list[Grant]:
    """Every grant of one case whose consents' facts the caller has already read (a page that
    loads the consents to show them): the statutory disclosures are one more query."""
    return all_grants(consents) + _statutory_grants([case_id]).get(case_id, [])
