"""``samverkan serve``: the application under gunicorn."""

from __future__ import annotations

import os
from argparse import ArgumentParser
from typing import Any

from django.core.handlers.wsgi import WSGIHandler
from django.core.management.base import BaseCommand
from gunicorn.app.base import BaseApplication

from samverkan.lib.env import Env

# The path without the query string: a query could carry search terms, and logs must never
# hold personal data.
ACCESS_LOG_FORMAT = '%(h)s "%(m)s %(U)s" %(s)s %(B)s %(M)sms'


class _Gunicorn(BaseApplication):
    def __init__(self, options: dict[str, Any]) -> None:
        self.options = options
        super().__init__()

    def load_config(self) -> None:
        for key, value in self.options.items():
            self.cfg.set(key, value)

    def load(self) -> WSGIHandler:
        from django.core.wsgi import get_wsgi_application

        return get_wsgi_application()


def serve(*, host: str, port: int, workers: int) -> None:
    _Gunicorn(
        {
            "bind": f"{host}:{port}",
            "workers": workers,
            "accesslog": "-",
            "access_log_format": ACCESS_LOG_FORMAT,
            "forwarded_allow_ips": os.environ.get("SAMVERKAN_FORWARDED_ALLOW_IPS", "127.0.0.1"),
            "timeout": 60,
        }
    ).run()


def default_port() -> int:
    """``PORT`` from the environment, checked like every other setting."""
    return Env(os.environ).get_int("PORT", 8000, minimum=1, maximum=65535)


class Command(BaseCommand):
    help = "Serve Samverkan with gunicorn."

    def add_arguments(self, parser: ArgumentParser) -> None:
        parser.add_argument("--host", default="127.0.0.1")
        parser.add_argument("--port", type=int, default=default_port())
        parser.add_argument("--workers", type=int, default=2)

    def handle(self, *args: Any, **options: Any) -> None:
        serve(host=options["host"], port=options["port"], workers=options["workers"])
