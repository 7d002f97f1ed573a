"""The ``samverkan`` command: Django's management commands plus the project's own.

``samverkan demo``, ``samverkan serve``, ``samverkan audit verify``, ``samverkan token create``
and every Django command (``migrate``, ``check --deploy`` …) are management commands, so there
is one way to run each of them.
"""

from __future__ import annotations

import os
import sys

from samverkan.lib import context
from samverkan.lib.env import ConfigError

# Commands whose public name (DESIGN §6) is not a Python module name.
ALIASES = {"subject-export": "subject_export"}


def main(argv: list[str] | None = None) -> None:
    args = list(sys.argv[1:] if argv is None else argv)
    if args:
        args[0] = ALIASES.get(args[0], args[0])
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "samverkan.settings")
    # Files the application creates (SQLite database, generated keys, checkpoints) are readable
    # by its own account alone.
    os.umask(0o077)
    try:
        import django
        from django.core.management import execute_from_command_line

        django.setup()
        ctx = context.RequestContext(request_id=context.new_request_id(), source="cli")
        with context.bound(ctx):
            execute_from_command_line(["samverkan", *args])
    except ConfigError as exc:
        print(f"samverkan: configuration error: {exc}", file=sys.stderr)
        raise SystemExit(2) from None
