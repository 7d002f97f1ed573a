"""``samverkan token create --user USERNAME --days N`` prints a new token once."""

from __future__ import annotations

from argparse import ArgumentParser
from typing import Any

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError

from samverkan.accounts.models import User
from samverkan.api.models import Scope
from samverkan.api.services import token_create


class Command(BaseCommand):
    help = "Create a personal access token for the API."

    def add_arguments(self, parser: ArgumentParser) -> None:
        sub = parser.add_subparsers(dest="subcommand", required=True)
        create = sub.add_parser("create", help="Create a token and print it once.")
        create.add_argument("--user", required=True, help="The account's username.")
        create.add_argument("--days", type=int, required=True, help="Days until it expires.")
        create.add_argument("--name", default="command line", help="What the token is for.")
        create.add_argument("--scope", choices=Scope.values, default=Scope.READ)

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            user = User.objects.get(username__iexact=options["user"])
        except User.DoesNotExist:
            raise CommandError(f"no account named {options['user']!r}") from None
        try:
            issued = token_create(
                actor=None,  # the operator at the console, not the account holder
                user=user,
                name=options["name"],
                days=options["days"],
                scope=options["scope"],
            )
        except ValidationError as exc:
            raise CommandError(" ".join(exc.messages)) from None
        self.stdout.write(issued.text)
        self.stderr.write(
            f"token {issued.token.prefix} for {user.username}, scope {issued.token.scope}, "
            f"expires {issued.token.expires_at:%Y-%m-%d}; it is not shown again"
        )
