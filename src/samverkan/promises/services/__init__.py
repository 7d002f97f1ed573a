"""Every write to agreements. Each function locks the agreement row, changes it, and — in the
same transaction — appends an audit event and a new ``AgreementVersion`` snapshot, so that every
change is versioned and audited or neither happens.

Decisions (DESIGN §3, issue 5):
- Status moves only along ``models.TRANSITIONS``; extending is its own call (a later end date
  and a reason); assessing needs every party's assessment first.
- Signing needs at least one party and a signatory for every party.
- After signing, the period changes only by extension: the signed text is what citizens were
  promised.
- A draft cannot be published: it is the parties' working paper until signed. Unpublishing is
  allowed at any time.
- An assessed agreement is closed: content no longer changes; its parties may still revise
  their own assessment, and it may be published or unpublished and linked to others.
- A police or municipality party names the agency that speaks for it; each party's
  assessment is recorded only by an agreement editor of that agency (``rules.can_assess_party``;
  an outside party without an agency by any editor of the municipality, on its behalf).
- Activities, follow-ups, signatures and assessments are never dated in the future. Activities,
  follow-ups and assessments are not dated before the agreement's period starts; a signature may
  be (signing comes before the period), and is taken as the signed paper says.
- Text the public will read (title, focus area, situation summary, party names, signatories,
  commitments, activities, follow-ups and their progress notes, assessments, extension reasons)
  is refused when it holds something shaped like an identity number
  (``lib.personnummer.looks_like_identity_number``).
- A follow-up cites values only of the series linked to the agreement's commitments.
- Links join agreements the actor may edit, both of them; a link to an agreement the actor
  cannot edit (so cannot see on the page) is kept as it is when they save theirs.

The package: ``agreements`` (agreements, parties, signatories), ``commitments``
(commitments, activities, follow-ups, assessments), ``common`` (the shared checks and
``_record``) and ``snapshot``.
"""

from __future__ import annotations

from samverkan.promises.services.agreements import (
    agreement_create,
    agreement_extend,
    agreement_link,
    agreement_publish,
    agreement_transition,
    agreement_unpublish,
    agreement_update,
    party_add,
    signatory_add,
)
from samverkan.promises.services.commitments import (
    KEEP,
    Keep,
    ProgressEntry,
    activity_add,
    assessment_record,
    commitment_add,
    commitment_update,
    follow_up_add,
)
from samverkan.promises.services.common import ASSESS_OWN_PARTY_ONLY, MAX_TARGET, MAX_TEXT
from samverkan.promises.services.snapshot import snapshot

__all__ = [
    "ASSESS_OWN_PARTY_ONLY",
    "KEEP",
    "MAX_TARGET",
    "MAX_TEXT",
    "Keep",
    "ProgressEntry",
    "activity_add",
    "agreement_create",
    "agreement_extend",
    "agreement_link",
    "agreement_publish",
    "agreement_transition",
    "agreement_unpublish",
    "agreement_update",
    "assessment_record",
    "commitment_add",
    "commitment_update",
    "follow_up_add",
    "party_add",
    "signatory_add",
    "snapshot",
]
