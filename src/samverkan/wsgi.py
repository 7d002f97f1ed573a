"""WSGI entry point for gunicorn: ``gunicorn samverkan.wsgi``."""

from __future__ import annotations

import os
import sys

from samverkan.lib.env import ConfigError

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "samverkan.settings")

try:
    from django.core.wsgi import get_wsgi_application

    application = get_wsgi_application()
except ConfigError as exc:  # one clear line, not a traceback, for the operator
    print(f"samverkan: configuration error: {exc}", file=sys.stderr)
    raise SystemExit(2) from None
