"""Every page carries the security headers of the Foundation issue."""

from __future__ import annotations

import pytest
from django.urls import reverse


def assert_common_headers(response):
    csp = response["Content-Security-Policy"]
    assert "script-src 'self'" in csp
    assert "frame-ancestors 'none'" in csp
    assert "unsafe-inline" not in csp
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["Referrer-Policy"] == "same-origin"
    assert response["X-Frame-Options"] == "DENY"


@pytest.mark.parametrize(
    "url", ["/", "/accounts/login/", "/api/v1/openapi.json", "/does-not-exist/"]
)
def test_anonymous_pages(client, db, url):
    assert_common_headers(client.get(url))


def test_authenticated_pages_are_not_cached(client_for, personas):
    client = client_for(personas.admin)
    for url in (reverse("web:home"), reverse("accounts:user_list"), reverse("api:token_list")):
        response = client.get(url)
        assert response.status_code == 200
        assert_common_headers(response)
        assert "no-store" in response["Cache-Control"]


def test_pages_have_no_inline_script_or_style(client_for, personas):
    """The strict CSP forbids inline script and style; the pages must not need them."""
    import re

    pages = [
        (client_for(None), "/"),
        (client_for(None), "/accounts/login/"),
        (client_for(None), reverse("tracker:list")),
        (client_for(personas.admin), reverse("accounts:user_list")),
        (client_for(personas.admin), reverse("cases:lists")),
        (client_for(personas.auditor), reverse("records:review")),
        (client_for(personas.practitioner), reverse("web:home")),
        (client_for(personas.practitioner), reverse("cases:raise")),
        (client_for(personas.coordinator), reverse("meetings:list")),
    ]
    for client, url in pages:
        response = client.get(url)
        assert response.status_code == 200, url
        html = response.content.decode()
        for tag in re.findall(r"<script\b[^>]*>", html):
            assert "src=" in tag or 'type="application/json"' in tag, (url, tag)
        assert " style=" not in html, url
        assert " onclick=" not in html.lower(), url


def test_request_id_header(client, db):
    response = client.get("/")
    assert len(response["X-Request-ID"]) == 32


def test_health(client, db):
    response = client.get("/health")
    assert response.status_code == 200
    assert response.content == b"ok"


def test_not_found_page_uses_the_layout_and_reveals_nothing(client, db):
    response = client.get("/admin/users/12345/")
    assert response.status_code in (302, 404)
    response = client.get("/no/such/page/")
    assert response.status_code == 404
    assert b"skip-link" in response.content
    assert b"Traceback" not in response.content


def test_server_error_page_is_static_and_bilingual(client, db):
    from django.template.loader import render_to_string

    html = render_to_string("500.html")
    assert "Ett fel uppstod" in html
    assert "An error occurred" in html


def test_client_address_behind_proxies():
    from samverkan.lib.context import client_ip

    meta = {"REMOTE_ADDR": "10.0.0.2", "HTTP_X_FORWARDED_FOR": "203.0.113.9, 198.51.100.7"}
    assert client_ip(meta, 0) == "10.0.0.2"
    assert client_ip(meta, 1) == "198.51.100.7"
    assert client_ip(meta, 2) == "203.0.113.9"
    assert client_ip({"REMOTE_ADDR": "10.0.0.2"}, 1) == "10.0.0.2"
