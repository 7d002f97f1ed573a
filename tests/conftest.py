"""Fixtures shared by every test: the personas of DESIGN §5 and the endpoint trio."""

from __future__ import annotations

import importlib
import os
import uuid
from collections.abc import Iterator
from dataclasses import dataclass

import pytest
from django.core.cache import cache
from django.db import connection
from django.test import Client, override_settings
from hypothesis import settings as hypothesis_settings

from samverkan.accounts.models import User
from samverkan.organisations.models import Agency, CollaborationGroup, GroupRole, Role, Sector
from samverkan.organisations.services import (
    agency_create,
    group_create,
    group_member_add,
    membership_add,
    municipality_create,
    police_area_create,
)
from tests.helpers import login, make_user, reauthenticate

# No per-example time limit: on a loaded two-core CI machine a pure check over a generated
# chain can take longer than Hypothesis's 200 ms without anything being wrong. Speed goals live
# in bench/, never in unit tests.
hypothesis_settings.register_profile("samverkan", deadline=None)
hypothesis_settings.load_profile("samverkan")


@dataclass
class World:
    """Two municipalities, a police area and one agency per sector, as in the demo."""

    avesta_school: Agency
    avesta_social: Agency
    avesta_leisure: Agency
    avesta_other: Agency
    hedemora_school: Agency
    police: Agency
    avesta_group: CollaborationGroup


@dataclass
class Personas:
    practitioner: User  # school counsellor, Avesta
    colleague: User  # same agency as the practitioner
    other_agency: User  # social worker, Avesta: another agency of the same municipality
    police: User  # police officer serving both municipalities
    coordinator: User
    agreement_editor: User
    council_member: User
    auditor: User
    admin: User
    outsider: User  # staff of another municipality, with no role here
    no_role: User  # an account with a second factor but no membership at all


@pytest.fixture
def world(db: None) -> World:
    avesta = municipality_create(actor=None, name="Avesta", code="2084")
    hedemora = municipality_create(actor=None, name="Hedemora", code="2083")
    lpo = police_area_create(actor=None, name="LPO Falun", municipalities=[avesta, hedemora])

    def agency(name: str, sector: Sector, town=avesta) -> Agency:
        return agency_create(actor=None, name=name, sector=sector, municipality=town)

    return World(
        avesta_school=agency("Avesta skola", Sector.SCHOOL),
        avesta_social=agency("Avesta socialtjänst", Sector.SOCIAL_SERVICES),
        avesta_leisure=agency("Avesta fritid", Sector.LEISURE),
        avesta_other=agency("Avesta kommunledning", Sector.OTHER),
        hedemora_school=agency("Hedemora skola", Sector.SCHOOL, hedemora),
        police=agency_create(
            actor=None, name="Polisen LPO Falun", sector=Sector.POLICE, police_area=lpo
        ),
        avesta_group=group_create(
            actor=None, municipality=avesta, name="SSPF Avesta", min_age=10, max_age=17
        ),
    )


@pytest.fixture
def personas(world: World) -> Personas:
    p = Personas(
        practitioner=make_user("anna", world.avesta_school, Role.PRACTITIONER),
        colleague=make_user("bertil", world.avesta_school, Role.PRACTITIONER),
        other_agency=make_user("cecilia", world.avesta_social, Role.PRACTITIONER),
        police=make_user("david", world.police, Role.PRACTITIONER),
        coordinator=make_user("eva", world.avesta_social, Role.COORDINATOR),
        agreement_editor=make_user("fredrik", world.avesta_other, Role.AGREEMENT_EDITOR),
        council_member=make_user("greta", world.avesta_other, Role.COUNCIL_MEMBER),
        auditor=make_user("hans", world.avesta_other, Role.AUDITOR),
        admin=make_user("ingrid", world.avesta_other, Role.ADMINISTRATOR),
        outsider=make_user("johan", world.hedemora_school, Role.PRACTITIONER),
        no_role=make_user("karin", None, None),
    )
    membership_add(
        actor=None, user=p.coordinator, agency=world.avesta_social, role=Role.PRACTITIONER
    )
    group_member_add(
        actor=None,
        group=world.avesta_group,
        user=p.coordinator,
        agency=world.avesta_social,
        role=GroupRole.COORDINATOR,
    )
    for user, agency in (
        (p.practitioner, world.avesta_school),
        (p.other_agency, world.avesta_social),
        (p.police, world.police),
    ):
        group_member_add(actor=None, group=world.avesta_group, user=user, agency=agency)
    return p


@pytest.fixture
def client_for(client: Client):
    """``client_for(user)``: a fresh logged-in client (or anonymous for None)."""

    def make(user: User | None, *, reauth: bool = False, language: str = "en") -> Client:
        # English pages by default, so assertions read the source strings; pass
        # language="sv" to see what a Swedish user sees (the application's default).
        c = Client(HTTP_ACCEPT_LANGUAGE=language)
        if user is not None:
            login(c, user)
            if reauth:
                reauthenticate(c)
        return c

    return make


_APPEND_ONLY = importlib.import_module("samverkan.audit.migrations.0004_append_then_seal")
_APPEND_ONLY_TABLES = ("audit_auditevent", "audit_auditanchor", "audit_auditcheckpoint")
_DB_FIXTURES = {"db", "transactional_db", "live_server"}


@pytest.fixture(autouse=True)
def _audit_append_only(request: pytest.FixtureRequest):
    """Keep the audit table append-only in every test, yet let the harness empty it.

    Transactional tests end with a flush that deletes every row, which the append-only triggers
    rightly refuse; so the triggers are lifted just before that flush and restored before the
    next test. Production never flushes.
    """
    uses_db = bool(_DB_FIXTURES & set(request.fixturenames)) or (
        request.node.get_closest_marker("django_db") is not None
    )
    if not uses_db:
        yield
        return
    marker = request.node.get_closest_marker("django_db")
    transactional = bool(
        {"transactional_db", "live_server"} & set(request.fixturenames)
        or (marker is not None and marker.kwargs.get("transaction"))
    )
    request.getfixturevalue("transactional_db" if transactional else "db")
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            for table in _APPEND_ONLY_TABLES:
                cursor.execute(f"ALTER TABLE {table} ENABLE TRIGGER USER")
        else:
            for statement in _APPEND_ONLY.SQLITE_FORWARD:
                cursor.execute(statement)
    yield
    if transactional:
        with connection.cursor() as cursor:
            if connection.vendor == "postgresql":
                for table in _APPEND_ONLY_TABLES:
                    cursor.execute(f"ALTER TABLE {table} DISABLE TRIGGER USER")
            else:
                for statement in _APPEND_ONLY.SQLITE_REVERSE:
                    cursor.execute(statement)


@pytest.fixture(autouse=True)
def _english_messages(request: pytest.FixtureRequest):
    """Service and form messages in English, so tests read the source strings; the Swedish
    catalogue is tested on its own (tests/web/test_translations.py) and in the browser tests,
    which keep the application's own language handling."""
    if request.node.get_closest_marker("e2e") or "tests/e2e/" in str(request.node.path):
        yield
        return
    from django.utils import translation

    with translation.override("en"):
        yield


@pytest.fixture
def client() -> Client:
    """pytest-django's client, asking for English like ``client_for`` does."""
    return Client(HTTP_ACCEPT_LANGUAGE="en")


# --- The security-state store (DESIGN rule 21) ----------------------------------------------
REDIS_URL = os.environ.get("SAMVERKAN_TEST_REDIS_URL", "")
REQUIRE_REDIS = os.environ.get("SAMVERKAN_REQUIRE_REDIS") == "1"


def redis_cache_settings() -> dict[str, object]:
    return {
        "default": {
            "BACKEND": "django_redis.cache.RedisCache",
            "LOCATION": REDIS_URL,
            # Its own prefix per test: parallel test processes share the one server.
            "KEY_PREFIX": f"svk-test-{uuid.uuid4().hex}",
            "OPTIONS": {"IGNORE_EXCEPTIONS": False},
        }
    }


@pytest.fixture(params=["database", "redis"])
def store(request: pytest.FixtureRequest) -> Iterator[str]:
    """Each test runs on both kinds of security-state store."""
    if request.param == "database":
        yield "database"
        return
    if not REDIS_URL:
        if REQUIRE_REDIS:
            pytest.fail("SAMVERKAN_REQUIRE_REDIS=1 but SAMVERKAN_TEST_REDIS_URL is not set")
        pytest.skip("no Redis server given (SAMVERKAN_TEST_REDIS_URL)")
    with override_settings(CACHES=redis_cache_settings()):
        try:
            yield "redis"
        finally:
            cache.delete_pattern("*")  # type: ignore[attr-defined]  # this test's prefix only: the server is shared
