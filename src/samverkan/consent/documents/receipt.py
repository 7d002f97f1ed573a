"""The consent receipt as JSON, after Kantara's consent receipt specification."""

from __future__ import annotations

from typing import Any

from samverkan.consent.documents.document import ConsentDocument, stamp

RECEIPT_VERSION = "1"
JURISDICTION = "SE"


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
        "valid_from": stamp(doc.valid_from),
        "valid_until": stamp(doc.valid_until),
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
                "signed_at": stamp(s.signed_at),  # type: ignore[arg-type]
                **({"eid_provider": s.eid_provider} if s.method == "electronic" else {}),
            }
            for s in doc.signatures
        ],
        "withdrawal": (
            {"withdrawn_at": stamp(doc.withdrawal.withdrawn_at), "method": doc.withdrawal.method}
            if doc.withdrawal
            else None
        ),
        "how_to_withdraw": doc.t["how_to_withdraw"].format(portal=doc.portal_url),
        "portal_url": doc.portal_url,
        "generated_at": stamp(doc.generated_at),
    }
