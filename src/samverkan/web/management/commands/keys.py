"""``samverkan keys rotate``: re-encrypt every stored value under the current key.

Put the new key first in ``SAMVERKAN_ENCRYPTION_KEYS`` and keep the old ones after it, run
this, then (after a backup) drop the old keys. Rows are re-encrypted in batches, each batch in
its own transaction, so the command can be interrupted and run again.
"""

from __future__ import annotations

from argparse import ArgumentParser
from typing import Any

from allauth.mfa.models import Authenticator
from django.apps import apps
from django.core.management.base import BaseCommand
from django.db import transaction

from samverkan.audit.services import audit_record
from samverkan.lib import crypto
from samverkan.lib.fields import encrypted_attributes

BATCH = 500
_MFA_AAD = "allauth.mfa.secret"


def _rotate_model(model: Any) -> int:
    attributes = encrypted_attributes(model)
    columns = [a.column for a in attributes]
    changed = 0
    last_pk = 0
    while True:
        with transaction.atomic():
            rows = list(
                model.objects.select_for_update().filter(pk__gt=last_pk).order_by("pk")[:BATCH]
            )
            if not rows:
                return changed
            for row in rows:
                # A list, not a generator: every attribute of the row must be re-encrypted.
                if any([a.reencrypt(row) for a in attributes]):
                    row.save(update_fields=columns)
                    changed += 1
            last_pk = rows[-1].pk


def _rotate_mfa() -> int:
    """allauth keeps TOTP secrets and recovery seeds in JSON; they are encrypted too."""
    current = crypto.current_key_id()
    changed = 0
    with transaction.atomic():
        for authenticator in Authenticator.objects.select_for_update():
            data = dict(authenticator.data)
            touched = False
            for key in ("secret", "seed"):
                token = data.get(key)
                if isinstance(token, str) and crypto.key_id_of(token) != current:
                    data[key] = crypto.encrypt(crypto.decrypt(token, aad=_MFA_AAD), aad=_MFA_AAD)
                    touched = True
            if touched:
                authenticator.data = data
                authenticator.save(update_fields=["data"])
                changed += 1
    return changed


class Command(BaseCommand):
    help = "Manage the encryption key ring."

    def add_arguments(self, parser: ArgumentParser) -> None:
        sub = parser.add_subparsers(dest="subcommand", required=True)
        sub.add_parser("rotate", help="Re-encrypt every value under the current (first) key.")

    def handle(self, *args: Any, **options: Any) -> None:
        total = 0
        for model in apps.get_models():
            if encrypted_attributes(model):
                count = _rotate_model(model)
                total += count
                self.stdout.write(f"{model._meta.label}: {count} re-encrypted")
        mfa = _rotate_mfa()
        self.stdout.write(f"mfa.Authenticator: {mfa} re-encrypted")
        with transaction.atomic():
            audit_record(
                action="keys.rotated",
                object_type="crypto.keyring",
                object_id=crypto.current_key_id(),
                details={"rows": total + mfa},
            )
        self.stdout.write(f"done: every value is now under key {crypto.current_key_id()}")
