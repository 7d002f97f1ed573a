"""The guardian's access log and the subject export count the entries a page read, now that a
page writes one ``entry.viewed`` event per legal basis naming its entries (D29)."""

from __future__ import annotations

from django.urls import reverse

from samverkan.audit.models import AuditEvent
from samverkan.cases.services import entry_add
from samverkan.portal import selectors as portal_selectors
from samverkan.portal.subjects import PortalSubject


def test_the_access_log_counts_the_entries_read_not_the_events(
    active_consent, personas, world, consent_case, client_for
):
    for i in range(3):
        entry_add(
            actor=personas.practitioner,
            case=consent_case.case,
            agency=world.avesta_school,
            category=consent_case.school_category,
            text=f"Skolans anteckning {i}",
        )
        entry_add(
            actor=personas.other_agency,
            case=consent_case.case,
            agency=world.avesta_social,
            category=consent_case.social_category,
            text=f"Socialtjänstens anteckning {i}",
        )
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
    school = [
        entry_add(
            actor=personas.practitioner,
            case=consent_case.case,
            agency=world.avesta_school,
            category=consent_case.school_category,
            text=f"Skolans anteckning {i}",
        ).pk
        for i in range(2)
    ]
    social = [
        entry_add(
            actor=personas.other_agency,
            case=consent_case.case,
            agency=world.avesta_social,
            category=consent_case.social_category,
            text=f"Socialtjänstens anteckning {i}",
        ).pk
        for i in range(3)
    ]
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
