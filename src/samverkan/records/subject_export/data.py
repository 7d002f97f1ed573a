"""What the data-subject export holds about a person, gathered (``collect``): the youth's cases
with their journal, consents, plan and meetings, the guardian's links and consents, e-ID orders,
portal activity and the access log. What is left out, and why, is said in
``samverkan.records.subject_export``; ``services`` redacts, audits and packs it."""

from __future__ import annotations

import base64
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import TYPE_CHECKING, Any

from django.db.models import Case as SqlCase
from django.db.models import CharField, F, Max, Prefetch, Q, Sum, When
from django.db.models.functions import Cast
from django.utils import timezone, translation

from samverkan.audit.models import AuditEvent
from samverkan.cases.models import (
    Case,
    CaseTeamMember,
    ConcernReport,
    Entry,
    EntryVersion,
    Guardian,
    GuardianLink,
    Youth,
)
from samverkan.consent.models import (
    Consent,
    ConsentSignature,
    Disclosure,
    EvidenceFile,
    RequiredSigner,
    SignerKind,
    StatutoryDisclosure,
)
from samverkan.disclosure.facts import consent_queryset, facts_of
from samverkan.disclosure.policy import state_at
from samverkan.lib.aggregates import ListedCount
from samverkan.lib.fields import search_hash
from samverkan.lib.personnummer import parse
from samverkan.meetings.models import Action, AgendaItem
from samverkan.organisations.models import Membership
from samverkan.plans.models import ActionPlan
from samverkan.portal.access_log import AccessRow, access_rows
from samverkan.portal.models import EidOrder
from samverkan.portal.subjects import GUARDIAN, YOUTH

if TYPE_CHECKING:
    pass

FORMAT = "samverkan.subject_export"
FORMAT_VERSION = 1
_EXTENSIONS = {"application/pdf": "pdf", "image/jpeg": "jpg", "image/png": "png"}


@dataclass
class Found:
    youth: Youth | None
    guardian: Guardian | None
    data: dict[str, Any] = field(default_factory=dict)
    files: dict[str, bytes] = field(default_factory=dict)
    case_ids: set[int] = field(default_factory=set)


def _t(moment: datetime | None) -> str | None:
    return timezone.localtime(moment).isoformat(sep=" ", timespec="seconds") if moment else None


def _d(day: date | None) -> str | None:
    return day.isoformat() if day else None


def _label(choices: Any, value: str) -> str:
    return str(choices(value).label) if value in choices.values else value


# --- Finding the person ----------------------------------------------------------------------


def _find(identity_number: str) -> tuple[Youth | None, Guardian | None]:
    """The youth and the guardian recorded with this number (either, both or neither)."""
    digits = parse(identity_number, today=timezone.localdate()).digits
    youth = (
        Youth.objects.select_related("municipality")
        .filter(identity_number_hash=search_hash("youth", digits))
        .first()
    )
    guardian = Guardian.objects.filter(identity_number_hash=search_hash("guardian", digits)).first()
    return youth, guardian


# --- What is held about a youth --------------------------------------------------------------


def _consent_json(
    consent: Consent, *, signer_names: dict[int, str], scanned: dict[int, str], now: datetime
) -> dict[str, Any]:
    withdrawal = getattr(consent, "withdrawal", None)
    signers = []
    for signer in consent.signers.all():
        signature: ConsentSignature | None = getattr(signer, "signature", None)
        signers.append(
            {
                "kind": signer.kind,
                "kind_label": _label(SignerKind, signer.kind),
                "name": signer_names.get(signer.pk, ""),
                "signature": None
                if signature is None
                else {
                    "method": signature.method,
                    "method_label": signature.get_method_display(),
                    "signed_at": _t(signature.signed_at),
                    "date_on_form": _d(signature.signed_on),
                    "eid_provider": signature.eid_provider,
                    "maturity_assessment": signature.maturity_assessment,
                    "scanned_form": scanned.get(signature.pk),
                },
            }
        )
    state = state_at(facts_of(consent), now)
    return {
        "number": consent.pk,
        "purpose": consent.get_purpose_display(),
        "state": str(state),
        "agencies": sorted(a.name for a in consent.agencies.all()),
        "categories": sorted(c.label for c in consent.categories.all()),
        "valid_from": _t(consent.valid_from),
        "valid_until": _t(consent.valid_until),
        "drawn_up_at": _t(consent.created_at),
        "signers": signers,
        "withdrawal": None
        if withdrawal is None
        else {
            "by": signer_names.get(withdrawal.signer_id, ""),
            "method": withdrawal.method,
            "method_label": withdrawal.get_method_display(),
            "withdrawn_at": _t(withdrawal.withdrawn_at),
        },
    }


def _signer_names(consents: Iterable[Consent], youth_name: str) -> dict[int, str]:
    names: dict[int, str] = {}
    for consent in consents:
        for signer in consent.signers.all():
            link = signer.guardian_link
            names[signer.pk] = link.name if link is not None else youth_name
    return names


def _evidence(signatures: Iterable[ConsentSignature], files: dict[str, bytes]) -> dict[int, str]:
    """The scanned forms behind the signatures, added to ``files``; signature pk -> its name."""
    signatures = list(signatures)
    ids = [s.evidence_id for s in signatures if s.evidence_id is not None]
    by_id = {e.pk: e for e in EvidenceFile.objects.filter(pk__in=ids)}
    names: dict[int, str] = {}
    for signature in signatures:
        evidence = by_id.get(signature.evidence_id) if signature.evidence_id else None
        if evidence is not None:
            name = f"files/signature-{signature.pk}.{_EXTENSIONS.get(evidence.content_type, 'bin')}"
            files[name] = base64.b64decode(evidence.content_b64)
            names[signature.pk] = name
    return names


def _entries_json(case: Case) -> list[dict[str, Any]]:
    """The journal, each entry with its versions and where it was disclosed."""
    entries = (
        Entry.objects.filter(case=case)
        .select_related("agency", "category")
        .prefetch_related(Prefetch("versions", queryset=EntryVersion.objects.order_by("number")))
        .order_by("created_at", "pk")
    )
    entry_ids = [e.pk for e in entries]
    disclosures: dict[int, list[dict[str, Any]]] = {}
    for d in Disclosure.objects.filter(entry_id__in=entry_ids).select_related(
        "to_agency", "statutory"
    ):
        disclosures.setdefault(d.entry_id, []).append(
            {
                "to_agency": d.to_agency.name,
                "first_at": _t(d.first_at),
                "basis": f"consent:{d.consent_id}" if d.consent_id else d.statutory.basis,  # type: ignore[union-attr]
            }
        )
    statutory: dict[int, list[dict[str, Any]]] = {}
    for sd in StatutoryDisclosure.objects.filter(entry_id__in=entry_ids).select_related(
        "to_agency"
    ):
        statutory.setdefault(sd.entry_id, []).append(
            {
                "to_agency": sd.to_agency.name,
                "basis": sd.basis_code,
                # The provision as cited, and the conditions as confirmed, when it was made.
                "provision": sd.reference,
                "conditions_confirmed": [c.get("text", "") for c in sd.conditions_confirmed],
                "justification": sd.justification,
                "disclosed_at": _t(sd.disclosed_at),
            }
        )
    return [
        {
            "id": entry.pk,
            "agency": entry.agency.name,
            "category": entry.category.label,
            "created_at": _t(entry.created_at),
            "versions": [
                {"number": v.number, "written_at": _t(v.created_at), "text": v.text}
                for v in entry.versions.all()
            ],
            "disclosures": disclosures.get(entry.pk, []),
            "statutory_disclosures": statutory.get(entry.pk, []),
        }
        for entry in entries
    ]


def _plan_json(plan: ActionPlan | None) -> dict[str, Any] | None:
    if plan is None:
        return None
    return {
        "created_at": _t(plan.created_at),
        "goals": [{"text": g.text, "achieved": g.achieved} for g in plan.goals.all()],
        "interventions": [
            {
                "agency": i.agency.name,
                "kind": i.get_kind_display(),
                "description": i.description,
                "start": _d(i.start_date),
                "end": _d(i.end_date),
                "status": i.get_status_display(),
                "outcome": i.outcome,
            }
            for i in plan.interventions.all()
        ],
        "follow_ups": [{"date": _d(f.date), "done": f.done} for f in plan.follow_ups.all()],
    }


def _meetings_json(case: Case) -> list[dict[str, Any]]:
    agenda = (
        AgendaItem.objects.filter(case=case)
        .select_related("meeting__group")
        .prefetch_related(
            Prefetch("actions", queryset=Action.objects.select_related("responsible_agency"))
        )
        .order_by("meeting__starts_at", "pk")
    )
    return [
        {
            "group": item.meeting.group.name,
            "starts_at": _t(item.meeting.starts_at),
            "location": item.meeting.location,
            "minutes": item.minutes,
            "minutes_recorded_at": _t(item.minutes_recorded_at),
            "actions": [
                {
                    "text": a.text,
                    "responsible_agency": a.responsible_agency.name,
                    "due_date": _d(a.due_date),
                    "status": a.get_status_display(),
                }
                for a in item.actions.all()
            ],
        }
        for item in agenda
    ]


def _case_json(case: Case, *, now: datetime, files: dict[str, bytes]) -> dict[str, Any]:
    entries = _entries_json(case)
    consents = list(consent_queryset("guardian_link").filter(case=case).order_by("created_at"))
    names = _signer_names(consents, case.youth.name)
    # The scanned forms of the youth's own signatures only: a guardian's form carries the
    # guardian's signature and is in the guardian's own export.
    signatures = [
        sig
        for c in consents
        for r in c.signers.all()
        if r.kind == SignerKind.YOUTH and (sig := getattr(r, "signature", None)) is not None
    ]
    scanned = _evidence(signatures, files)
    plan = (
        ActionPlan.objects.filter(case=case)
        .prefetch_related("goals", "interventions__agency", "follow_ups")
        .first()
    )
    hold = getattr(case, "legal_hold", None)
    return {
        "id": case.pk,
        "pseudonym": case.youth.pseudonym,
        "group": case.group.name,
        "raising_agency": case.raising_agency.name,
        "status": case.status,
        "status_label": case.get_status_display(),
        "raised_at": _t(case.raised_at),
        "closed_at": _t(case.closed_at),
        "closure_reason": case.get_closure_reason_display() if case.closure_reason else "",
        "closure_outcome": case.closure_outcome,
        "reason": case.reason,
        "risk_factors": [f.label for f in case.risk_factors.all()],
        "protective_factors": [f.label for f in case.protective_factors.all()],
        "team": [
            {"agency": m.agency.name, "added_at": _t(m.added_at), "removed_at": _t(m.removed_at)}
            for m in CaseTeamMember.objects.filter(case=case)
            .select_related("agency")
            .order_by("added_at", "pk")
        ],
        "guardians": [
            {"name": link.name, "has_custody": link.has_custody}
            for link in GuardianLink.objects.filter(case=case).order_by("pk")
        ],
        "entries": entries,
        "consents": [
            _consent_json(c, signer_names=names, scanned=scanned, now=now) for c in consents
        ],
        "concern_reports": [
            {
                "id": r.pk,
                "agency": r.agency.name,
                "reported_on": _d(r.reported_on),
                "acknowledged_at": _t(r.acknowledged_at),
            }
            for r in ConcernReport.objects.filter(case=case)
            .select_related("agency")
            .order_by("reported_on", "pk")
        ],
        "action_plan": _plan_json(plan),
        "meetings": _meetings_json(case),
        "legal_hold": None
        if hold is None
        else {"reason": hold.reason, "placed_at": _t(hold.placed_at)},
    }


def _portal_activity(kind: str, pk: int) -> list[dict[str, Any]]:
    """What the person did in the guardian portal: logins, consents read, signed, withdrawn."""
    events = AuditEvent.objects.filter(
        action__startswith="portal.",
        details__portal_subject=kind,
        details__portal_subject_id=pk,
    ).order_by("id")
    return [
        {
            "at": _t(e.occurred_at),
            "action": e.action,
            "outcome": e.outcome,
            "method": e.details.get("method", ""),
        }
        for e in events
    ]


def _eid_orders(digits_hash: str) -> list[dict[str, Any]]:
    return [
        {
            "reference": o.reference,
            "purpose": o.purpose,
            "status": o.status,
            "text": o.text,
            "created_at": _t(o.created_at),
            "completed_at": _t(o.completed_at),
        }
        for o in EidOrder.objects.filter(identity_number_hash=digits_hash).order_by("created_at")
    ]


def _youth_json(youth: Youth, found: Found, *, now: datetime, eid_hash: str) -> dict[str, Any]:
    cases = (
        Case.objects.filter(youth=youth)
        .select_related("youth", "group", "raising_agency", "legal_hold")
        .prefetch_related("risk_factors", "protective_factors")
        .order_by("raised_at", "pk")
    )
    case_data = [_case_json(c, now=now, files=found.files) for c in cases]
    found.case_ids.update(c["id"] for c in case_data)
    return {
        "identity_number": youth.identity_number,
        "is_coordination_number": youth.is_coordination_number,
        "name": youth.name,
        "birth_date": _d(youth.birth_date),
        "gender": youth.get_gender_display() if youth.gender else "",
        "municipality": youth.municipality.name,
        "pseudonym": youth.pseudonym,
        "registered_at": _t(youth.created_at),
        "cases": case_data,
        "portal_activity": _portal_activity(YOUTH, youth.pk),
        "eid_orders": _eid_orders(eid_hash),
    }


# --- What is held about a guardian -----------------------------------------------------------


def _guardian_json(
    guardian: Guardian, found: Found, *, now: datetime, eid_hash: str
) -> dict[str, Any]:
    links = list(
        GuardianLink.objects.filter(guardian=guardian)
        .select_related("case__raising_agency", "case__youth")
        .order_by("pk")
    )
    mine = RequiredSigner.objects.filter(guardian_link__guardian=guardian)
    # The child's details and the case's access log only where the guardian has custody or is
    # asked to sign a consent (as the portal, ``portal.selectors._case_ids``): a guardian without
    # custody learns nothing of the child through the export.
    signing_cases = set(mine.values_list("consent__case_id", flat=True))
    concerned = {link.case_id for link in links if link.has_custody} | signing_cases
    found.case_ids.update(concerned)
    consents = list(
        consent_queryset("guardian_link")
        .filter(pk__in=mine.values("consent_id"))
        .order_by("created_at")
    )
    my_signers = set(mine.values_list("pk", flat=True))
    signatures = [
        s
        for c in consents
        for r in c.signers.all()
        if r.pk in my_signers and (s := getattr(r, "signature", None)) is not None
    ]
    scanned = _evidence(signatures, found.files)
    rows = []
    for consent in consents:
        data = _consent_json(consent, signer_names={}, scanned=scanned, now=now)
        # Only the guardian's own signature and withdrawal; the others' are theirs.
        signer = next(s for s in consent.signers.all() if s.pk in my_signers)
        withdrawal = getattr(consent, "withdrawal", None)
        mine_withdrawn = withdrawal is not None and withdrawal.signer_id in my_signers
        own = next(
            s
            for s, r in zip(data["signers"], consent.signers.all(), strict=True)
            if r.pk == signer.pk
        )
        rows.append(
            {
                "number": data["number"],
                "purpose": data["purpose"],
                "state": data["state"],
                "agencies": data["agencies"],
                "categories": data["categories"],
                "valid_from": data["valid_from"],
                "valid_until": data["valid_until"],
                "child_pseudonym": consent.youth.pseudonym,
                "signature": own["signature"],
                "withdrawal": data["withdrawal"] if mine_withdrawn else None,
            }
        )
    return {
        "identity_number": guardian.identity_number,
        "registered_at": _t(guardian.created_at),
        "links": [
            {
                "case_id": link.case_id,
                "child_pseudonym": link.case.youth.pseudonym if link.case_id in concerned else None,
                "child_name": link.case.youth.name if link.case_id in concerned else None,
                "recorded_by_agency": link.case.raising_agency.name,
                "name": link.name,
                "email": link.email,
                "has_custody": link.has_custody,
            }
            for link in links
        ],
        "consents": rows,
        "portal_activity": _portal_activity(GUARDIAN, guardian.pk),
        "eid_orders": _eid_orders(eid_hash),
    }


# --- The access log --------------------------------------------------------------------------


def _access_log(found: Found) -> list[AccessRow]:
    """Staff's handling of the person's cases and records, newest first, one row per request
    and action, each named by agency and role as the guardian portal shows it."""
    own = Q(pk__in=[])
    if found.youth is not None:
        own |= Q(object_type="cases.youth", object_id=str(found.youth.pk))
    if found.guardian is not None:
        own |= Q(object_type="cases.guardian", object_id=str(found.guardian.pk))
        link_ids = [str(pk) for pk in found.guardian.youth_links.values_list("pk", flat=True)]
        own |= Q(object_type="cases.guardianlink", object_id__in=link_ids)
    key = SqlCase(
        When(request_id="", then=Cast("id", output_field=CharField())),
        default=F("request_id"),
        output_field=CharField(),
    )
    grouped = (
        AuditEvent.objects.filter(Q(case_id__in=found.case_ids) | own, actor_id__isnull=False)
        .annotate(key=key)
        .values("key", "actor_id", "agency_id", "agency__name", "action", "case_id", "outcome")
        .annotate(at=Max("occurred_at"), n=Sum(ListedCount("details", "entries")), last=Max("id"))
        .order_by("-last")
    )
    events: list[dict[str, Any]] = [dict(e) for e in grouped]
    # An event about the person's own record with no case and no agency (a search, say): the
    # actor's first agency stands in, so the row still says where the handling came from.
    loose = {e["actor_id"] for e in events if e["case_id"] is None and e["agency_id"] is None}
    seats: dict[int, tuple[int, str]] = {}
    for user_id, agency_id, name in (
        Membership.objects.filter(user_id__in=loose)
        .order_by("pk")
        .values_list("user_id", "agency_id", "agency__name")
    ):
        seats.setdefault(user_id, (agency_id, name))
    for event in events:
        if event["case_id"] is None and event["agency_id"] is None and event["actor_id"] in seats:
            event["agency_id"], event["agency__name"] = seats[event["actor_id"]]
    return access_rows(events)


def _access_json(rows: list[AccessRow]) -> list[dict[str, Any]]:
    return [
        {
            "at": _t(r.at),
            "agency": r.agency,
            "role": r.role,
            "action": r.action,
            "count": r.count,
            "refused": r.refused,
        }
        for r in rows
    ]


# --- The export ------------------------------------------------------------------------------


def collect(identity_number: str, *, language: str) -> Found | None:
    youth, guardian = _find(identity_number)
    if youth is None and guardian is None:
        return None
    found = Found(youth=youth, guardian=guardian)
    digits = parse(identity_number, today=timezone.localdate()).digits
    eid_hash = search_hash("eid", digits)
    now = timezone.now()
    with translation.override(language):
        data: dict[str, Any] = {
            "format": FORMAT,
            "version": FORMAT_VERSION,
            "language": language,
            "generated_at": _t(now),
            "youth": _youth_json(youth, found, now=now, eid_hash=eid_hash) if youth else None,
            "guardian": _guardian_json(guardian, found, now=now, eid_hash=eid_hash)
            if guardian
            else None,
        }
        rows = _access_log(found)
        data["access_log"] = _access_json(rows)
    found.data = data
    return found
