"""The consent as a FHIR R4 Consent resource (http://hl7.org/fhir/R4/consent.html)."""

from __future__ import annotations

from typing import Any

from django.conf import settings

from samverkan.consent.documents.document import ConsentDocument, stamp
from samverkan.consent.models import SignerKind
from samverkan.disclosure.policy import State

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


def _local_system(name: str) -> str:
    return f"{settings.BASE_URL.rstrip('/')}/fhir/{name}"


def _performers(doc: ConsentDocument, pseudonym_system: str) -> list[dict[str, Any]]:
    """Those who have signed, labelled as the viewer may see them; the youth by pseudonym."""
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
    return performers


def _organization(doc: ConsentDocument) -> dict[str, Any]:
    return {
        "type": "Organization",
        "identifier": {
            "system": _local_system("NamingSystem/municipality-code"),
            "value": doc.municipality_code,
        },
        "display": doc.municipality_label,
    }


def _recipient(agency_pk: int, name: str) -> dict[str, Any]:
    return {
        "role": {
            "coding": [
                {"system": PARTICIPATION_TYPE, "code": "IRCP", "display": "information recipient"}
            ]
        },
        "reference": {
            "type": "Organization",
            "identifier": {"system": _local_system("NamingSystem/agency"), "value": str(agency_pk)},
            "display": name,
        },
    }


def _provision(doc: ConsentDocument) -> dict[str, Any]:
    category_system = _local_system("CodeSystem/information-category")
    return {
        "type": "permit",
        "period": {"start": doc.first_day.isoformat(), "end": doc.last_day.isoformat()},
        "actor": [_recipient(a.pk, a.name) for a in doc.agencies],
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
    }


def fhir_consent(doc: ConsentDocument) -> dict[str, Any]:
    """The consent as a FHIR R4 Consent resource (http://hl7.org/fhir/R4/consent.html).

    The youth is referred to by pseudonym only. Performers are those who have signed, labelled
    as the viewer may see them. The period is given in whole days (Europe/Stockholm), which
    FHIR reads as inclusive.
    """
    pseudonym_system = _local_system("NamingSystem/pseudonym")
    performers = _performers(doc, pseudonym_system)
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
        "dateTime": stamp(doc.created_at),
        "organization": [_organization(doc)],
        "policy": [{"authority": OSL_AUTHORITY, "uri": OSL_URI}],
        "policyRule": {
            "coding": [{"system": ACT_CODE, "code": "OPTIN", "display": "opt-in"}],
            "text": "Offentlighets- och sekretesslagen (2009:400) 12 kap. 2 §",
        },
        "provision": _provision(doc),
    }
    if performers:  # FHIR JSON has no empty arrays: nobody has signed yet, no performer
        resource["performer"] = performers
    return resource
