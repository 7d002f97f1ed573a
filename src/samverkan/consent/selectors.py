"""Every read of consents for a staff user: the case's team and its coordinator.

A consent says which agencies share what about a named youth, so the signers' names are shown
only to a viewer the policy lets see the youth's identity; the coordinator (who obtains the
signatures) sees "Guardian 1", "Guardian 2" and the pseudonym.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime

from django.db import transaction
from django.db.models import Count, Prefetch, QuerySet
from django.http import Http404
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from samverkan.accounts.models import User
from samverkan.audit.services import Subject, audit_record, audit_record_many
from samverkan.cases import rules as case_rules
from samverkan.cases.models import Case, CaseTeamMember, GuardianLink
from samverkan.cases.selectors import (
    CaseAccess,
    EntryListing,
    EntryView,
    HiddenGroup,
    policy_facts,
)
from samverkan.consent import rules
from samverkan.consent.models import (
    Consent,
    ConsentSignature,
    Disclosure,
    EvidenceFile,
    RequiredSigner,
    SignerKind,
)
from samverkan.disclosure.facts import (
    awaiting_confirmation,
    consent_queryset,
    facts_of,
    last_covered_day,
)
from samverkan.disclosure.policy import (
    BASIS_OWN_AGENCY,
    ConsentFacts,
    DenialReason,
    State,
    Viewer,
    identity_decision,
    state_at,
)
from samverkan.organisations.models import Agency


@dataclass
class SignerView:
    signer: RequiredSigner
    label: str  # "Guardian 1" or the name, as the viewer may see it
    signature: ConsentSignature | None
    # Recorded by staff, and not yet confirmed by a second staff member where the deployment
    # requires that: it does not count towards the state.
    awaiting_confirmation: bool = False

    @property
    def signed(self) -> bool:
        return self.signature is not None


@dataclass
class ConsentView:
    consent: Consent
    facts: ConsentFacts
    state: State
    signers: list[SignerView]
    agencies: list[Agency]
    at: datetime
    identity_shown: bool
    disclosed: list[tuple[Agency, int]] = field(default_factory=list)

    @property
    def number(self) -> int:
        return self.consent.pk

    @property
    def youth_label(self) -> str:
        youth = self.consent.youth
        return youth.name if self.identity_shown else youth.pseudonym

    @property
    def active_until(self) -> datetime:
        return self.facts.ends_at

    @property
    def last_day(self) -> datetime:
        """The last day covered (``valid_until`` is the start of the day after)."""
        return last_covered_day(self.consent.valid_until)

    @property
    def withdrawal(self) -> object:
        return getattr(self.consent, "withdrawal", None)

    @property
    def awaiting_confirmation(self) -> bool:
        return any(s.awaiting_confirmation for s in self.signers)


@dataclass
class CaseConsents:
    case: Case
    consents: list[ConsentView]
    may_manage: bool
    may_record_withdrawal: bool
    identity_shown: bool


def _viewer_agencies(viewer: User, case: Case) -> frozenset[int]:
    return frozenset(
        m.agency_id for m in case.team.all() if m.user_id == viewer.pk and m.removed_at is None
    ) & case_rules.practising_agency_ids(viewer)


def _case_for(viewer: User, case_pk: int) -> Case:
    case = (
        Case.objects.select_related("youth", "group", "raising_agency")
        .prefetch_related(
            Prefetch("team", queryset=CaseTeamMember.objects.filter(removed_at__isnull=True))
        )
        .filter(pk=case_pk)
        .first()
    )
    if case is None or not rules.can_see_consents(viewer, case):
        raise Http404
    return case


def _identity_shown(viewer: User, case: Case) -> bool:
    _consents, grants = policy_facts(case)
    return identity_decision(
        Viewer(user_id=viewer.pk, agency_ids=_viewer_agencies(viewer, case)),
        raising_agency_id=case.raising_agency_id,
        at=timezone.now(),
        grants=grants,
    ).allowed


def _signer_label(signer: RequiredSigner, guardian_number: int, *, names: bool) -> str:
    if signer.kind == SignerKind.YOUTH:
        return signer.consent.youth.name if names else _("The young person")
    if names and signer.guardian_link is not None:
        return signer.guardian_link.name
    return _("Guardian %(n)s") % {"n": guardian_number}


def _view(consent: Consent, *, at: datetime, names: bool) -> ConsentView:
    facts = facts_of(consent)
    signers: list[SignerView] = []
    guardian_number = 0
    for signer in consent.signers.all():
        if signer.kind == SignerKind.GUARDIAN:
            guardian_number += 1
        signature = getattr(signer, "signature", None)
        signers.append(
            SignerView(
                signer=signer,
                label=_signer_label(signer, guardian_number, names=names),
                signature=signature,
                awaiting_confirmation=awaiting_confirmation(signature),
            )
        )
    return ConsentView(
        consent=consent,
        facts=facts,
        state=state_at(facts, at),
        signers=signers,
        agencies=sorted(consent.agencies.all(), key=lambda a: a.name),
        at=at,
        identity_shown=names,
    )


def _queryset() -> QuerySet[Consent]:
    return consent_queryset(
        "signature__recorded_by",
        "signature__confirmed_by",
        "signature__evidence",
        "guardian_link",
        "guardian_link__guardian",
    ).select_related("case", "case__group", "created_by")


def case_consents(*, viewer: User, case_pk: int) -> CaseConsents:
    """The consents of a case, newest first, for its team and coordinator; 404 otherwise."""
    case = _case_for(viewer, case_pk)
    names = _identity_shown(viewer, case)
    now = timezone.now()
    consents = [_view(c, at=now, names=names) for c in _queryset().filter(case=case)]
    with transaction.atomic():
        audit_record_many(
            action="consent.listed",
            actor=viewer,
            subjects=[Subject("consent.consent", str(v.consent.pk), case.pk) for v in consents],
        )
    return CaseConsents(
        case=case,
        consents=consents,
        may_manage=rules.can_manage_consents(viewer, case),
        may_record_withdrawal=rules.can_record_withdrawal(viewer, case),
        identity_shown=names,
    )


def consent_get(*, viewer: User, pk: int, audit_action: str = "consent.viewed") -> ConsentView:
    """One consent with its signers and what was disclosed under it, per receiving agency."""
    consent: Consent | None = _queryset().filter(pk=pk).first()
    if consent is None:
        raise Http404
    case = _case_for(viewer, consent.case_id)
    view = _view(consent, at=timezone.now(), names=_identity_shown(viewer, case))
    counts = Counter(
        Disclosure.objects.filter(consent=consent).values_list("to_agency_id", flat=True)
    )
    agencies = {a.pk: a for a in Agency.objects.filter(pk__in=counts)}
    view.disclosed = [(agencies[pk], n) for pk, n in sorted(counts.items())]
    with transaction.atomic():
        audit_record(
            action=audit_action,
            actor=viewer,
            obj=consent,
            case_id=consent.case_id,
            details={"identity_shown": view.identity_shown},
        )
    return view


def evidence_get(*, viewer: User, consent_pk: int, signer_pk: int) -> EvidenceFile:
    """The scanned form, for those who obtain consent on the case or may see who the family is
    (it names them). Checked before the read is audited, so the log never records a download
    that was refused."""
    consent = Consent.objects.filter(pk=consent_pk).only("pk", "case_id").first()
    if consent is None:
        raise Http404
    case = _case_for(viewer, consent.case_id)
    if not rules.can_manage_consents(viewer, case) and not _identity_shown(viewer, case):
        raise Http404
    evidence = EvidenceFile.objects.filter(
        signature__signer__pk=signer_pk, signature__signer__consent_id=consent_pk
    ).first()
    if evidence is None:
        raise Http404
    with transaction.atomic():
        audit_record(
            action="consent.evidence_viewed",
            actor=viewer,
            obj=evidence,
            case_id=case.pk,
            details={"consent_id": consent_pk},
        )
    return evidence


def guardians_with_custody(case: Case) -> list[GuardianLink]:
    return list(GuardianLink.objects.filter(case=case, has_custody=True).order_by("pk"))


@dataclass(frozen=True)
class ConsentSummary:
    """What a case page says of the consent an entry was shared under."""

    number: int
    signed_by: list[str]
    last_day: datetime
    state: State
    withdrawn_at: datetime | None


def consent_summaries(
    consents: list[ConsentFacts], *, at: datetime, case: Case, names: bool
) -> dict[str, ConsentSummary]:
    """Keyed by audit basis (``consent:12``), for the explanation beside each shared entry."""
    if not consents:
        return {}
    loaded = {c.pk: c for c in _queryset().filter(pk__in=[f.consent_id for f in consents])}
    summaries: dict[str, ConsentSummary] = {}
    for facts in consents:
        consent = loaded.get(facts.consent_id)
        if consent is None:
            continue
        view = _view(consent, at=at, names=names)
        summaries[facts.basis] = ConsentSummary(
            number=consent.pk,
            signed_by=[s.label for s in view.signers if s.signed],
            last_day=view.last_day,
            state=view.state,
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
        from samverkan.consent.statutory import label_of

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
        access.consents, at=access.at, case=access.case, names=access.identity.allowed
    )
    return explain_basis(view.basis, summaries)


def case_page_notes(access: CaseAccess, listing: EntryListing) -> CasePageNotes:
    """At most three queries whatever the number of entries or consents."""
    names = access.identity.allowed
    summaries = consent_summaries(access.consents, at=access.at, case=access.case, names=names)
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


def consent_case(*, viewer: User, case_pk: int) -> Case:
    """The case, for someone who may see its consents (its team and coordinator); 404 for
    everyone else. Only the check before a write: nothing of the case is shown, so nothing is
    audited here (the write audits itself)."""
    return _case_for(viewer, case_pk)
