"""Everything the case page (and the API's case read) shows of one case, in one call: the
journal, why each entry may be seen, the family where identity may be shown, the content
where rule 16 allows it, and the reports of concern the viewer may see."""

from __future__ import annotations

from dataclasses import dataclass

from samverkan.cases.models import ConcernReport, GuardianLink, Youth
from samverkan.disclosure.explain import CasePageNotes, case_page_notes
from samverkan.disclosure.selectors import (
    CaseAccess,
    CaseContent,
    EntryListing,
    case_content,
    concern_reports,
    entry_listing,
    youth_of,
)


@dataclass(frozen=True)
class CasePage:
    access: CaseAccess
    listing: EntryListing
    notes: CasePageNotes
    youth: Youth | None
    guardians: list[GuardianLink]
    content: CaseContent | None
    concerns: list[ConcernReport]
    # Social services on the team: they acknowledge reports of concern.
    receives_concerns: bool


def case_page(access: CaseAccess) -> CasePage:
    """A fixed number of queries whatever the number of entries, consents or reports; the
    journal's reads are audited by ``entry_listing``."""
    listing = entry_listing(access)
    youth = youth_of(access)
    social = access.receives_concern_reports
    return CasePage(
        access=access,
        listing=listing,
        notes=case_page_notes(access, listing),
        youth=youth,
        guardians=[]
        if youth is None
        else list(access.case.guardian_links.select_related("guardian")),
        content=case_content(access),
        concerns=concern_reports(access, social=social),
        receives_concerns=social,
    )
