"""Personal data at rest: no plaintext in any table, values bound to their rows, key rotation."""

from __future__ import annotations

import base64

import pytest
from django.core.management import call_command
from django.db import connection

from samverkan.cases.models import Case, Youth
from samverkan.cases.services import entry_add, guardian_add, youth_find
from samverkan.lib import crypto
from tests.cases.conftest import YOUTH_NAME, YOUTH_NUMBER


def all_text_in_database() -> str:
    """Every text value of every table, read raw, as an attacker with the database would."""
    chunks: list[str] = []
    with connection.cursor() as cursor:
        for table in connection.introspection.table_names():
            cursor.execute(f'SELECT * FROM "{table}"')  # noqa: S608 - table names from the schema
            for row in cursor.fetchall():
                chunks.extend(str(value) for value in row if value is not None)
    return "\n".join(chunks)


def test_no_plaintext_identity_number_or_name_in_any_table(personas, case_world, world):
    guardian_add(
        actor=personas.practitioner,
        case=case_world.case,
        name="Lisa Testmamma",
        identity_number="811228-9874",
        email="lisa@example.invalid",
        has_custody=True,
    )
    entry_add(
        actor=personas.practitioner,
        case=case_world.case,
        agency=world.avesta_school,
        category=case_world.school_category,
        text="Unik journaltext som inte får synas",
    )
    dump = all_text_in_database()
    for secret in (
        YOUTH_NUMBER.replace("-", ""),
        YOUTH_NUMBER,
        YOUTH_NUMBER[2:],
        YOUTH_NUMBER.replace("-", "")[2:],
        YOUTH_NAME,
        "Testberg",
        "Lisa Testmamma",
        "198112289874",
        "lisa@example.invalid",
        "Unik journaltext",
        "sedan höstlovet",
    ):
        assert secret not in dump, secret


def test_value_moved_to_another_row_fails_to_decrypt(personas, case_world, world):
    from samverkan.cases.services import case_raise

    other = case_raise(
        actor=personas.practitioner,
        group=world.avesta_group,
        agency=world.avesta_school,
        identity_number="811228-9874",
        name="Annan Person",
        gender="",
        reason="Oro",
    ).case
    first = case_world.case.youth
    Youth.objects.filter(pk=other.youth.pk).update(name_enc=first.name_enc)
    moved = Youth.objects.get(pk=other.youth.pk)
    with pytest.raises(crypto.DecryptionError):
        _ = moved.name
    Case.objects.filter(pk=other.pk).update(reason_enc=case_world.case.reason_enc)
    with pytest.raises(crypto.DecryptionError):
        _ = Case.objects.get(pk=other.pk).reason


def test_value_moved_to_another_column_fails_to_decrypt(case_world):
    youth = case_world.case.youth
    Youth.objects.filter(pk=youth.pk).update(name_enc=youth.identity_number_enc)
    with pytest.raises(crypto.DecryptionError):
        _ = Youth.objects.get(pk=youth.pk).name


def test_rotation_leaves_every_value_readable_under_the_new_key(
    settings, personas, case_world, world
):
    from allauth.mfa.models import Authenticator

    entry_add(
        actor=personas.practitioner,
        case=case_world.case,
        agency=world.avesta_school,
        category=case_world.school_category,
        text="Före rotation",
    )
    old_ring = dict(settings.ENCRYPTION_KEYS)
    settings.ENCRYPTION_KEYS = {"k2": b"\x07" * 32, **old_ring}
    call_command("keys", "rotate")
    settings.ENCRYPTION_KEYS = {"k2": b"\x07" * 32}  # the old key is gone
    youth = Youth.objects.get(pk=case_world.case.youth.pk)
    assert crypto.key_id_of(youth.name_enc) == "k2"
    assert youth.name == YOUTH_NAME
    assert youth.identity_number == YOUTH_NUMBER.replace("-", "")
    assert Case.objects.get(pk=case_world.case.pk).reason.startswith("Hög frånvaro")
    from samverkan.cases.models import EntryVersion

    assert [v.text for v in EntryVersion.objects.all()] == ["Före rotation"]
    for authenticator in Authenticator.objects.all():
        token = authenticator.data.get("secret") or authenticator.data.get("seed")
        assert crypto.key_id_of(token) == "k2"
    # Logging in still works: the TOTP secret decrypts under the new key.
    from allauth.mfa.adapter import get_adapter

    stored = Authenticator.objects.get(user=personas.practitioner, type="totp").data["secret"]
    assert get_adapter().decrypt(stored) == personas.practitioner.totp_secret


def test_search_is_by_keyed_hash_never_by_decrypting(
    personas, case_world, django_assert_max_num_queries
):
    youth = case_world.case.youth
    assert len(youth.identity_number_hash) == 64
    # The whole number, not a fragment: a random 64-digit hex hash holds "1236" now and then.
    assert YOUTH_NUMBER.replace("-", "")[2:] not in youth.identity_number_hash
    found = youth_find(actor=personas.practitioner, identity_number=YOUTH_NUMBER[2:])
    assert found == youth
    twelve_digits = YOUTH_NUMBER.replace("-", "")
    assert youth_find(actor=personas.practitioner, identity_number=twelve_digits) == youth
    assert youth_find(actor=personas.practitioner, identity_number="811228-9874") is None


def test_keys_must_decode(settings):
    settings.ENCRYPTION_KEYS = {"k9": base64.b64decode(base64.b64encode(b"x" * 32))}
    token = crypto.encrypt("a", aad="b")
    assert token.startswith("v1:k9:")
