from __future__ import annotations

import pytest


@pytest.fixture
def db_backend(settings):
    """The production task backend: tasks wait in the database until a worker runs them."""
    settings.TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend"}}
