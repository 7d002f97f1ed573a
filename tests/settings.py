"""Test settings: the real settings, in development mode, with a throw-away data folder."""

import os
import tempfile

os.environ["SAMVERKAN_ENV"] = "development"
os.environ.setdefault("SAMVERKAN_DATA_DIR", tempfile.mkdtemp(prefix="samverkan-test-"))

from samverkan.settings import *  # noqa: F403

# Argon2 is the real hasher (tests/web/test_settings.py checks it); tests log in hundreds of
# times, so they hash with a fast one.
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"

if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":  # noqa: F405
    # A file, not Django's shared in-memory database: shared-cache mode locks whole tables and
    # ignores the busy timeout, so concurrency tests would see errors production never does.
    DATABASES["default"]["TEST"] = {"NAME": str(DATA_DIR / "test.sqlite3")}  # noqa: F405

# Tasks run at once, inside the test; tests of the worker itself switch to the database backend
# (tests/jobs/).
TASKS = {"default": {"BACKEND": "django_tasks.backends.immediate.ImmediateBackend"}}
