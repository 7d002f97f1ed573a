"""What every document of one consent says, in one language, for one viewer: the
``ConsentDocument`` the form, the receipt and the FHIR export are made from.

It is built from a ``ConsentView`` that ``consent.selectors.consent_get`` returned for the
acting user, so a document shows exactly what that user may see of the consent: the family's
names only where ``identity_shown``, otherwise "Guardian 1" and the pseudonym. No document
ever holds an identity number.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any

from django.conf import settings
from django.utils import timezone

from samverkan.consent.documents.text import FILENAMES, LANGUAGES, TEXT
from samverkan.consent.models import SignerKind
from samverkan.consent.selectors import ConsentView, SignerView
from samverkan.disclosure.policy import State


@dataclass(frozen=True)
class AgencyLine:
    pk: int
    name: str
    sector: str
    sector_label: str


@dataclass(frozen=True)
class CategoryLine:
    code: str  # "<sector>/<code>": category codes are unique per sector only
    sector: str
    sector_label: str
    label: str


@dataclass(frozen=True)
class SignerLine:
    kind: str
    label: str  # "Guardian 1", "The young person", or the name where the viewer may see it
    named: bool
    signed_at: datetime | None
    signed_on: date | None
    method: str
    method_label: str
    eid_provider: str


@dataclass(frozen=True)
class WithdrawalLine:
    withdrawn_at: datetime
    method: str
    method_label: str


@dataclass(frozen=True)
class ConsentDocument:
    """What every document of one consent says, in one language, for one viewer."""

    number: int
    uid: str
    verification_code: str
    language: str
    t: dict[str, Any]
    municipality_name: str
    municipality_code: str
    pseudonym: str
    youth_name: str  # empty unless the viewer may see who the youth is
    purpose: str
    purpose_text: str
    agencies: list[AgencyLine]
    categories: list[CategoryLine]
    valid_from: datetime
    valid_until: datetime  # the moment it ends (exclusive)
    first_day: date
    last_day: date
    adult_day: date | None  # the 18th birthday, when it falls in the period and ends it
    youth_signs_from_age: int
    state: State
    signers: list[SignerLine]
    withdrawal: WithdrawalLine | None
    created_at: datetime
    generated_at: datetime
    portal_url: str

    @property
    def identity_shown(self) -> bool:
        return bool(self.youth_name)

    @property
    def signatures(self) -> list[SignerLine]:
        return [s for s in self.signers if s.signed_at is not None]

    @property
    def state_label(self) -> str:
        label: str = self.t["states"][self.state]
        return label

    @property
    def municipality_label(self) -> str:
        label: str = self.t["municipality"].format(name=self.municipality_name)
        return label


def verification_code(view: ConsentView) -> str:
    """A short code printed on every page and in the receipt, to check that a paper copy is the
    consent on screen: SHA-256 over what the consent lets cross (uid, agencies, categories,
    period), first 12 hex digits. Not a secret and not a signature."""
    consent = view.consent
    material = "\n".join(
        [
            str(consent.uid),
            ",".join(str(pk) for pk in sorted(view.facts.agency_ids)),
            ",".join(str(pk) for pk in sorted(view.facts.category_ids)),
            consent.valid_from.astimezone(UTC).isoformat(),
            consent.valid_until.astimezone(UTC).isoformat(),
        ]
    )
    return hashlib.sha256(material.encode()).hexdigest()[:12]


def last_day(valid_until: datetime) -> date:
    """The last whole day covered, in Stockholm: ``valid_until`` is the start of the next day.
    Counted on the local calendar, so a period ending at a daylight-saving change keeps its day.
    """
    return timezone.localtime(valid_until).date() - timedelta(days=1)


def receipt_available(view: ConsentView) -> bool:
    """A receipt is for something signed: once at least one signature is in."""
    return any(s.signature is not None for s in view.signers)


def _agency_lines(view: ConsentView, t: dict[str, Any]) -> list[AgencyLine]:
    return [
        AgencyLine(pk=a.pk, name=a.name, sector=a.sector, sector_label=t["sectors"][a.sector])
        for a in view.agencies
    ]


def _category_lines(
    view: ConsentView, t: dict[str, Any], language: str, agencies: list[AgencyLine]
) -> list[CategoryLine]:
    """In the order of the agencies' sectors, then the categories' own order."""
    sector_order = {a.sector: i for i, a in enumerate(agencies)}
    return [
        CategoryLine(
            code=f"{c.sector}/{c.code}",
            sector=c.sector,
            sector_label=t["sectors"][c.sector],
            label=c.label_sv if language == "sv" else c.label_en,
        )
        for c in sorted(
            view.consent.categories.all(),
            key=lambda c: (sector_order.get(c.sector, 99), c.order, c.code),
        )
    ]


def _signer_line(signer_view: SignerView, label: str, named: bool, t: dict[str, Any]) -> SignerLine:
    signature = signer_view.signature
    return SignerLine(
        kind=signer_view.signer.kind,
        label=label,
        named=named,
        signed_at=signature.signed_at if signature else None,
        signed_on=signature.signed_on if signature else None,
        method=signature.method if signature else "",
        method_label=t["methods"].get(signature.method, "") if signature else "",
        eid_provider=signature.eid_provider if signature else "",
    )


def _signer_lines(view: ConsentView, t: dict[str, Any]) -> list[SignerLine]:
    """Each signer named only where the viewer may see who they are, else by their part."""
    lines: list[SignerLine] = []
    guardian_number = 0
    for signer_view in view.signers:
        signer = signer_view.signer
        if signer.kind == SignerKind.GUARDIAN:
            guardian_number += 1
            named = view.identity_shown and signer.guardian_link is not None
            label = (
                signer.guardian_link.name  # type: ignore[union-attr]
                if named
                else t["guardian"].format(n=guardian_number)
            )
        else:
            named = view.identity_shown
            label = view.consent.youth.name if named else t["youth"]
        lines.append(_signer_line(signer_view, label, named, t))
    return lines


def _adult_day(view: ConsentView, signers: list[SignerLine]) -> date | None:
    """The 18th birthday, when it falls in the period and ends it (no youth signer)."""
    consent = view.consent
    adult_at = view.facts.youth_adult_at
    youth_signs = any(s.kind == SignerKind.YOUTH for s in signers)
    if not youth_signs and consent.valid_from < adult_at < consent.valid_until:
        return timezone.localtime(adult_at).date()
    return None


def _withdrawal_line(view: ConsentView, t: dict[str, Any]) -> WithdrawalLine | None:
    withdrawal = getattr(view.consent, "withdrawal", None)
    if withdrawal is None:
        return None
    return WithdrawalLine(
        withdrawn_at=withdrawal.withdrawn_at,
        method=withdrawal.method,
        method_label=t["withdrawal_methods"].get(withdrawal.method, ""),
    )


def document_of(
    view: ConsentView, language: str, *, now: datetime | None = None
) -> ConsentDocument:
    if language not in LANGUAGES:
        raise ValueError(f"no document text in {language!r}")
    t = TEXT[language]
    consent = view.consent
    youth = consent.youth
    municipality = consent.case.group.municipality
    agencies = _agency_lines(view, t)
    signers = _signer_lines(view, t)
    return ConsentDocument(
        number=consent.pk,
        uid=str(consent.uid),
        verification_code=verification_code(view),
        language=language,
        t=t,
        municipality_name=municipality.name,
        municipality_code=municipality.code,
        pseudonym=youth.pseudonym,
        youth_name=youth.name if view.identity_shown else "",
        purpose=consent.purpose,
        purpose_text=t["purposes"].get(consent.purpose, str(consent.get_purpose_display())),
        agencies=agencies,
        categories=_category_lines(view, t, language, agencies),
        valid_from=consent.valid_from,
        valid_until=consent.valid_until,
        first_day=timezone.localtime(consent.valid_from).date(),
        last_day=last_day(consent.valid_until),
        adult_day=_adult_day(view, signers),
        youth_signs_from_age=consent.youth_signs_from_age,
        state=view.state,
        signers=signers,
        withdrawal=_withdrawal_line(view, t),
        created_at=consent.created_at,
        generated_at=now or timezone.now(),
        portal_url=portal_url(),
    )


def portal_url() -> str:
    return f"{settings.BASE_URL.rstrip('/')}/portal/"


def filename(kind: str, doc: ConsentDocument) -> str:
    """The consent number only: file names show in download lists and mail attachments."""
    return FILENAMES[kind][doc.language].format(n=doc.number)


def stamp(moment: datetime) -> str:
    """Stockholm time with its offset, to the second."""
    return timezone.localtime(moment).isoformat(timespec="seconds")
