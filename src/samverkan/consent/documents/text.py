"""The wording of a consent's form and receipt, by language, and their file names.

It lives here and nowhere else (as for the family's plan in ``plans/pdf.py``): a family must
never get a half-translated legal document while the gettext catalogue lags behind. The staff
pages around the documents (refusals) use gettext as usual.
"""

from __future__ import annotations

from typing import Any

from samverkan.consent.models import Purpose, SignatureMethod, WithdrawalMethod
from samverkan.disclosure.policy import State

LANGUAGES = ("sv", "en")

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
