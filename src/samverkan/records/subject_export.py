"""The data-subject export (*registerutdrag*, GDPR art. 15, DESIGN rule 12).

For a youth or a guardian, found by identity number through the keyed hash (never by
decrypting), everything the service holds about them, as a ZIP with ``subject.json`` (for
machines), ``subject.pdf`` (for people, in Swedish or English) and the scanned consent forms
that carry their signature or concern them. The access log in it shows staff the way the
guardian portal does (``consent.portal``): by agency and role, never by name.

What is left out, and why (docs/operations.md §9 says the same to the operator):

- the names of staff, everywhere (authors, responsible persons, attendees): the portal hides
  them too, and the right of access covers when and by which agency the data was consulted,
  not who the employee was (CJEU C-579/21, *Pankki S*);
- in a youth's export, the guardians' identity numbers and e-mail addresses: they are the
  guardians' own data, in their own export;
- in a youth's export, the scanned consent forms the guardians signed: they carry the
  guardian's signature (and often number), and are in the guardian's own export;
- in a guardian's export, the child's case content (journal, plan, minutes): that is the
  child's data, given in the child's export; and for a case where the guardian neither has
  custody nor is asked to sign a consent, even the child's name and pseudonym and the case's
  access log (as the guardian portal shows only the cases where they are a signer).

Before release, what secrecy may protect is offered for redaction (issue 19, gap 6; OSL
26 kap. 5 §, and the secrecy of other persons and agencies): the identity of whoever made a
report of concern (redacted unless the preparer chooses otherwise), the other persons named
(guardians, in a youth's export) and the journal entries of agencies other than the preparer's.
The preparer chooses which to redact, each with a reason; the archive then shows
``[redacted: reason]`` in their place, and the choices are audited with the export, in the same
transaction. The command line applies the default (the reporter's identity).

Only auditors (the data-protection officer) make an export from the web, and the command line
(``samverkan subject-export``) runs as the operator. Each export writes
``records.subject_exported`` for the person and each of their cases, in the same transaction
that hands the archive over, with no personal data in its details.
"""

from __future__ import annotations

import base64
import io
import json
import zipfile
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import TYPE_CHECKING, Any

from django.db import models, transaction
from django.db.models import Case as SqlCase
from django.db.models import CharField, Count, F, Max, Prefetch, Q, When
from django.db.models.functions import Cast
from django.http import Http404
from django.template.loader import render_to_string
from django.utils import timezone, translation
from django.utils.translation import gettext, gettext_lazy

from samverkan.audit.models import AuditEvent, Outcome
from samverkan.audit.services import Subject, audit_record_many
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
from samverkan.consent.portal import GUARDIAN, YOUTH, AccessRow, _resolve, action_label
from samverkan.consent.portal_models import EidOrder
from samverkan.disclosure.facts import consent_queryset, facts_of
from samverkan.disclosure.policy import state_at
from samverkan.lib.fields import search_hash
from samverkan.lib.pdf import html_to_pdf
from samverkan.lib.personnummer import parse
from samverkan.meetings.models import Action, AgendaItem
from samverkan.organisations.models import Membership, Role
from samverkan.plans.models import ActionPlan
from samverkan.records.rules import can_export_subject_data

if TYPE_CHECKING:
    from samverkan.accounts.models import User

FORMAT = "samverkan.subject_export"
FORMAT_VERSION = 1
LANGUAGES = ("sv", "en")
_EXTENSIONS = {"application/pdf": "pdf", "image/jpeg": "jpg", "image/png": "png"}


@dataclass
class ExportArchive:
    """A finished export: the ZIP's bytes and what it covered (no personal data)."""

    content: bytes
    kinds: list[str]
    case_count: int
    filename: str


@dataclass
class _Found:
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


def _case_json(case: Case, *, now: datetime, files: dict[str, bytes]) -> dict[str, Any]:
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
    agenda = (
        AgendaItem.objects.filter(case=case)
        .select_related("meeting__group")
        .prefetch_related(
            Prefetch("actions", queryset=Action.objects.select_related("responsible_agency"))
        )
        .order_by("meeting__starts_at", "pk")
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
        "entries": [
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
        ],
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
        "action_plan": None
        if plan is None
        else {
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
        },
        "meetings": [
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
        ],
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
    ).order_by("seq")
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


def _youth_json(youth: Youth, found: _Found, *, now: datetime, eid_hash: str) -> dict[str, Any]:
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
    guardian: Guardian, found: _Found, *, now: datetime, eid_hash: str
) -> dict[str, Any]:
    links = list(
        GuardianLink.objects.filter(guardian=guardian)
        .select_related("case__raising_agency", "case__youth")
        .order_by("pk")
    )
    mine = RequiredSigner.objects.filter(guardian_link__guardian=guardian)
    # The child's details and the case's access log only where the guardian has custody or is
    # asked to sign a consent (as the portal, ``consent.portal._case_ids``): a guardian without
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


def _access_log(found: _Found) -> list[AccessRow]:
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
        When(request_id="", then=Cast("seq", output_field=CharField())),
        default=F("request_id"),
        output_field=CharField(),
    )
    grouped = (
        AuditEvent.objects.filter(Q(case_id__in=found.case_ids) | own, actor_id__isnull=False)
        .annotate(key=key)
        .values("key", "actor_id", "agency_id", "agency__name", "action", "case_id", "outcome")
        .annotate(at=Max("occurred_at"), n=Count("seq"), last=Max("seq"))
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
    return _resolve(events)


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


def _collect(identity_number: str, *, language: str) -> _Found | None:
    youth, guardian = _find(identity_number)
    if youth is None and guardian is None:
        return None
    found = _Found(youth=youth, guardian=guardian)
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


# --- Redaction before release ----------------------------------------------------------------


class RedactionReason(models.TextChoices):
    NOTIFIER = (
        "notifier",
        gettext_lazy("Identity of whoever reported a concern (OSL 26 kap. 5 §)"),
    )
    THIRD_PARTY = "third_party", gettext_lazy("Another person's circumstances, under secrecy")
    OTHER_AGENCY = (
        "other_agency",
        gettext_lazy("Information from another agency, under its secrecy"),
    )


# The words in the archive, in its language: short, as they stand in the text.
_MARKER_REASON = {
    RedactionReason.NOTIFIER: gettext_lazy("the reporter's identity, OSL 26 kap. 5 §"),
    RedactionReason.THIRD_PARTY: gettext_lazy("secrecy for another person"),
    RedactionReason.OTHER_AGENCY: gettext_lazy("another agency's secrecy"),
}


class RedactionError(ValueError):
    """The choices do not fit the items offered (the data changed since, or a forged form)."""


@dataclass(frozen=True)
class RedactionCandidate:
    """An item of the export that secrecy may protect, offered to the preparer."""

    key: str  # ``concern:<id>``, ``person:<case id>:<n>`` or ``entry:<id>``: ids only
    kind: str  # "reporter", "person" or "entry"
    description: str  # what the preparer reads to decide (it is personal data: not logged)
    suggested: str  # the RedactionReason it would fall under
    default: bool  # redacted unless the preparer says otherwise


def _candidates(found: _Found, *, own_agency: str | None) -> list[RedactionCandidate]:
    """The items to offer, from the data as collected. ``own_agency`` is the preparer's
    agency: its own journal is not another agency's information (None: every entry offered)."""
    youth = found.data.get("youth")
    if not youth:
        return []
    out: list[RedactionCandidate] = []
    for case in youth["cases"]:
        for report in case["concern_reports"]:
            out.append(
                RedactionCandidate(
                    key=f"concern:{report['id']}",
                    kind="reporter",
                    description=gettext("Report of concern of %(day)s, made by %(agency)s")
                    % {"day": report["reported_on"], "agency": report["agency"]},
                    suggested=RedactionReason.NOTIFIER,
                    default=True,
                )
            )
        for n, person in enumerate(case["guardians"]):
            out.append(
                RedactionCandidate(
                    key=f"person:{case['id']}:{n}",
                    kind="person",
                    description=gettext("Guardian named in case %(case)s: %(name)s")
                    % {"case": case["pseudonym"], "name": person["name"]},
                    suggested=RedactionReason.THIRD_PARTY,
                    default=False,
                )
            )
        for entry in case["entries"]:
            if own_agency is not None and entry["agency"] == own_agency:
                continue
            text = entry["versions"][-1]["text"] if entry["versions"] else ""
            out.append(
                RedactionCandidate(
                    key=f"entry:{entry['id']}",
                    kind="entry",
                    description=gettext("Journal entry of %(agency)s, %(day)s: %(text)s")
                    % {
                        "agency": entry["agency"],
                        "day": (entry["created_at"] or "")[:10],
                        "text": text if len(text) <= 160 else f"{text[:160]}…",
                    },
                    suggested=RedactionReason.OTHER_AGENCY,
                    default=False,
                )
            )
    return out


def _chosen(
    candidates: list[RedactionCandidate], redactions: dict[str, str] | None
) -> dict[str, str]:
    """key -> reason of what is to be redacted; ``None`` takes the defaults, and so does an
    item ``redactions`` does not mention (one that appeared after the review): only an explicit
    empty reason releases a default-redacted item."""
    defaults = {c.key: c.suggested for c in candidates if c.default}
    if redactions is None:
        return defaults
    offered = {c.key for c in candidates}
    chosen = {key: reason for key, reason in defaults.items() if key not in redactions}
    for key, reason in redactions.items():
        if not reason:
            continue
        if key not in offered:
            raise RedactionError("an item to redact is not in the export")
        if reason not in RedactionReason.values:
            raise RedactionError("unknown reason for a redaction")
        chosen[key] = reason
    return chosen


def _redact(data: dict[str, Any], chosen: dict[str, str]) -> None:
    """Put ``[redacted: reason]`` in place of each chosen item (in the current language)."""

    def marker(reason: str) -> str:
        return gettext("[redacted: %(reason)s]") % {
            "reason": _MARKER_REASON[RedactionReason(reason)]
        }

    youth = data.get("youth")
    if not youth or not chosen:
        return
    reporter_reasons: list[str] = []
    for case in youth["cases"]:
        for report in case["concern_reports"]:
            reason = chosen.get(f"concern:{report['id']}")
            if reason:
                report["agency"] = marker(reason)
                reporter_reasons.append(reason)
    if reporter_reasons:
        # The access log names the agency that recorded a report of concern, on the day it
        # did: left alone, it would say what the redaction hides.
        concern_actions = {
            action_label(action, outcome=outcome)
            for action in ("concern_report.recorded", "concern_report.acknowledged")
            for outcome in (Outcome.ALLOWED, Outcome.DENIED)
        }
        for row in data.get("access_log", []):
            if row["action"] in concern_actions:
                row["agency"] = row["role"] = marker(reporter_reasons[0])
    for case in youth["cases"]:
        for n, person in enumerate(case["guardians"]):
            reason = chosen.get(f"person:{case['id']}:{n}")
            if not reason:
                continue
            name = person["name"]
            person["name"] = marker(reason)
            # The same person as a signer of the case's consents, or as the one who withdrew.
            for consent in case["consents"]:
                for signer in consent["signers"]:
                    if signer["name"] == name:
                        signer["name"] = marker(reason)
                withdrawal = consent["withdrawal"]
                if withdrawal is not None and withdrawal["by"] == name:
                    withdrawal["by"] = marker(reason)
        for entry in case["entries"]:
            reason = chosen.get(f"entry:{entry['id']}")
            if reason:
                for version in entry["versions"]:
                    version["text"] = marker(reason)
                # The justification of a disclosure is that agency's words about the entry.
                for disclosed in entry.get("statutory_disclosures", []):
                    disclosed["justification"] = marker(reason)


def _subjects(found: _Found) -> list[Subject]:
    subjects = [Subject("cases.youth", str(found.youth.pk))] if found.youth else []
    if found.guardian is not None:
        subjects.append(Subject("cases.guardian", str(found.guardian.pk)))
    subjects += [Subject("cases.case", str(pk), pk) for pk in sorted(found.case_ids)]
    return subjects


def _audit_not_found(actor: User | None) -> None:
    with transaction.atomic():
        audit_record_many(
            action="records.subject_exported",
            actor=actor,
            agency=_auditor_agency(actor),
            subjects=[Subject("cases.youth", "")],
            details={"found": False},
        )


def _prepare(
    actor: User | None, identity_number: str, language: str
) -> tuple[_Found, Any, list[RedactionCandidate]] | None:
    """What both steps of an export start from: the person's data and the items that may be
    redacted. Only an auditor (or the command line) may ask; a number that finds no one is
    audited as such and gives None."""
    if actor is not None and not can_export_subject_data(actor):
        raise Http404
    if language not in LANGUAGES:
        raise ValueError(f"language must be one of {LANGUAGES}")
    found = _collect(identity_number, language=language)
    if found is None:
        _audit_not_found(actor)
        return None
    agency = _auditor_agency(actor)
    return found, agency, _candidates(found, own_agency=agency.name if agency else None)


def subject_export_review(
    *, actor: User | None, identity_number: str, language: str = "sv"
) -> list[RedactionCandidate] | None:
    """The items of this person's export that secrecy may protect, for the preparer to choose
    from before release; None when nothing is held (audited as an export that found no one).
    Reading them is audited (``records.subject_export_prepared``)."""
    prepared = _prepare(actor, identity_number, language)
    if prepared is None:
        return None
    found, agency, candidates = prepared
    with transaction.atomic():
        audit_record_many(
            action="records.subject_export_prepared",
            actor=actor,
            agency=agency,
            subjects=_subjects(found),
            details={"candidates": len(candidates)},
        )
    return candidates


def _pdf(found: _Found, *, language: str) -> bytes:
    with translation.override(language):
        # The stylesheet's page footer: .css templates are not scanned for messages.
        context = {"d": found.data, "lang": language, "page_label": gettext("Page")}
        html = render_to_string("records/export_subject_pdf.html", context)
        css = render_to_string("records/export_subject_pdf.css", context)
    return html_to_pdf(html, css)


def _zip(found: _Found, pdf: bytes) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr(
            "subject.json", json.dumps(found.data, ensure_ascii=False, indent=2) + "\n"
        )
        archive.writestr("subject.pdf", pdf)
        for name, content in sorted(found.files.items()):
            archive.writestr(name, content)
    return buffer.getvalue()


def subject_export(
    *,
    actor: User | None,
    identity_number: str,
    language: str = "sv",
    redactions: dict[str, str] | None = None,
) -> ExportArchive | None:
    """Everything held about the person with this number, as a ZIP; None when nothing is held.

    ``actor`` is the auditor asking (None for the operator's command line); anyone else gets
    404. Raises ``IdentityNumberError`` for a malformed number, before anything is read, and
    ``lib.pdf.PdfUnavailableError`` when PDFs cannot be made here, before anything is handed
    over (nothing is then audited as exported). An export, and a search that found no one, is
    audited without the number.

    ``redactions`` maps the keys of ``subject_export_review``'s items to a ``RedactionReason``
    (an empty reason: not redacted); ``None`` redacts the defaults (the reporter's identity).
    ``RedactionError`` when a key is not offered for this export.
    """
    prepared = _prepare(actor, identity_number, language)
    if prepared is None:
        return None
    found, _, candidates = prepared
    chosen = _chosen(candidates, redactions)
    with translation.override(language):
        _redact(found.data, chosen)
    content = _zip(found, _pdf(found, language=language))
    kinds = [k for k, v in ((YOUTH, found.youth), (GUARDIAN, found.guardian)) if v is not None]
    subjects = _subjects(found)
    redacted = sorted(chosen)
    with transaction.atomic():
        audit_record_many(
            action="records.subject_exported",
            actor=actor,
            agency=_auditor_agency(actor),
            subjects=subjects,
            details={
                "found": True,
                "kinds": kinds,
                "cases": len(found.case_ids),
                "files": len(found.files),
                "language": language,
                # The redaction decisions, by item id and reason: never the content.
                "offered": len(candidates),
                "redactions": len(redacted),
                "redacted_items": redacted,
                "redaction_reasons": [chosen[key] for key in redacted],
            },
        )
    stamp = timezone.localdate().isoformat()
    return ExportArchive(
        content=content,
        kinds=kinds,
        case_count=len(found.case_ids),
        filename=f"registerutdrag-{stamp}.zip",
    )


def _auditor_agency(actor: User | None) -> Any:
    """The agency the auditor serves, so the person's access log can name it."""
    if actor is None:
        return None
    seat = (
        Membership.objects.filter(user=actor, role=Role.AUDITOR)
        .select_related("agency")
        .order_by("pk")
        .first()
    )
    return seat.agency if seat is not None else None
