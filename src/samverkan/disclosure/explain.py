"""What the case page says beside the journal: why each shared entry may be seen (the consent
and who signed it, or the statute), why withheld ones are not, and what reached the viewer
under a consent that has since ended. Signers are named only where the viewer may see who the
family is (``signer_labels``), everywhere a consent is shown.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime

from django.db.models import Count
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from samverkan.cases.models import Case
from samverkan.consent.models import Consent, Disclosure, RequiredSigner, SignerKind
from samverkan.disclosure.facts import facts_of, last_covered_day
from samverkan.disclosure.policy import (
    BASIS_OWN_AGENCY,
    ConsentFacts,
    DenialReason,
    State,
    state_at,
)
from samverkan.disclosure.selectors import CaseAccess, EntryListing, EntryView, HiddenGroup
from samverkan.disclosure.statutory import label_of


def signer_label(signer: RequiredSigner, guardian_number: int, *, names: bool) -> str:
    """A signer as the viewer may see them: the name only where identity may be shown."""
    if signer.kind == SignerKind.YOUTH:
        return signer.consent.youth.name if names else _("The young person")
    if names and signer.guardian_link is not None:
        return signer.guardian_link.name
    return _("Guardian %(n)s") % {"n": guardian_number}


def signer_labels(consent: Consent, *, names: bool) -> Iterator[tuple[RequiredSigner, str]]:
    """Each signer of a consent (signers prefetched in order) with its label; guardians are
    numbered in signing order."""
    guardian_number = 0
    for signer in consent.signers.all():
        if signer.kind == SignerKind.GUARDIAN:
            guardian_number += 1
        yield signer, signer_label(signer, guardian_number, names=names)


def signed(signer: RequiredSigner) -> bool:
    return getattr(signer, "signature", None) is not None


@dataclass(frozen=True)
class ConsentSummary:
    """What a case page says of the consent an entry was shared under."""

    number: int
    signed_by: list[str]
    last_day: datetime
    state: State
    withdrawn_at: datetime | None


def consent_summaries(
    consents: list[ConsentFacts],
    *,
    at: datetime,
    case: Case,
    names: bool,
    rows: list[Consent],
) -> dict[str, ConsentSummary]:
    """Keyed by audit basis (``consent:12``), for the explanation beside each shared entry.
    ``rows``: the consents as the request loaded them (``CaseAccess.consent_rows``)."""
    if not consents:
        return {}
    loaded = {c.pk: c for c in rows}
    summaries: dict[str, ConsentSummary] = {}
    for facts in consents:
        consent = loaded.get(facts.consent_id)
        if consent is None:
            continue
        summaries[facts.basis] = ConsentSummary(
            number=consent.pk,
            signed_by=[
                label for signer, label in signer_labels(consent, names=names) if signed(signer)
            ],
            last_day=last_covered_day(consent.valid_until),
            state=state_at(facts_of(consent), at),
            withdrawn_at=facts.withdrawn_at,
        )
    return summaries


@dataclass(frozen=True)
class EndedDisclosures:
    """Entries that reached the viewer's agency under a consent that has since ended."""

    number: int
    state: State
    ended_at: datetime
    count: int


@dataclass
class CasePageNotes:
    """What the case page says beside the journal: why each shared entry may be seen, why
    withheld ones are not, and what reached the viewer under a consent that has ended."""

    explanations: dict[int, str]
    hidden: list[str]
    ended: list[EndedDisclosures]
    # Pending consents with a staff-recorded signature that waits for a second staff member.
    awaiting_confirmation: list[int] = field(default_factory=list)


def _list_names(names: list[str]) -> str:
    if len(names) <= 1:
        return "".join(names)
    return _("%(first)s and %(last)s") % {"first": ", ".join(names[:-1]), "last": names[-1]}


def explain_basis(basis: str, summaries: dict[str, ConsentSummary]) -> str:
    """ "Shared under consent #12, signed by …, valid until …" for a consent; the statute and
    date for a statutory disclosure; empty for the viewer's own agency."""
    kind, _sep, rest = basis.partition(":")
    if kind == "consent" and basis in summaries:
        summary = summaries[basis]
        return _("Shared under consent #%(n)s, signed by %(signers)s, valid until %(day)s.") % {
            "n": summary.number,
            "signers": _list_names(summary.signed_by),
            "day": timezone.localtime(summary.last_day).date().isoformat(),
        }
    if kind == "statute":
        return _("Disclosed without consent under a statutory basis: %(basis)s.") % {
            "basis": label_of(rest.split(":", 1)[0])
        }
    return ""


def _hidden_text(group: HiddenGroup, viewer_names: str) -> str:
    agency, count, reason = group.agency, group.count, group.reason
    sector_pair = {
        "from": agency.name,
        "to": viewer_names,
        "count": count,
    }
    texts = {
        DenialReason.NO_CONSENT: ngettext(
            "%(count)s entry from %(from)s is not shown: no consent covers %(from)s → %(to)s.",
            "%(count)s entries from %(from)s are not shown: no consent covers %(from)s → %(to)s.",
            count,
        ),
        DenialReason.CATEGORY: ngettext(
            "%(count)s entry from %(from)s is not shown: the consent between %(from)s and "
            "%(to)s does not cover its category.",
            "%(count)s entries from %(from)s are not shown: the consent between %(from)s and "
            "%(to)s does not cover their categories.",
            count,
        ),
        DenialReason.PENDING: ngettext(
            "%(count)s entry from %(from)s is not shown yet: the consent that covers it is "
            "waiting for signatures.",
            "%(count)s entries from %(from)s are not shown yet: the consent that covers them is "
            "waiting for signatures.",
            count,
        ),
        DenialReason.EXPIRED: ngettext(
            "%(count)s entry from %(from)s is not shown: the consent that covered it has expired.",
            "%(count)s entries from %(from)s are not shown: the consent that covered them has "
            "expired.",
            count,
        ),
        DenialReason.WITHDRAWN: ngettext(
            "%(count)s entry from %(from)s is not shown: the consent that covered it was "
            "withdrawn.",
            "%(count)s entries from %(from)s are not shown: the consent that covered them was "
            "withdrawn.",
            count,
        ),
    }
    return texts[reason] % sector_pair


def entry_explanation(access: CaseAccess, view: EntryView) -> str:
    """Why the viewer may see this one entry; empty for their own agency's."""
    if view.basis == BASIS_OWN_AGENCY:
        return ""
    summaries = consent_summaries(
        access.consents,
        at=access.at,
        case=access.case,
        names=access.identity.allowed,
        rows=access.consent_rows,
    )
    return explain_basis(view.basis, summaries)


def case_page_notes(access: CaseAccess, listing: EntryListing) -> CasePageNotes:
    """At most three queries whatever the number of entries or consents."""
    names = access.identity.allowed
    summaries = consent_summaries(
        access.consents, at=access.at, case=access.case, names=names, rows=access.consent_rows
    )
    explanations = {
        view.entry.pk: explain_basis(view.basis, summaries)
        for view in listing.visible
        if view.basis != BASIS_OWN_AGENCY
    }
    viewer_names = _list_names([a.name for a in access.my_agencies])
    hidden = [_hidden_text(group, viewer_names) for group in listing.hidden]
    ended_facts = {
        f.consent_id: f
        for f in access.consents
        if state_at(f, access.at) in (State.WITHDRAWN, State.EXPIRED, State.AWAITING_COSIGNATURE)
    }
    ended: list[EndedDisclosures] = []
    if ended_facts:
        counts = (
            Disclosure.objects.filter(
                consent_id__in=list(ended_facts), to_agency_id__in=access.viewer.agency_ids
            )
            .values("consent_id")
            .annotate(n=Count("pk"))
            .order_by("consent_id")
        )
        for row in counts:
            facts = ended_facts[row["consent_id"]]
            state = state_at(facts, access.at)
            missing = facts.awaiting_at(access.at)
            ended.append(
                EndedDisclosures(
                    number=facts.consent_id,
                    state=state,
                    # Awaiting a co-signature: since that signer was first needed.
                    ended_at=min(m.required_from for m in missing) if missing else facts.ends_at,
                    count=row["n"],
                )
            )
    awaiting = [
        f.consent_id
        for f in access.consents
        if f.unconfirmed and state_at(f, access.at) == State.PENDING
    ]
    return CasePageNotes(
        explanations=explanations, hidden=hidden, ended=ended, awaiting_confirmation=awaiting
    )
