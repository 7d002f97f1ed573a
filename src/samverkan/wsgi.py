"""WSGI entry point for gunicorn: ``gunicorn samverkan.wsgi``."""

from __future__ import annotations

import os
import sys

from samverkan.lib.env import ConfigError

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "samverkan.settings")
# Files the application creates (SQLite database, generated keys) are readable by it alone.
os.umask(0o077)

try:
    from django.core.wsgi import get_wsgi_application

    application = get_wsgi_application()
except ConfigError as exc:  # one clear line, not a traceback, for the operator
    print(f"samverkan: configuration error: {exc}", file=sys.stderr)
    # 3 is gunicorn's "worker failed to boot": the master stops instead of retrying forever.
    raise SystemExit(3) from None
