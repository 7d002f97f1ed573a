"""Consents on a case: drawn up, signed (or not), withdrawn now and then, renewed, and the
lifecycle of the case that follows from them.

Who must sign is decided by ``consent.services.signer_plan``, a signature is made by
``signature_prepare`` and a paper one's scan by ``evidence_prepare`` from a real one-page PDF
that has passed ``check_evidence``, as an upload must; ``consents_create_bulk`` writes them.
"""

from __future__ import annotations

import functools
import io
import uuid
from datetime import date, datetime, timedelta
from typing import TYPE_CHECKING

from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from pypdf import PdfWriter
from pypdf.generic import ContentStream, DictionaryObject, NameObject

from samverkan.accounts.models import User
from samverkan.cases.models import ClosureReason, GuardianLink, Status
from samverkan.consent.documents.uploads import CheckedFile, check_evidence
from samverkan.consent.models import (
    Consent,
    ConsentWithdrawal,
    RequiredSigner,
    SignatureMethod,
    SignerKind,
    WithdrawalMethod,
)
from samverkan.consent.services import (
    add_months,
    evidence_prepare,
    signature_prepare,
    signer_plan,
)
from samverkan.synth.base import day_of, start_of
from samverkan.synth.plans import finish_plan, plan

if TYPE_CHECKING:
    from samverkan.synth.cases import CaseStory

EID_PROVIDER = "development"


@functools.cache
def evidence() -> CheckedFile:
    """A scanned consent form: a real one-page A4 PDF with a heading and a signature stroke,
    checked and cleaned by ``check_evidence`` as any upload is. Made once per process."""
    writer = PdfWriter()
    page = writer.add_blank_page(width=595, height=842)
    helvetica = DictionaryObject(
        {
            NameObject("/Type"): NameObject("/Font"),
            NameObject("/Subtype"): NameObject("/Type1"),
            NameObject("/BaseFont"): NameObject("/Helvetica"),
        }
    )
    page[NameObject("/Resources")] = DictionaryObject(
        {NameObject("/Font"): DictionaryObject({NameObject("/F1"): helvetica})}
    )
    drawing = ContentStream(None, writer)
    drawing.set_data(
        b"BT /F1 16 Tf 72 760 Td (Samtyckesblankett - syntetisk) Tj ET\n"
        b"72 200 m 300 230 l 320 190 l 420 220 l S\n"
    )
    page.replace_contents(drawing)
    out = io.BytesIO()
    writer.write(out)
    scan = SimpleUploadedFile("samtycke.pdf", out.getvalue(), content_type="application/pdf")
    return check_evidence(scan)


def _signers(s: CaseStory, valid_from: date) -> list[tuple[str, GuardianLink | None]] | None:
    custodians = [link for link in s.links if link.has_custody]
    try:
        return signer_plan(s.youth.age_on(valid_from), custodians, youth_also_signs=False)
    except ValidationError:  # no custodian recorded: no consent can be drawn up
        return None


def _consent(
    s: CaseStory, created: datetime, valid_from: date, creator: User
) -> tuple[Consent, list[RequiredSigner], list[int]] | None:
    """A consent drawn up at ``created`` for the team's agencies, with its signers."""
    b, rng = s.b, s.rng
    length = rng.choice([m for m in (6, 9, 12) if m <= b.max_months] or [b.max_months])
    valid_until = add_months(valid_from, length) - timedelta(days=1)
    kinds = _signers(s, valid_from)
    if kinds is None:
        return None
    agencies = sorted({a.pk: a for _, a, t in s.team if t <= created}.values(), key=lambda a: a.pk)
    if len(agencies) < 2:
        return None
    if rng.random() < 0.2 and len(agencies) > 2:  # partial consent: not every agency
        others = [a for a in agencies if a.pk != s.raising_agency.pk]
        agencies = [s.raising_agency, *rng.sample(others, k=len(agencies) - 2)]
    categories = sorted(
        {
            c.pk
            for sector in sorted({a.sector for a in agencies})
            for c in rng.sample(b.categories[sector], k=min(2, len(b.categories[sector])))
        }
    )
    consent = Consent(
        case=s.case,
        youth=s.youth,
        valid_from=start_of(valid_from),
        valid_until=start_of(valid_until + timedelta(days=1)),
        youth_signs_from_age=b.youth_signs_from,
        language="sv",
        created_by=creator,
        created_at=created,
    )
    s.chunk.add(consent)
    for agency in agencies:
        s.chunk.add(Consent.agencies.through(consent=consent, agency_id=agency.pk))
    for pk in categories:
        s.chunk.add(Consent.categories.through(consent=consent, informationcategory_id=pk))
    signers = [
        RequiredSigner(consent=consent, kind=kind, guardian_link=link, order=order)
        for order, (kind, link) in enumerate(kinds)
    ]
    for signer in signers:
        s.chunk.add(signer)
    agency_ids = [a.pk for a in agencies]
    details = {"agency_ids": agency_ids, "category_ids": categories, "signers": len(signers)}
    s.audit(created, "consent.created", actor=creator.pk, obj=consent, details=details)
    return consent, signers, agency_ids


def _signature(s: CaseStory, consent: Consent, signer: RequiredSigner, at: datetime) -> str:
    """One signer signs at ``at``, in one of the three ways; returns the method."""
    rng, staff = s.rng, s.town.coordinator
    method = rng.choices(
        [SignatureMethod.IN_PERSON, SignatureMethod.PAPER, SignatureMethod.ELECTRONIC],
        weights=[50, 25, 25],
    )[0]
    if signer.kind == SignerKind.YOUTH and method == SignatureMethod.ELECTRONIC:
        method = SignatureMethod.IN_PERSON
    scan = None
    if method == SignatureMethod.PAPER:
        scan = evidence_prepare(evidence(), uploaded_by=staff, uploaded_at=at)
        s.chunk.add(scan)
    electronic = method == SignatureMethod.ELECTRONIC
    signature = signature_prepare(
        signer=signer,
        method=method,
        at=at,
        staff=None if electronic else staff,
        evidence=scan,
        eid_provider=EID_PROVIDER if electronic else "",
        eid_reference=uuid.UUID(int=rng.getrandbits(128)).hex if electronic else "",
    )
    s.chunk.add(signature)
    s.audit(
        at,
        "consent.signed",
        actor=None if electronic else staff.pk,
        obj=signature,
        basis=consent,
        details={
            "consent_id": consent,
            "method": method,
            "signer_kind": signer.kind,
            "evidence": method == SignatureMethod.PAPER,
        },
    )
    return method


def _sign(
    s: CaseStory, consent: Consent, signers: list[RequiredSigner], how_many: int, latest_days: int
) -> datetime | None:
    """The first ``how_many`` signers sign; the moment the last of all signed, if all did."""
    b = s.b
    moments = sorted(b.after(consent.created_at, 0, latest_days) for _ in signers[:how_many])
    last: datetime | None = None
    actor: int | None = None
    for signer, at in zip(signers[:how_many], moments, strict=True):
        if at > b.now or at >= consent.valid_until:
            return None
        method = _signature(s, consent, signer, at)
        actor = None if method == SignatureMethod.ELECTRONIC else s.town.coordinator.pk
        last = at
    if how_many < len(signers) or last is None:
        return None
    # The service notes the activation when the last signature makes the consent active;
    # one signed ahead of its start becomes active later, without an event of its own.
    if last >= consent.valid_from:
        s.audit(last, "consent.activated", actor=actor, obj=consent, basis=consent)
    return last


def consent_path(s: CaseStory) -> bool:
    """Awaiting consent, a consent, its signatures, and the rest of the lifecycle."""
    b, rng = s.b, s.rng
    waiting = b.after(s.raised, 1, 7)
    if not s.transition(waiting, Status.AWAITING_CONSENT, s.raiser):
        return False
    created = max(b.after(waiting, 0, 5), *(t + timedelta(hours=1) for _, _, t in s.team))
    made = _consent(s, created, day_of(created), s.raiser) if created <= b.now else None
    if made is None:
        if rng.random() < 0.5:
            reason = ClosureReason.CONSENT_DECLINED
            s.transition(b.after(waiting, 20, 60), Status.CLOSED, s.raiser, reason=reason)
        return False
    consent, signers, agency_ids = made
    fate = rng.choices(["signed", "declined", "slow"], weights=[80, 12, 8])[0]
    if fate != "signed":
        _sign(s, consent, signers, rng.randint(0, len(signers) - 1), 21)
        declined = fate == "declined"
        reason = ClosureReason.CONSENT_DECLINED if declined else ClosureReason.OTHER_SUPPORT
        closed = b.after(created, 20 if declined else 60, 90)
        s.transition(closed, Status.CLOSED, s.raiser, reason=reason)
        return False
    active_from = _sign(s, consent, signers, len(signers), 21)
    if active_from is None:
        return False
    s.active.append((consent, active_from, consent.valid_until, agency_ids))
    _lifecycle(s, consent, signers, active_from)
    return True


def _withdraw(s: CaseStory, consent: Consent, signers: list[RequiredSigner]) -> datetime | None:
    """Now and then a signer withdraws while the consent runs; when, if so."""
    b, rng = s.b, s.rng
    if rng.random() >= 0.07:
        return None
    withdrawn = b.after(s.active[-1][1], 5, 150)
    if withdrawn >= consent.valid_until or withdrawn > b.now:
        return None
    signer = rng.choice(signers)
    method = rng.choice(list(WithdrawalMethod))
    recorder = None if method == WithdrawalMethod.PORTAL else s.town.coordinator
    s.chunk.add(
        ConsentWithdrawal(
            consent=consent,
            signer=signer,
            method=method,
            withdrawn_at=withdrawn,
            recorded_by=recorder,
            recorded_at=withdrawn,
        )
    )
    s.audit(
        withdrawn,
        "consent.withdrawn",
        actor=recorder.pk if recorder else None,
        obj=consent,
        basis=consent,
        details={"method": str(method), "signer_kind": signer.kind},
    )
    s.active[-1] = (consent, s.active[-1][1], withdrawn, s.active[-1][3])
    return withdrawn


def _lifecycle(
    s: CaseStory, consent: Consent, signers: list[RequiredSigner], active: datetime
) -> None:
    b, rng = s.b, s.rng
    mapping = b.after(active, 0, 3)
    if not s.transition(mapping, Status.MAPPING, s.raiser):
        return
    withdrawn = _withdraw(s, consent, signers)
    planned = b.after(mapping, 7, 35)
    if withdrawn is not None and withdrawn < planned:
        reason = rng.choice([ClosureReason.CONSENT_DECLINED, ClosureReason.OTHER_SUPPORT])
        s.transition(b.after(withdrawn, 3, 30), Status.CLOSED, s.raiser, reason=reason)
        return
    if planned > b.now:
        return
    goals = plan(s, planned)
    if not s.transition(b.after(planned, 0, 2), Status.ACTIVE_PLAN, s.raiser):
        return
    follow = b.after(planned, 45, 120)
    end = b.after(s.raised, 120, 420)
    if withdrawn is not None:
        end = min(end, b.after(withdrawn, 3, 30))
    # Still open when the consent runs out: a new one is drawn up before it does.
    if end > consent.valid_until and withdrawn is None:
        _renew(s, consent)
    if follow < end:
        s.transition(follow, Status.FOLLOW_UP, s.raiser)
    reason = rng.choices(
        [
            ClosureReason.GOALS_MET,
            ClosureReason.MOVED,
            ClosureReason.OTHER_SUPPORT,
            ClosureReason.NO_LONGER_NEEDED,
            ClosureReason.OTHER,
        ],
        weights=[55, 8, 15, 15, 7],
    )[0]
    if withdrawn is not None:
        reason = ClosureReason.CONSENT_DECLINED
    if s.transition(end, Status.CLOSED, s.raiser, reason=reason):
        finish_plan(s, goals, end, reason)


def _renew(s: CaseStory, old: Consent) -> None:
    b = s.b
    created = b.after(old.valid_until - timedelta(days=21), 0, 7)
    if created > b.now or created >= old.valid_until:
        return
    made = _consent(s, created, day_of(old.valid_until), s.town.coordinator)
    if made is None:
        return
    consent, signers, agency_ids = made
    active = _sign(s, consent, signers, len(signers), 14)
    if active is not None:
        s.active.append((consent, max(active, consent.valid_from), consent.valid_until, agency_ids))
