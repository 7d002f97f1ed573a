"""Identity numbers never appear in a URL or a log line (DESIGN rule 10)."""

from __future__ import annotations

import logging

from django.urls import get_resolver, reverse

from tests.cases.conftest import YOUTH_NUMBER


def test_no_url_pattern_takes_an_identity_number():
    def walk(resolver, prefix=""):
        for pattern in resolver.url_patterns:
            if hasattr(pattern, "url_patterns"):
                yield from walk(pattern, prefix + str(pattern.pattern))
            else:
                yield prefix + str(pattern.pattern)

    for route in walk(get_resolver()):
        lowered = route.lower()
        assert "personnummer" not in lowered
        assert "identity" not in lowered
        assert "pnr" not in lowered


def test_the_whole_case_flow_logs_no_identity_number(client_for, personas, world, caplog):
    caplog.set_level(logging.DEBUG)
    client = client_for(personas.practitioner)
    visited: list[str] = []
    response = client.post(
        reverse("cases:raise"),
        {
            "group_agency": f"{world.avesta_group.pk}:{world.avesta_school.pk}",
            "identity_number": YOUTH_NUMBER,
            "name": "Kalle Testberg",
            "gender": "M",
            "reason": "Hög frånvaro",
            "risk_factors": ["high_absence"],
        },
    )
    assert response.status_code == 302
    visited.append(response["Location"])
    response = client.post(reverse("cases:find"), {"identity_number": YOUTH_NUMBER})
    assert response.status_code == 200
    assert "Kalle Testberg" in response.content.decode()
    # An invalid number is refused without echoing it back in a message.
    bad = client.post(reverse("cases:find"), {"identity_number": "120315-1237"})
    assert "check digit" in bad.content.decode() or "kontrollsiffra" in bad.content.decode()
    response = client.get(
        response.context["rows"][0].case
        and reverse("cases:detail", args=[response.context["rows"][0].case.pk])
    )
    visited.append(response.request["PATH_INFO"])
    for text in [*visited, *(r.getMessage() for r in caplog.records)]:
        for form in ("201203151236", "20120315-1236", "120315-1236", "1203151236", "120315-1237"):
            assert form not in text, text


def test_find_is_post_only(client_for, personas):
    assert client_for(personas.practitioner).get(reverse("cases:find")).status_code == 405
