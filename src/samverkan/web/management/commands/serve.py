"""``samverkan serve``: the application under gunicorn."""

from __future__ import annotations

import os
from argparse import ArgumentParser
from typing import Any

from django.core.handlers.wsgi import WSGIHandler
from django.core.management.base import BaseCommand
from gunicorn.app.base import BaseApplication
from gunicorn.config import Config
from gunicorn.glogging import Logger

from samverkan.lib.env import Env
from samverkan.lib.redact import MaskIdentityNumbers

# The path without the query string: a query could carry search terms, and logs must never
# hold personal data. A number typed into the path itself is masked (MaskingLogger).
ACCESS_LOG_FORMAT = '%(h)s "%(m)s %(U)s" %(s)s %(B)s %(M)sms'


class MaskingLogger(Logger):
    """gunicorn's logger with identity numbers masked in its access and error logs.

    The filter sits on the two loggers rather than on their handlers, so that it also covers
    handlers gunicorn adds later (syslog, a log configuration file) and survives the handlers
    being replaced when gunicorn reloads its configuration.
    """

    def setup(self, cfg: Config) -> None:
        super().setup(cfg)
        for log in (self.error_log, self.access_log):
            if not any(isinstance(f, MaskIdentityNumbers) for f in log.filters):
                log.addFilter(MaskIdentityNumbers())


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


def gunicorn_options(*, host: str, port: int, workers: int) -> dict[str, Any]:
    """gunicorn's settings for ``samverkan serve``; the tests build gunicorn's config from them."""
    return {
        "bind": f"{host}:{port}",
        "workers": workers,
        "accesslog": "-",
        "access_log_format": ACCESS_LOG_FORMAT,
        "logger_class": MaskingLogger,
        "forwarded_allow_ips": os.environ.get("SAMVERKAN_FORWARDED_ALLOW_IPS", "127.0.0.1"),
        "timeout": 60,
    }


def serve(*, host: str, port: int, workers: int) -> None:
    _Gunicorn(gunicorn_options(host=host, port=port, workers=workers)).run()


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
