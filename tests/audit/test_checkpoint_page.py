"""The public page and JSON feed of signed audit checkpoints (/audit/checkpoints/, D28): open to
anyone, read-only, newest first, each signature verifiable with the published public key, no
personal data, a fixed number of queries, Swedish by default and complete in English."""

from __future__ import annotations

import base64
import json
import re
from datetime import datetime

import pytest
from django.db import transaction
from django.test import Client
from django.urls import reverse

from samverkan.audit import checkpoints
from samverkan.audit.models import AuditCheckpoint
from samverkan.audit.services import audit_record
from tests.helpers import count_queries, make_user

PAGE = "/audit/checkpoints/"
FEED = "/audit/checkpoints.json"

pytestmark = pytest.mark.django_db


def make(n: int) -> list[AuditCheckpoint]:
    made = []
    for _ in range(n):
        with transaction.atomic():
            audit_record(action="auth.login")
        made.append(checkpoints.checkpoint_make())
    return made


def test_addresses():
    assert reverse("audit:checkpoints") == PAGE
    assert reverse("audit:checkpoints_json") == FEED


@pytest.mark.parametrize("url", [PAGE, FEED])
def test_anyone_reads_without_logging_in(url):
    make(1)
    client = Client()
    response = client.get(url)
    assert response.status_code == 200
    assert client.head(url).status_code == 200


@pytest.mark.parametrize("url", [PAGE, FEED])
@pytest.mark.parametrize("method", ["post", "put", "patch", "delete"])
def test_only_reading(url, method):
    assert getattr(Client(), method)(url).status_code == 405
    assert not AuditCheckpoint.objects.exists()


def test_feed_lists_the_checkpoints_newest_first_and_each_signature_verifies():
    made = make(3)
    response = Client().get(FEED)
    assert response["Content-Type"] == "application/json"
    assert response["Access-Control-Allow-Origin"] == "*"  # public, for any archive to fetch
    data = json.loads(response.content)
    assert data["algorithm"] == "Ed25519"
    assert data["public_key"] == checkpoints.public_key_b64()
    public = base64.b64decode(data["public_key"])
    assert data["key_id"] == checkpoints.key_id_of(public) == checkpoints.key_id()
    listed = data["checkpoints"]
    assert [c["signature"] for c in listed] == [c.signature for c in reversed(made)]
    for item, row in zip(listed, reversed(made), strict=True):
        assert item == checkpoints.published(row).to_dict()
        moment = datetime.fromisoformat(item["time"].replace("Z", "+00:00"))
        assert moment == row.created_at
        assert item["key_id"] == data["key_id"]
        assert checkpoints.signature_valid(
            seq=item["seq"],
            digest=item["hash"],
            created_at=moment,
            signature=item["signature"],
            public=public,
        )
        # The signature is over exactly what is published: another number does not verify.
        assert not checkpoints.signature_valid(
            seq=item["seq"] + 1,
            digest=item["hash"],
            created_at=moment,
            signature=item["signature"],
            public=public,
        )


def test_feed_and_page_without_checkpoints():
    data = json.loads(Client().get(FEED).content)
    assert data["checkpoints"] == []
    assert data["public_key"] == checkpoints.public_key_b64()
    page = Client(HTTP_ACCEPT_LANGUAGE="en").get(PAGE)
    assert "No checkpoint has been made yet." in page.content.decode()


def test_page_shows_each_checkpoint_and_the_key():
    made = make(2)
    body = Client(HTTP_ACCEPT_LANGUAGE="en").get(PAGE).content.decode()
    assert checkpoints.public_key_b64() in body
    assert checkpoints.key_id() in body
    for row in made:
        assert row.hash in body
        assert row.signature in body
    newer, older = made[1].signature, made[0].signature
    assert body.index(newer) < body.index(older)
    assert reverse("audit:checkpoints_json") in body
    assert "samverkan audit verify --checkpoint" in body


def test_shows_at_most_the_newest_fifty():
    made = make(52)
    data = json.loads(Client().get(FEED).content)
    assert len(data["checkpoints"]) == 50
    assert data["checkpoints"][0]["signature"] == made[-1].signature
    assert made[0].signature not in Client().get(PAGE).content.decode()


def test_no_personal_data(world):
    user = make_user("ruthkvarn", world.avesta_school, None)
    user.first_name, user.last_name = "Ruth", "Kvarnström"
    user.save()
    with transaction.atomic():
        audit_record(action="entry.viewed", actor=user, agency=world.avesta_school)
    checkpoints.checkpoint_make()
    for url in (PAGE, FEED):
        for language in ("sv", "en"):
            body = Client(HTTP_ACCEPT_LANGUAGE=language).get(url).content.decode()
            for personal in ("ruthkvarn", "Ruth", "Kvarnström", user.email, "entry.viewed"):
                assert personal not in body, f"{personal!r} on {url}"


@pytest.mark.parametrize("url", [PAGE, FEED])
def test_query_count_does_not_grow_with_the_checkpoints(url, django_assert_max_num_queries):
    make(1)
    one = count_queries(Client(), url)
    make(19)
    assert AuditCheckpoint.objects.count() == 20
    assert count_queries(Client(), url) == one
    with django_assert_max_num_queries(1):
        Client().get(url)


def test_swedish_by_default_and_english_on_request():
    make(1)
    swedish = Client().get(PAGE)
    assert swedish["Content-Language"] == "sv"
    text = swedish.content.decode()
    assert 'lang="sv"' in text
    assert "Kontrollpunkter för granskningsloggen" in text
    assert "Varför vem som helst får spara kopior" in text
    assert "Publik nyckel (base64)" in text
    assert "Högst de 50 senaste kontrollpunkterna, nyast först" in text

    english = Client(HTTP_ACCEPT_LANGUAGE="en").get(PAGE)
    assert english["Content-Language"] == "en"
    text = english.content.decode()
    assert 'lang="en"' in text
    assert "Checkpoints of the audit log" in text
    assert "Why anyone may keep copies" in text
    assert "At most the 50 newest checkpoints, newest first" in text
    assert "Kontrollpunkt" not in text


def test_the_public_start_page_links_to_it():
    body = Client().get(reverse("web:home")).content.decode()
    assert f'href="{PAGE}"' in body


def test_page_needs_no_inline_script_or_style():
    """The strict CSP holds: the page's styles come from a file, and it has no script of its own."""
    make(2)
    response = Client().get(PAGE)
    assert "unsafe-inline" not in response["Content-Security-Policy"]
    html = response.content.decode()
    assert " style=" not in html
    assert "<style" not in html
    assert all("src=" in tag for tag in re.findall(r"<script\b[^>]*>", html))
    assert "audit/checkpoints.css" in html
