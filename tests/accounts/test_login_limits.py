"""Login limits that do not lock a whole office out (issue 17, finding 7).

The per-address limit was 30 attempts a minute: one noisy client behind a municipal NAT
blocked every colleague's correct login for a minute. Now an address is refused only after
failing on many *distinct* accounts, and a list of trusted proxies lets a municipality's own
outbound proxy name each workstation.
"""

from __future__ import annotations

from ipaddress import ip_network

import pytest
from django.test import Client, override_settings

from samverkan.audit.models import AuditEvent
from samverkan.lib import limits
from samverkan.lib.context import client_ip, parse_networks
from tests.helpers import PASSWORD
from tests.web.test_production_config import run_cli

LOGIN = "/accounts/login/"
MFA = "/accounts/2fa/authenticate/"
OFFICE = "192.0.2.10"  # one municipal NAT address for a whole office


def attempt(username: str, password: str = PASSWORD, *, ip: str = OFFICE):
    return Client(HTTP_ACCEPT_LANGUAGE="en").post(
        LOGIN, {"login": username, "password": password}, REMOTE_ADDR=ip
    )


def test_one_noisy_colleague_does_not_block_the_office(personas):
    for _ in range(40):  # more than the old 30 a minute per address
        attempt("anna", "not the password")
    # anna herself is refused (per account: django-axes and allauth), everyone else logs in.
    assert attempt("anna").status_code in (200, 429)
    response = attempt("bertil")
    assert response.status_code == 302
    assert response["Location"] == MFA


@override_settings(LOGIN_ADDRESS_LIMIT=limits.Rate(5, 900))
def test_an_address_failing_on_many_accounts_is_stopped(personas):
    for n in range(5):
        attempt(f"sprayed{n}", "Summer2026!", ip="198.51.100.4")
    refused = attempt("bertil", ip="198.51.100.4")
    assert refused.status_code == 200
    assert "Too many failed login attempts" in refused.content.decode()
    # Only that address: the same account from elsewhere is fine.
    assert attempt("bertil", ip="198.51.100.5").status_code == 302


@override_settings(LOGIN_ADDRESS_LIMIT=limits.Rate(5, 900))
def test_many_failures_on_one_account_count_once_for_the_address(personas):
    for _ in range(4):
        attempt("anna", "not the password", ip="198.51.100.6")
    for n in range(3):
        attempt(f"typo{n}", "not the password", ip="198.51.100.6")
    assert limits.count("login-address", "198.51.100.6", limits.Rate(5, 900)) == 4
    assert attempt("bertil", ip="198.51.100.6").status_code == 302


@override_settings(LOGIN_ADDRESS_LIMIT=limits.Rate(3, 900))
def test_the_address_limit_also_stops_correct_passwords_of_sprayed_accounts(personas):
    """Otherwise a sprayer would simply carry on with the accounts whose password it found."""
    for name in ("anna", "cecilia", "david"):
        attempt(name, "not the password", ip="198.51.100.7")
    assert attempt("eva", ip="198.51.100.7").status_code == 200


# --- Trusted proxies -----------------------------------------------------------------------

TRUSTED = parse_networks("test", ["10.0.0.0/8", "2001:db8::/32"])


@pytest.mark.parametrize(
    ("peer", "forwarded", "client"),
    [
        # A trusted proxy in front: the entry it added is the client.
        ("10.0.0.5", "198.51.100.9", "198.51.100.9"),
        # The municipality's outbound proxy (trusted too) names the workstation.
        ("10.0.0.5", "10.44.1.17, 10.0.0.9", "10.44.1.17"),
        # A client that forges entries gets only its own address: the forged ones are left of it.
        ("10.0.0.5", "203.0.113.66, 198.51.100.9", "198.51.100.9"),
        # A peer that is not a trusted proxy: its X-Forwarded-For is ignored.
        ("198.51.100.9", "10.0.0.7", "198.51.100.9"),
        # Only trusted hops: the leftmost, the first one the chain saw.
        ("10.0.0.5", "10.1.1.1, 10.2.2.2", "10.1.1.1"),
        # Garbage where the client should be: the peer, never the garbage.
        ("10.0.0.5", "not-an-address", "10.0.0.5"),
        ("2001:db8::1", "2001:db8::2, 2a00:1450::5", "2a00:1450::5"),
        ("10.0.0.5", "", "10.0.0.5"),
    ],
)
def test_client_address_through_trusted_proxies(peer, forwarded, client):
    meta = {"REMOTE_ADDR": peer, "HTTP_X_FORWARDED_FOR": forwarded}
    assert client_ip(meta, 0, TRUSTED) == client


def test_the_list_takes_precedence_over_the_count():
    meta = {"REMOTE_ADDR": "198.51.100.9", "HTTP_X_FORWARDED_FOR": "203.0.113.66"}
    assert client_ip(meta, 1) == "203.0.113.66"
    assert client_ip(meta, 1, TRUSTED) == "198.51.100.9"


@override_settings(TRUSTED_PROXIES=(ip_network("10.0.0.0/8"),), PROXY_COUNT=0)
def test_the_audit_log_and_the_limits_see_the_workstation(db):
    Client(REMOTE_ADDR="10.0.0.2", HTTP_X_FORWARDED_FOR="10.44.1.17").post(
        LOGIN, {"login": "nobody", "password": "wrong password"}
    )
    event = AuditEvent.objects.filter(action="auth.login_failed").latest("id")
    assert event.ip == "10.44.1.17"
    assert limits.count("login-address", "10.44.1.17", limits.Rate(20, 900)) == 1


@override_settings(PROXY_COUNT=1)
def test_client_address_behind_a_proxy_reaches_the_audit_log(db):
    Client(REMOTE_ADDR="10.0.0.2", HTTP_X_FORWARDED_FOR="203.0.113.9").post(
        LOGIN, {"login": "nobody", "password": "wrong password"}
    )
    event = AuditEvent.objects.filter(action="auth.login_failed").latest("id")
    assert event.ip == "203.0.113.9"


def test_a_malformed_proxy_list_stops_start_up(tmp_path):
    result = run_cli(
        "check", env={"SAMVERKAN_TRUSTED_PROXIES": "10.0.0.0/8,proxy.local"}, tmp_path=tmp_path
    )
    assert result.returncode == 2
    assert "SAMVERKAN_TRUSTED_PROXIES" in result.stderr


def test_a_malformed_address_limit_stops_start_up(tmp_path):
    result = run_cli("check", env={"SAMVERKAN_LOGIN_ADDRESS_LIMIT": "lots"}, tmp_path=tmp_path)
    assert result.returncode == 2
    assert "SAMVERKAN_LOGIN_ADDRESS_LIMIT" in result.stderr
