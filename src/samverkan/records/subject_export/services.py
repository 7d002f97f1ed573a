"""The export itself: what secrecy may protect offered for redaction, the archive packed,
and both audited (the package's docstring says what is in it and what is left out)."""

from __future__ import annotations

import io
import json
import zipfile
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from django.db import models, transaction
from django.http import Http404
from django.template.loader import render_to_string
from django.utils import timezone, translation
from django.utils.translation import gettext, gettext_lazy

from samverkan.audit.models import Outcome
from samverkan.audit.services import Subject, audit_record_many
from samverkan.lib.pdf import html_to_pdf
from samverkan.organisations.models import Membership, Role
from samverkan.portal.access_log import action_label
from samverkan.portal.subjects import GUARDIAN, YOUTH
from samverkan.records.rules import can_export_subject_data
from samverkan.records.subject_export.data import Found, collect

if TYPE_CHECKING:
    from samverkan.accounts.models import User

LANGUAGES = ("sv", "en")


@dataclass
class ExportArchive:
    """A finished export: the ZIP's bytes and what it covered (no personal data)."""

    content: bytes
    kinds: list[str]
    case_count: int
    filename: str


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


def _candidates(found: Found, *, own_agency: str | None) -> list[RedactionCandidate]:
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


def _subjects(found: Found) -> list[Subject]:
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
) -> tuple[Found, Any, list[RedactionCandidate]] | None:
    """What both steps of an export start from: the person's data and the items that may be
    redacted. Only an auditor (or the command line) may ask; a number that finds no one is
    audited as such and gives None."""
    if actor is not None and not can_export_subject_data(actor):
        raise Http404
    if language not in LANGUAGES:
        raise ValueError(f"language must be one of {LANGUAGES}")
    found = collect(identity_number, language=language)
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


def _pdf(found: Found, *, language: str) -> bytes:
    with translation.override(language):
        # The stylesheet's page footer: .css templates are not scanned for messages.
        context = {"d": found.data, "lang": language, "page_label": gettext("Page")}
        html = render_to_string("records/export_subject_pdf.html", context)
        css = render_to_string("records/export_subject_pdf.css", context)
    return html_to_pdf(html, css)


def _zip(found: Found, pdf: bytes) -> bytes:
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
