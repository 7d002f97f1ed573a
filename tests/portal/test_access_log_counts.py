"""The guardian's access log and the subject export count the entries a page read, now that a
page writes one ``entry.viewed`` event per legal basis naming its entries (D29)."""

from __future__ import annotations

from django.urls import reverse

from samverkan.audit.models import AuditEvent
from samverkan.cases.services import entry_add
from samverkan.portal import selectors as portal_selectors
from samverkan.portal.subjects import PortalSubject


def _entries(
    personas, world, consent_case, *, school: int, social: int
) -> tuple[list[int], list[int]]:
    """Entries of the school (shared with social services under the consent) and of social
    services' own; their ids."""
    made: tuple[list[int], list[int]] = ([], [])
    for ids, count, actor, agency, category in (
        (made[0], school, personas.practitioner, world.avesta_school, "school_category"),
        (made[1], social, personas.other_agency, world.avesta_social, "social_category"),
    ):
        for i in range(count):
            entry = entry_add(
                actor=actor,
                case=consent_case.case,
                agency=agency,
                category=getattr(consent_case, category),
                text=f"Anteckning {i} från {agency.name}",
            )
            ids.append(entry.pk)
    return made


def test_the_access_log_counts_the_entries_read_not_the_events(
    active_consent, personas, world, consent_case, client_for
):
    _entries(personas, world, consent_case, school=3, social=3)
    client = client_for(personas.other_agency)
    assert client.get(reverse("cases:detail", args=[consent_case.case.pk])).status_code == 200
    read = list(AuditEvent.objects.filter(action="entry.viewed", actor=personas.other_agency))
    assert len(read) == 2  # their own agency's entries and the school's, under the consent
    assert sum(len(e.details["entries"]) for e in read) == 6
    subject = PortalSubject("guardian", consent_case.guardian_1.guardian_id)
    rows = portal_selectors.access_log(subject=subject, page_number=None).rows
    counts = [r.count for r in rows if r.action == "Read journal entries"]
    assert counts == [6]


def test_each_entry_is_named_under_the_basis_it_was_shown_under(
    active_consent, personas, world, consent_case, client_for
):
    school, social = _entries(personas, world, consent_case, school=2, social=3)
    client = client_for(personas.other_agency)
    assert client.get(reverse("cases:detail", args=[consent_case.case.pk])).status_code == 200
    named = {
        e.legal_basis: sorted(e.details["entries"])
        for e in AuditEvent.objects.filter(action="entry.viewed", actor=personas.other_agency)
    }
    assert named == {
        "own_agency": sorted(social),
        f"consent:{active_consent.pk}": sorted(school),
    }
