"""Helpers shared by the tests: accounts as the invitation flow makes them, logins, the trio."""

from __future__ import annotations

import base64
import io
import logging
import re
import secrets
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any

import pytest
from allauth.mfa.totp.internal.auth import TOTP
from django.contrib.auth.tokens import default_token_generator
from django.core.cache import cache
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from samverkan.accounts.models import User
from samverkan.accounts.services import user_accept_invitation, user_invite
from samverkan.cases.models import Case
from samverkan.cases.services import case_raise, team_add
from samverkan.demo import Birth, fictional_identity_number
from samverkan.organisations.models import Agency, Role

if TYPE_CHECKING:
    from tests.conftest import Personas, World

PASSWORD = "correct horse battery staple 42"


def youth_number(age: int = 14, *, days_since_birthday: int = 3, serial: int = 123) -> str:
    """A fictional, valid personnummer (YYYYMMDD-NNNC) of someone who is ``age`` today.

    Relative to today so that the suite's youth never ages into the signing age (issue 19): a
    fixed birth date made consent tests fail from the day it passed. With the default, the
    last birthday was three days ago, so the next one lies about 362 days ahead, beyond the
    longest consent the settings allow by default (12 months: today + 359 days). Three days
    rather than none leave room for a run that crosses midnight or for UTC and Stockholm
    disagreeing on the date.
    """
    return fictional_identity_number(
        Birth(age=age, days_since_birthday=days_since_birthday).date, serial
    )


# The suite's youth: fictional but valid (the check digit is right), and 14 today whatever
# the year, with the 15th birthday about a year off (``youth_number``; issue 19).
YOUTH_NUMBER = youth_number(14)
YOUTH_NAME = "Kalle Testberg"


def raise_youth_case(
    personas: Personas,
    world: World,
    *,
    risk_factors: Sequence[str],
    protective_factors: Sequence[str] = (),
) -> Case:
    """The suite's case, raised through the services: the school counsellor (anna) raises it
    in SSPF Avesta about the 14-year-old, and the coordinator puts social services (cecilia)
    on the team. The case fixtures of each test package build on it."""
    case = case_raise(
        actor=personas.practitioner,
        group=world.avesta_group,
        agency=world.avesta_school,
        identity_number=YOUTH_NUMBER,
        name=YOUTH_NAME,
        gender="M",
        reason="Hög frånvaro sedan höstlovet och nya umgängen.",
        risk_factors=risk_factors,
        protective_factors=protective_factors,
    ).case
    team_add(
        actor=personas.coordinator,
        case=case,
        user=personas.other_agency,
        agency=world.avesta_social,
    )
    return case


def new_totp_secret() -> str:
    return base64.b32encode(secrets.token_bytes(20)).decode("ascii")


def make_user(
    username: str,
    agency: Agency | None,
    role: Role | None,
    *,
    mfa: bool = True,
    password: str = PASSWORD,
) -> User:
    """An account as the invitation flow creates it, with a password and (by default) TOTP."""
    if agency is None or role is None:
        user = User.objects.create(username=username, email=f"{username}@test.invalid")
    else:
        user = user_invite(
            actor=None,
            username=username,
            email=f"{username}@test.invalid",
            first_name=username.capitalize(),
            last_name="Testsson",
            agency=agency,
            role=role,
            send=False,
        )
    user_accept_invitation(
        user=user, token=default_token_generator.make_token(user), password=password
    )
    if mfa:
        secret = new_totp_secret()
        TOTP.activate(user, secret)
        user.totp_secret = secret  # type: ignore[attr-defined]
    return user


def login(client: Client, user: User) -> Client:
    """A session as after a completed password + second-factor login."""
    client.force_login(user, backend="samverkan.accounts.backends.AuthenticationBackend")
    return client


def reauthenticate(client: Client, password: str = PASSWORD) -> None:
    """Confirm the password again, as allauth asks before sensitive actions."""
    response = client.post(reverse("account_reauthenticate"), {"password": password})
    assert response.status_code == 302, response.content[:500]


def assert_trio(
    client_for,
    url: str,
    *,
    allowed: User,
    outsider: User,
    read_only: User | None = None,
    method: str = "get",
    wrong_method: str = "put",
    data: dict[str, object] | None = None,
) -> None:
    """The endpoint trio of DESIGN §5: outsider 404, read-only 403, wrong method 405.

    ``allowed`` must reach the endpoint (any status but 403/404/405) so that the trio cannot
    pass on an endpoint that refuses everyone.
    """

    def call(user: User, verb: str):
        c = client_for(user, reauth=True)
        return getattr(c, verb)(url, data or {})

    ok = call(allowed, method)
    assert ok.status_code not in (403, 404, 405), f"{allowed} got {ok.status_code} on {url}"
    assert call(outsider, method).status_code == 404, f"outsider reached {url}"
    if read_only is not None:
        assert call(read_only, method).status_code == 403, f"read-only user changed {url}"
    assert call(allowed, wrong_method).status_code == 405, f"{wrong_method} accepted on {url}"


# Where writers seal the audit log themselves (SQLite, ``SAMVERKAN_AUDIT_SEALING=inline``), a
# request's one audit append also takes a savepoint, reads the chain head under lock, moves it
# and releases the savepoint: four statements more than PostgreSQL's one INSERT (D28).
INLINE_SEALING_QUERIES = 4


def inline_sealing_queries() -> int:
    """What a pinned PostgreSQL query count grows by where the writer seals inline."""
    from samverkan.audit.services import seals_inline

    return INLINE_SEALING_QUERIES if seals_inline() else 0


def count_queries(client: Client, url: str) -> int:
    """Queries for one GET of ``url``; pin list pages with it (DESIGN §5)."""
    with CaptureQueriesContext(connection) as ctx:
        response = client.get(url)
    assert response.status_code == 200, response.status_code
    return len(ctx.captured_queries)


@contextmanager
def every_log_line(caplog: pytest.LogCaptureFixture) -> Iterator[io.StringIO]:
    """Everything the configured log handlers write, with every logger opened to DEBUG.

    The buffer receives what would reach the console (and any other stream the logging
    configuration writes to), after the handlers' own filters; ``caplog`` also receives the
    records of the loggers that do not pass them on to the root (django.request, ...).
    """
    buffer = io.StringIO()
    loggers = [logging.getLogger()] + [
        logger
        for logger in logging.Logger.manager.loggerDict.values()
        if isinstance(logger, logging.Logger)
    ]
    swapped: dict[logging.StreamHandler[Any], Any] = {}
    attached: list[logging.Logger] = []
    for logger in loggers:
        caplog.set_level(logging.DEBUG, logger=logger.name if logger.parent else None)
        for handler in logger.handlers:
            if (
                isinstance(handler, logging.StreamHandler)
                and not type(handler).__module__.startswith("_pytest")
                and handler not in swapped
            ):
                # Assigned, not setStream(): that flushes the old stream, which a handler left
                # over from an earlier test may have had closed under it.
                swapped[handler], handler.stream = handler.stream, buffer
        if not logger.propagate and caplog.handler not in logger.handlers:
            logger.addHandler(caplog.handler)
            attached.append(logger)
    try:
        yield buffer
    finally:
        for handler, stream in swapped.items():
            handler.stream = stream
        for logger in attached:
            logger.removeHandler(caplog.handler)


_SEPARATORS = re.compile(r"[\s\-+\u2010-\u2015\u2212]|%(?:25)*2[0BbDd]")


def assert_no_identity_number(number: str, *texts: str) -> None:
    """None of the texts holds ``number`` in any of its written forms.

    Separators (spaces, dashes, plus, their percent escapes) are dropped before looking, so
    that 20120315-1236, 120315+1236, 20120315%201236 and 1203151236 are all found by their
    ten-digit core.
    """
    core = _SEPARATORS.sub("", number)[-10:]
    assert re.fullmatch(r"\d{10}", core), number
    for text in texts:
        joined = _SEPARATORS.sub("", text)
        at = joined.find(core)
        assert at < 0, f"identity number found: …{joined[max(at - 80, 0) : at + 90]}…"


def flood_security_store(count: int = 400) -> None:
    """What failed logins and portal code requests from ``count`` distinct addresses write.

    Half are allauth's login rate-limit histories (their keys sort after its used-code
    markers, as in the tester's flood), half the portal's per-address counters (keyed hashes,
    so they sort everywhere). Written through the same calls the requests make, without the
    requests themselves, which would cost seconds.
    """
    from samverkan.portal import services as portal

    for n in range(count):
        ip = f"10.{n // 250}.{n % 250}.7"
        if n % 2:
            cache.set(f"allauth:rl:allauth.account:login_failed:30/60/ip:ip:{ip}", [1.0], 900)
        else:
            portal.throttled("code_request", ip, limit=10, window=portal.CODE_WINDOW)


def statutory_conditions(code: str) -> list[str]:
    """Every condition of a statutory basis, as the person disclosing confirms them."""
    from samverkan.disclosure.statutory import BASES

    return [c.code for c in next(b for b in BASES if b.code == code).conditions]
