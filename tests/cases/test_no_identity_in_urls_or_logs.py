"""Identity numbers never appear in a URL or a log line (DESIGN rule 10)."""

from __future__ import annotations

from django.urls import get_resolver, reverse

from tests.cases.conftest import YOUTH_NUMBER
from tests.helpers import assert_no_identity_number, every_log_line


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
    client = client_for(personas.practitioner)
    visited: list[str] = []
    # Every logger at DEBUG and every configured handler's output, not only what reaches the
    # root. A number typed into a URL: tests/web/test_no_identity_number_in_logs.py.
    with every_log_line(caplog) as logs:
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
    for number in (YOUTH_NUMBER, "120315-1237"):
        assert_no_identity_number(number, *visited, logs.getvalue(), caplog.text)


def test_find_is_post_only(client_for, personas):
    assert client_for(personas.practitioner).get(reverse("cases:find")).status_code == 405
