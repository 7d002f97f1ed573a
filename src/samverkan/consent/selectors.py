"""Every read of consents for a staff user: the case's team and its coordinator.

A consent says which agencies share what about a named youth, so the signers' names are shown
only to a viewer the policy lets see the youth's identity; the coordinator (who obtains the
signatures) sees "Guardian 1", "Guardian 2" and the pseudonym.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime

from django.db.models import Prefetch, QuerySet
from django.http import Http404
from django.utils import timezone

from samverkan.accounts.models import User
from samverkan.audit.services import audit_read
from samverkan.cases.models import Case, CaseTeamMember
from samverkan.consent import rules
from samverkan.consent.models import (
    Consent,
    ConsentSignature,
    Disclosure,
    EvidenceFile,
    RequiredSigner,
)
from samverkan.disclosure.explain import signer_labels
from samverkan.disclosure.facts import (
    awaiting_confirmation,
    consent_queryset,
    facts_of,
    last_covered_day,
)
from samverkan.disclosure.policy import ConsentFacts, State, state_at
from samverkan.disclosure.selectors import identity_shown
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


def _view(consent: Consent, *, at: datetime, names: bool) -> ConsentView:
    facts = facts_of(consent)
    signers: list[SignerView] = []
    for signer, label in signer_labels(consent, names=names):
        signature = getattr(signer, "signature", None)
        signers.append(
            SignerView(
                signer=signer,
                label=label,
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
    now = timezone.now()
    # Read once: the consents the page shows are every consent the identity rule weighs.
    rows = list(_queryset().filter(case=case))
    names = identity_shown(viewer, case, consents=[facts_of(c) for c in rows])
    consents = [_view(c, at=now, names=names) for c in rows]
    if consents:
        # One event for the page, naming the consents it showed.
        audit_read(
            action="consent.listed",
            actor=viewer,
            obj=case,
            case_id=case.pk,
            details={"consents": [v.consent.pk for v in consents]},
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
    view = _view(consent, at=timezone.now(), names=identity_shown(viewer, case))
    counts = Counter(
        Disclosure.objects.filter(consent=consent).values_list("to_agency_id", flat=True)
    )
    agencies = {a.pk: a for a in Agency.objects.filter(pk__in=counts)}
    view.disclosed = [(agencies[pk], n) for pk, n in sorted(counts.items())]
    audit_read(
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
    if not rules.can_manage_consents(viewer, case) and not identity_shown(viewer, case):
        raise Http404
    evidence = EvidenceFile.objects.filter(
        signature__signer__pk=signer_pk, signature__signer__consent_id=consent_pk
    ).first()
    if evidence is None:
        raise Http404
    audit_read(
        action="consent.evidence_viewed",
        actor=viewer,
        obj=evidence,
        case_id=case.pk,
        details={"consent_id": consent_pk},
    )
    return evidence


def consent_case(*, viewer: User, case_pk: int) -> Case:
    """The case, for someone who may see its consents (its team and coordinator); 404 for
    everyone else. Only the check before a write: nothing of the case is shown, so nothing is
    audited here (the write audits itself)."""
    return _case_for(viewer, case_pk)
