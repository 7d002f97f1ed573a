"""The documents of a consent: the printable form, the receipt (PDF and JSON) and the FHIR R4
Consent export.

Every document is built from a ``ConsentView`` that ``consent.selectors.consent_get`` returned
for the acting user, so a document shows exactly what that user may see of the consent: the
family's names only where ``identity_shown``, otherwise "Guardian 1" and the pseudonym. No
document ever holds an identity number.

The wording of the form and the receipt lives in ``TEXT`` below, keyed by language, and nowhere
else (as for the family's plan in ``plans/pdf.py``): a family must never get a half-translated
legal document while the gettext catalogue lags behind. The staff pages around the documents
(refusals) use gettext as usual.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any

from django.conf import settings
from django.template.loader import render_to_string
from django.utils import timezone, translation
from django.utils.html import format_html

from samverkan.consent.models import Purpose, SignatureMethod, SignerKind, WithdrawalMethod
from samverkan.consent.selectors import ConsentView
from samverkan.disclosure.policy import State
from samverkan.lib.pdf import html_to_pdf

LANGUAGES = ("sv", "en")
RECEIPT_VERSION = "1"
JURISDICTION = "SE"

# FHIR R4 code systems. The local ones are named under the deployment's own address: they are
# this system's codes, not a national terminology.
LOINC = "http://loinc.org"
CONSENT_SCOPE = "http://terminology.hl7.org/CodeSystem/consentscope"
CONSENT_ACTION = "http://terminology.hl7.org/CodeSystem/consentaction"
PARTICIPATION_TYPE = "http://terminology.hl7.org/CodeSystem/v3-ParticipationType"
ACT_REASON = "http://terminology.hl7.org/CodeSystem/v3-ActReason"
ACT_CODE = "http://terminology.hl7.org/CodeSystem/v3-ActCode"
OSL_AUTHORITY = "https://www.riksdagen.se/"
OSL_URI = (
    "https://www.riksdagen.se/sv/dokument-och-lagar/dokument/svensk-forfattningssamling/"
    "offentlighets-och-sekretesslag-2009400_sfs-2009-400/"
)
FHIR_CONTENT_TYPE = "application/fhir+json; fhirVersion=4.0"

# R4 Consent.status has no "withdrawn": a consent that was agreed and later withdrawn or that
# ran out is "inactive" ("rejected" means it was never agreed to). A pending one is "proposed".
FHIR_STATUS = {
    State.PENDING: "proposed",
    State.ACTIVE: "active",
    # Agreed, but covering nothing new until a later signer signs.
    State.AWAITING_COSIGNATURE: "inactive",
    State.EXPIRED: "inactive",
    State.WITHDRAWN: "inactive",
}

TEXT: dict[str, dict[str, Any]] = {
    "sv": {
        "form_title": "Samtycke till att dela information",
        "form_subtitle": (
            "Samtycke som bryter sekretessen mellan skola, socialtjänst, polis och fritid (SSPF)"
        ),
        "form_intro": (
            "Skolan, socialtjänsten, polisen och fritidsverksamheten får som regel inte berätta "
            "för varandra vad de vet om ett barn eller en ung person: det hindrar sekretessen. "
            "Med det här samtycket ger ni dem lov att dela viss information med varandra, så att "
            "de tillsammans kan ge tidigt och samordnat stöd. Det är frivilligt att samtycka. "
            "Läs igenom blanketten innan ni skriver under, och fråga oss om något är oklart."
        ),
        "number": "Samtycke nr",
        "code": "Kontrollkod",
        "drawn_up": "Upprättat",
        "municipality": "{name} kommun",
        "about_heading": "Vem samtycket gäller",
        "about_named": "Samtycket gäller information om {youth}.",
        "about_pseudonym": (
            "Samtycket gäller den unga med referensnumret {pseudonym}. Skriv den ungas namn här:"
        ),
        "who_heading": "Vilka som får dela information med varandra",
        "who_intro": (
            "Var och en av de här verksamheterna får lämna information till var och en av de andra:"
        ),
        "who_caption": "Verksamheter som får dela information",
        "agency": "Verksamhet",
        "sector": "Slag av verksamhet",
        "what_heading": "Vilken information",
        "what_intro": "Bara information av de här slagen får delas:",
        "what_outro": "Annan information delas inte med stöd av det här samtycket.",
        "why_heading": "Varför",
        "when_heading": "Hur länge",
        "when_text": (
            "Samtycket gäller från och med {first} till och med {last}. Det börjar gälla först "
            "när alla som ska skriva under har gjort det. Efter den sista dagen delas ingen ny "
            "information med stöd av det."
        ),
        "adult_text": (
            "Om den unga inte själv har skrivit under upphör samtycket redan den {day}, när den "
            "unga fyller 18 år. Från den dagen bestämmer den unga själv."
        ),
        "signers_heading": "Vilka som skriver under",
        "signers_text": (
            "Varje vårdnadshavare som har vårdnaden om barnet skriver under för sig. Har barnet "
            "två vårdnadshavare behöver båda skriva under. Från {age} års ålder skriver den unga "
            "också under, och från 18 år bestämmer den unga själv och skriver ensam under. "
            "Samtycket gäller först när alla nedan har skrivit under."
        ),
        "withdraw_heading": "Så tar ni tillbaka samtycket",
        "withdraw_text": (
            "Ni kan när som helst ta tillbaka (återkalla) samtycket, utan att säga varför och på "
            "vilket sätt ni vill: muntligt till någon av oss som arbetar med ärendet, skriftligt, "
            "eller i vårdnadshavarportalen på {portal}. Det räcker att en av dem som har skrivit "
            "under tar tillbaka samtycket. Det gäller från samma stund: därefter delas ingen ny "
            "information."
        ),
        "shared_heading": "Det som redan har delats",
        "shared_text": (
            "Information som redan har lämnats till en annan verksamhet innan samtycket togs "
            "tillbaka finns kvar hos den som tog emot den. Den märks där som lämnad med stöd av "
            "ett samtycke som har tagits tillbaka."
        ),
        "signatures_heading": "Underskrifter",
        "signatures_intro": (
            "Med min underskrift samtycker jag till att de verksamheter som står ovan delar den "
            "information som står ovan med varandra, för det ändamål och under den tid som står "
            "ovan."
        ),
        "name": "Namn",
        "signature": "Namnteckning",
        "date": "Datum",
        "place": "Ort",
        "signed_note": "Underskrivet {day} ({method}).",
        "page": "Sida",
        "of": "av",
        "guardian": "Vårdnadshavare {n}",
        "youth": "Den unga",
        "receipt_title": "Kvitto på samtycke",
        "receipt_intro": (
            "Det här kvittot visar vad som har samtyckts till, vilka som har skrivit under och "
            "hur samtycket kan tas tillbaka."
        ),
        "controller": "Personuppgiftsansvarig",
        "state": "Läge",
        "purpose": "Ändamål",
        "period": "Giltighet",
        "period_value": "{first} – {last}",
        "subject": "Den unga",
        "who": "Vem",
        "how": "Hur",
        "when": "När",
        "awaiting": "Väntar på underskrift",
        "withdrawal_heading": "Återkallelse",
        "withdrawal_text": "Samtycket togs tillbaka {when} ({method}).",
        "generated": "Utfärdat",
        "how_to_withdraw": (
            "Samtycket kan när som helst tas tillbaka, på vilket sätt som helst: muntligt till "
            "någon i personalen, skriftligt eller i vårdnadshavarportalen på {portal}. Det som "
            "redan har delats finns kvar hos mottagaren och märks som lämnat med stöd av ett "
            "samtycke som har tagits tillbaka."
        ),
        "purposes": {
            Purpose.SSPF: (
                "Tidigt och samordnat stöd till den unga inom SSPF, där skola, socialtjänst, "
                "polis och fritid arbetar tillsammans för att förebygga att den unga far illa, "
                "begår brott eller använder droger."
            ),
        },
        "states": {
            State.PENDING: "Väntar på underskrifter",
            State.ACTIVE: "Gäller",
            State.AWAITING_COSIGNATURE: "Gäller inte nytt förrän fler har skrivit under",
            State.EXPIRED: "Har upphört att gälla",
            State.WITHDRAWN: "Återkallat",
        },
        "methods": {
            SignatureMethod.PAPER: "pappersblankett, inskannad",
            SignatureMethod.IN_PERSON: "på plats, bevittnat av personal",
            SignatureMethod.ELECTRONIC: "e-legitimation",
        },
        "withdrawal_methods": {
            WithdrawalMethod.ORAL: "muntligt till personal",
            WithdrawalMethod.WRITTEN: "skriftligt",
            WithdrawalMethod.PORTAL: "i vårdnadshavarportalen",
        },
        "sectors": {
            "school": "Skola",
            "social_services": "Socialtjänst",
            "police": "Polis",
            "leisure": "Fritid",
            "other": "Annan verksamhet",
        },
    },
    "en": {
        "form_title": "Consent to share information",
        "form_subtitle": (
            "Consent that lifts confidentiality between school, social services, police and "
            "leisure services (SSPF)"
        ),
        "form_intro": (
            "The school, social services, the police and leisure services may as a rule not tell "
            "each other what they know about a child or young person: confidentiality prevents "
            "it. With this consent you allow them to share certain information with each other, "
            "so that together they can give early and coordinated support. Consenting is "
            "voluntary. Read the form before you sign it, and ask us if anything is unclear."
        ),
        "number": "Consent no.",
        "code": "Verification code",
        "drawn_up": "Drawn up",
        "municipality": "{name} Municipality",
        "about_heading": "Who the consent is about",
        "about_named": "The consent is about information concerning {youth}.",
        "about_pseudonym": (
            "The consent is about the young person with the reference number {pseudonym}. "
            "Write the young person's name here:"
        ),
        "who_heading": "Who may share information with each other",
        "who_intro": "Each of these agencies may give information to each of the others:",
        "who_caption": "Agencies that may share information",
        "agency": "Agency",
        "sector": "Kind of agency",
        "what_heading": "What information",
        "what_intro": "Only information of these kinds may be shared:",
        "what_outro": "No other information is shared on the basis of this consent.",
        "why_heading": "Why",
        "when_heading": "For how long",
        "when_text": (
            "The consent is valid from {first} up to and including {last}. It takes effect only "
            "when everyone who must sign has signed. After the last day no new information is "
            "shared on the basis of it."
        ),
        "adult_text": (
            "Unless the young person has signed it themselves, the consent ends already on "
            "{day}, when the young person turns 18. From that day the young person decides "
            "alone."
        ),
        "signers_heading": "Who signs",
        "signers_text": (
            "Each guardian who has custody of the child signs separately. If the child has two "
            "guardians, both must sign. From the age of {age} the young person signs too, and "
            "from 18 the young person decides alone and signs alone. The consent is valid only "
            "when everyone below has signed."
        ),
        "withdraw_heading": "How to withdraw the consent",
        "withdraw_text": (
            "You can withdraw the consent at any time, without saying why and in any form you "
            "like: orally to any of us who work on the case, in writing, or in the guardian "
            "portal at {portal}. It is enough that one of those who signed withdraws it. The "
            "withdrawal takes effect at once: after it no new information is shared."
        ),
        "shared_heading": "Information already shared",
        "shared_text": (
            "Information that was given to another agency before the consent was withdrawn "
            "stays with the agency that received it. It is marked there as shared under a "
            "consent that has been withdrawn."
        ),
        "signatures_heading": "Signatures",
        "signatures_intro": (
            "By signing I consent to the agencies named above sharing the information described "
            "above with each other, for the purpose and during the period stated above."
        ),
        "name": "Name",
        "signature": "Signature",
        "date": "Date",
        "place": "Place",
        "signed_note": "Signed on {day} ({method}).",
        "page": "Page",
        "of": "of",
        "guardian": "Guardian {n}",
        "youth": "The young person",
        "receipt_title": "Consent receipt",
        "receipt_intro": (
            "This receipt shows what was consented to, who has signed and how the consent can be "
            "withdrawn."
        ),
        "controller": "Controller",
        "state": "Status",
        "purpose": "Purpose",
        "period": "Valid",
        "period_value": "{first} – {last}",
        "subject": "The young person",
        "who": "Who",
        "how": "How",
        "when": "When",
        "awaiting": "Not yet signed",
        "withdrawal_heading": "Withdrawal",
        "withdrawal_text": "The consent was withdrawn on {when} ({method}).",
        "generated": "Issued",
        "how_to_withdraw": (
            "The consent can be withdrawn at any time and in any form: orally to any of the "
            "staff, in writing, or in the guardian portal at {portal}. Information already "
            "shared stays with the recipient and is marked as shared under a withdrawn consent."
        ),
        "purposes": {
            Purpose.SSPF: (
                "Early, coordinated support for the young person within SSPF, where school, "
                "social services, the police and leisure services work together to prevent the "
                "young person from coming to harm, committing crime or using drugs."
            ),
        },
        "states": {
            State.PENDING: "Waiting for signatures",
            State.ACTIVE: "Valid",
            State.AWAITING_COSIGNATURE: "Covers nothing new until more have signed",
            State.EXPIRED: "No longer valid",
            State.WITHDRAWN: "Withdrawn",
        },
        "methods": {
            SignatureMethod.PAPER: "paper form, scanned",
            SignatureMethod.IN_PERSON: "in person, witnessed by staff",
            SignatureMethod.ELECTRONIC: "electronic identification",
        },
        "withdrawal_methods": {
            WithdrawalMethod.ORAL: "orally to staff",
            WithdrawalMethod.WRITTEN: "in writing",
            WithdrawalMethod.PORTAL: "in the guardian portal",
        },
        "sectors": {
            "school": "School",
            "social_services": "Social services",
            "police": "Police",
            "leisure": "Leisure",
            "other": "Other agency",
        },
    },
}

FILENAMES = {
    "form": {"sv": "samtycke-{n}-blankett.pdf", "en": "consent-{n}-form.pdf"},
    "receipt_pdf": {"sv": "samtycke-{n}-kvitto.pdf", "en": "consent-{n}-receipt.pdf"},
    "receipt_json": {"sv": "samtycke-{n}-kvitto.json", "en": "consent-{n}-receipt.json"},
    "fhir": {"sv": "samtycke-{n}.fhir.json", "en": "consent-{n}.fhir.json"},
}


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


def document_of(
    view: ConsentView, language: str, *, now: datetime | None = None
) -> ConsentDocument:
    if language not in LANGUAGES:
        raise ValueError(f"no document text in {language!r}")
    t = TEXT[language]
    consent = view.consent
    youth = consent.youth
    municipality = consent.case.group.municipality
    agencies = [
        AgencyLine(pk=a.pk, name=a.name, sector=a.sector, sector_label=t["sectors"][a.sector])
        for a in view.agencies
    ]
    sector_order = {a.sector: i for i, a in enumerate(agencies)}
    categories = [
        CategoryLine(
            code=f"{c.sector}/{c.code}",
            sector=c.sector,
            sector_label=t["sectors"][c.sector],
            label=c.label_sv if language == "sv" else c.label_en,
        )
        for c in sorted(
            consent.categories.all(),
            key=lambda c: (sector_order.get(c.sector, 99), c.order, c.code),
        )
    ]
    signers: list[SignerLine] = []
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
            label = youth.name if named else t["youth"]
        signature = signer_view.signature
        signers.append(
            SignerLine(
                kind=signer.kind,
                label=label,
                named=named,
                signed_at=signature.signed_at if signature else None,
                signed_on=signature.signed_on if signature else None,
                method=signature.method if signature else "",
                method_label=t["methods"].get(signature.method, "") if signature else "",
                eid_provider=signature.eid_provider if signature else "",
            )
        )
    withdrawal = getattr(consent, "withdrawal", None)
    adult_at = view.facts.youth_adult_at
    youth_signs = any(s.kind == SignerKind.YOUTH for s in signers)
    adult_day = (
        timezone.localtime(adult_at).date()
        if not youth_signs and consent.valid_from < adult_at < consent.valid_until
        else None
    )
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
        categories=categories,
        valid_from=consent.valid_from,
        valid_until=consent.valid_until,
        first_day=timezone.localtime(consent.valid_from).date(),
        last_day=last_day(consent.valid_until),
        adult_day=adult_day,
        youth_signs_from_age=consent.youth_signs_from_age,
        state=view.state,
        signers=signers,
        withdrawal=(
            WithdrawalLine(
                withdrawn_at=withdrawal.withdrawn_at,
                method=withdrawal.method,
                method_label=t["withdrawal_methods"].get(withdrawal.method, ""),
            )
            if withdrawal is not None
            else None
        ),
        created_at=consent.created_at,
        generated_at=now or timezone.now(),
        portal_url=portal_url(),
    )


def portal_url() -> str:
    return f"{settings.BASE_URL.rstrip('/')}/portal/"


def filename(kind: str, doc: ConsentDocument) -> str:
    """The consent number only: file names show in download lists and mail attachments."""
    return FILENAMES[kind][doc.language].format(n=doc.number)


def _stamp(moment: datetime) -> str:
    """Stockholm time with its offset, to the second."""
    return timezone.localtime(moment).isoformat(timespec="seconds")


def _unbroken(url: str) -> str:
    return format_html('<span class="nowrap">{}</span>', url)


def _sentences(doc: ConsentDocument) -> dict[str, str]:
    """The sentences of the PDFs with their facts filled in (HTML: values escaped)."""
    t = doc.t
    return {
        "about": (
            t["about_named"].format(youth=doc.youth_name)
            if doc.identity_shown
            else t["about_pseudonym"].format(pseudonym=doc.pseudonym)
        ),
        "when": t["when_text"].format(
            first=doc.first_day.isoformat(), last=doc.last_day.isoformat()
        ),
        "adult": (t["adult_text"].format(day=doc.adult_day.isoformat()) if doc.adult_day else ""),
        "signers": t["signers_text"].format(age=doc.youth_signs_from_age),
        # The address is kept on one line: a broken one cannot be typed from the paper.
        "withdraw": format_html(t["withdraw_text"], portal=_unbroken(doc.portal_url)),
        "how_to_withdraw": format_html(t["how_to_withdraw"], portal=_unbroken(doc.portal_url)),
        "period": t["period_value"].format(
            first=doc.first_day.isoformat(), last=doc.last_day.isoformat()
        ),
        "withdrawal": (
            t["withdrawal_text"].format(
                when=timezone.localtime(doc.withdrawal.withdrawn_at).strftime("%Y-%m-%d %H:%M"),
                method=doc.withdrawal.method_label,
            )
            if doc.withdrawal
            else ""
        ),
    }


def _signed_note(doc: ConsentDocument, signer: SignerLine) -> str:
    if signer.signed_on is None:
        return ""
    note: str = doc.t["signed_note"].format(
        day=signer.signed_on.isoformat(), method=signer.method_label
    )
    return note


def _render(template: str, doc: ConsentDocument) -> bytes:
    context = {
        "d": doc,
        "t": doc.t,
        "s": _sentences(doc),
        "signers": [(signer, _signed_note(doc, signer)) for signer in doc.signers],
    }
    with translation.override(doc.language):
        html = render_to_string(f"consent/documents/{template}.html", context)
        css = render_to_string("consent/documents/document.css", context)
    return html_to_pdf(html, css)


def form_pdf(doc: ConsentDocument) -> bytes:
    return _render("form", doc)


def receipt_pdf(doc: ConsentDocument) -> bytes:
    return _render("receipt", doc)


def receipt_json(doc: ConsentDocument) -> dict[str, Any]:
    """A consent receipt after Kantara's: what was agreed, by whom, under which controller, and
    how to withdraw. Signers are labelled as the viewer may see them; no identity numbers."""
    return {
        "receipt_version": RECEIPT_VERSION,
        "language": doc.language,
        "jurisdiction": JURISDICTION,
        "consent_number": doc.number,
        "consent_uid": doc.uid,
        "verification_code": doc.verification_code,
        "controller": {"name": doc.municipality_label, "municipality_code": doc.municipality_code},
        "subject": {"pseudonym": doc.pseudonym, "name": doc.youth_name or None},
        "purpose": {"code": doc.purpose, "text": doc.purpose_text},
        "agencies": [
            {"name": a.name, "sector": a.sector, "sector_label": a.sector_label}
            for a in doc.agencies
        ],
        "categories": [{"code": c.code, "label": c.label} for c in doc.categories],
        "valid_from": _stamp(doc.valid_from),
        "valid_until": _stamp(doc.valid_until),
        "first_day": doc.first_day.isoformat(),
        "last_day": doc.last_day.isoformat(),
        "state": str(doc.state),
        "state_label": doc.state_label,
        "required_signatures": len(doc.signers),
        "signatures": [
            {
                "signer_kind": s.kind,
                "label": s.label,
                "method": s.method,
                "signed_at": _stamp(s.signed_at),  # type: ignore[arg-type]
                **({"eid_provider": s.eid_provider} if s.method == "electronic" else {}),
            }
            for s in doc.signatures
        ],
        "withdrawal": (
            {"withdrawn_at": _stamp(doc.withdrawal.withdrawn_at), "method": doc.withdrawal.method}
            if doc.withdrawal
            else None
        ),
        "how_to_withdraw": doc.t["how_to_withdraw"].format(portal=doc.portal_url),
        "portal_url": doc.portal_url,
        "generated_at": _stamp(doc.generated_at),
    }


def _local_system(name: str) -> str:
    return f"{settings.BASE_URL.rstrip('/')}/fhir/{name}"


def fhir_consent(doc: ConsentDocument) -> dict[str, Any]:
    """The consent as a FHIR R4 Consent resource (http://hl7.org/fhir/R4/consent.html).

    The youth is referred to by pseudonym only. Performers are those who have signed, labelled
    as the viewer may see them. The period is given in whole days (Europe/Stockholm), which
    FHIR reads as inclusive.
    """
    pseudonym_system = _local_system("NamingSystem/pseudonym")
    performers: list[dict[str, Any]] = []
    for signer in doc.signatures:
        if signer.kind == SignerKind.YOUTH:
            performers.append(
                {
                    "type": "Patient",
                    "identifier": {"system": pseudonym_system, "value": doc.pseudonym},
                    "display": signer.label,
                }
            )
        else:
            performers.append({"type": "RelatedPerson", "display": signer.label})
    category_system = _local_system("CodeSystem/information-category")
    resource: dict[str, Any] = {
        "resourceType": "Consent",
        "id": doc.uid,
        "language": doc.language,
        "identifier": [
            {"system": _local_system("NamingSystem/consent-number"), "value": str(doc.number)},
            {"system": "urn:ietf:rfc:3986", "value": f"urn:uuid:{doc.uid}"},
        ],
        "status": FHIR_STATUS[doc.state],
        "scope": {
            "coding": [
                {"system": CONSENT_SCOPE, "code": "patient-privacy", "display": "Privacy Consent"}
            ]
        },
        "category": [
            {"coding": [{"system": LOINC, "code": "59284-0", "display": "Patient Consent"}]}
        ],
        "patient": {
            "type": "Patient",
            "identifier": {"system": pseudonym_system, "value": doc.pseudonym},
            "display": doc.pseudonym,
        },
        "dateTime": _stamp(doc.created_at),
        "organization": [
            {
                "type": "Organization",
                "identifier": {
                    "system": _local_system("NamingSystem/municipality-code"),
                    "value": doc.municipality_code,
                },
                "display": doc.municipality_label,
            }
        ],
        "policy": [{"authority": OSL_AUTHORITY, "uri": OSL_URI}],
        "policyRule": {
            "coding": [{"system": ACT_CODE, "code": "OPTIN", "display": "opt-in"}],
            "text": "Offentlighets- och sekretesslagen (2009:400) 12 kap. 2 §",
        },
        "provision": {
            "type": "permit",
            "period": {"start": doc.first_day.isoformat(), "end": doc.last_day.isoformat()},
            "actor": [
                {
                    "role": {
                        "coding": [
                            {
                                "system": PARTICIPATION_TYPE,
                                "code": "IRCP",
                                "display": "information recipient",
                            }
                        ]
                    },
                    "reference": {
                        "type": "Organization",
                        "identifier": {
                            "system": _local_system("NamingSystem/agency"),
                            "value": str(a.pk),
                        },
                        "display": a.name,
                    },
                }
                for a in doc.agencies
            ],
            "action": [{"coding": [{"system": CONSENT_ACTION, "code": "disclose"}]}],
            "purpose": [
                {"system": ACT_REASON, "code": "COC", "display": "coordination of care"},
                {
                    "system": _local_system("CodeSystem/consent-purpose"),
                    "code": doc.purpose,
                    "display": doc.purpose_text,
                },
            ],
            "code": [
                {"coding": [{"system": category_system, "code": c.code, "display": c.label}]}
                for c in doc.categories
            ],
        },
    }
    if performers:  # FHIR JSON has no empty arrays: nobody has signed yet, no performer
        resource["performer"] = performers
    return resource
