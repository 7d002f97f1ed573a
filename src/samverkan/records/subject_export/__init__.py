"""The data-subject export (*registerutdrag*, GDPR art. 15, DESIGN rule 12).

For a youth or a guardian, found by identity number through the keyed hash (never by
decrypting), everything the service holds about them, as a ZIP with ``subject.json`` (for
machines), ``subject.pdf`` (for people, in Swedish or English) and the scanned consent forms
that carry their signature or concern them. The access log in it shows staff the way the
guardian portal does (``portal.access_log``): by agency and role, never by name.

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

from samverkan.records.subject_export.services import (
    LANGUAGES,
    ExportArchive,
    RedactionCandidate,
    RedactionError,
    RedactionReason,
    subject_export,
    subject_export_review,
)

__all__ = [
    "LANGUAGES",
    "ExportArchive",
    "RedactionCandidate",
    "RedactionError",
    "RedactionReason",
    "subject_export",
    "subject_export_review",
]
