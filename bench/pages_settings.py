"""Settings for ``bench/pages.py``: the project's settings with the bench URL configuration
(``bench/pages_urls.py``: every project URL plus ``/bench/bare/`` and ``/bench/layout/``).

Served with ``gunicorn samverkan.wsgi:application --pythonpath bench`` and
``DJANGO_SETTINGS_MODULE=pages_settings``; nothing else differs from ``samverkan.settings``.
"""

from samverkan.settings import *  # noqa: F403

ROOT_URLCONF = "pages_urls"
