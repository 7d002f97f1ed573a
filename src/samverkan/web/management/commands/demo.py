"""``samverkan demo`` loads the demo data and serves it; ``demo totp USER`` prints a code."""

from __future__ import annotations

import subprocess
import sys
from argparse import ArgumentParser
from typing import Any

from django.conf import settings
from django.core import mail
from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandError
from django.test import override_settings

from samverkan import demo
from samverkan.consent import demo as consent_demo
from samverkan.lib.totp import totp_code
from samverkan.web.management.commands.serve import default_port


class Command(BaseCommand):
    help = "Create the database, load the demo data, print the demo logins and serve the app."

    def add_arguments(self, parser: ArgumentParser) -> None:
        parser.add_argument("--no-serve", action="store_true", help="Load the data, do not serve.")
        parser.add_argument(
            "--no-worker",
            action="store_true",
            help="Serve without the background worker (reminders and e-mails then wait).",
        )
        parser.add_argument("--host", default="127.0.0.1")
        parser.add_argument("--port", type=int, default=default_port())
        sub = parser.add_subparsers(dest="subcommand")
        totp = sub.add_parser("totp", help="Print the current TOTP code of a demo account.")
        totp.add_argument("username")

    def handle(self, *args: Any, **options: Any) -> None:
        if settings.PRODUCTION:
            raise CommandError("the demo is not available when SAMVERKAN_ENV=production")
        if options.get("subcommand") == "totp":
            self._totp(options["username"])
            return
        call_command("migrate", interactive=False, verbosity=0)
        if demo.is_loaded():
            self.stdout.write("Demo data already loaded.")
        else:
            # Loading fictional data sends mail to fictional people (signer notices, reminders);
            # it is held back so that the logins below are not buried under it. Mail the demo
            # sends while it runs (portal codes, say) still goes to the console.
            with override_settings(EMAIL_BACKEND="django.core.mail.backends.locmem.EmailBackend"):
                demo.load()
                held = len(getattr(mail, "outbox", []))
            self.stdout.write(
                f"Demo data loaded ({held} e-mails to fictional addresses held back)."
            )
        self._print_logins(options["host"], options["port"])
        if not options["no_serve"]:
            from samverkan.web.management.commands.serve import serve

            worker = None if options["no_worker"] else _start_worker()
            try:
                serve(host=options["host"], port=options["port"], workers=2)
            finally:
                if worker is not None:
                    _stop_worker(worker)

    def _totp(self, username: str) -> None:
        if username not in {a.username for a in demo.ACCOUNTS}:
            raise CommandError(f"{username!r} is not a demo account")
        try:
            secret = demo.totp_secret(username)
        except Exception:
            raise CommandError(
                "demo data is not loaded; run `samverkan demo --no-serve` first"
            ) from None
        self.stdout.write(totp_code(secret))

    def _print_logins(self, host: str, port: int) -> None:
        url = f"http://{host}:{port}/"
        self.stdout.write("")
        self.stdout.write(f"Samverkan demo: {url}")
        self.stdout.write(f"Every demo account has the password: {demo.DEMO_PASSWORD}")
        self.stdout.write(
            "Log in with the password, then the second factor: add the TOTP secret to an "
            "authenticator app, or run `samverkan demo totp USERNAME` for the current code."
        )
        self.stdout.write("")
        self.stdout.write(f"{'username':<14}{'role':<20}{'TOTP secret':<34}who")
        for account in demo.ACCOUNTS:
            self.stdout.write(
                f"{account.username:<14}{account.role.value:<20}"
                f"{demo.totp_secret(account.username):<34}{account.description}"
            )
        self.stdout.write("")
        guardian = consent_demo.PORTAL_GUARDIAN
        self.stdout.write(f"Guardian portal: {url}portal/")
        self.stdout.write(
            f"  {guardian.name} (a fictional guardian) logs in with a one-time code sent to "
            f"{guardian.email} (printed in this console), or with the development e-ID and the "
            f"fictional number {demo.fictional_identity_number(guardian.born, guardian.serial)}."
        )
        self.stdout.write("")


def _start_worker() -> subprocess.Popen[bytes]:
    """``samverkan worker`` next to the web server, so one ``make demo`` runs both.

    It gets a session of its own, so the terminal's Ctrl-C reaches gunicorn only; when gunicorn
    has stopped, the worker is asked once to stop (SIGTERM) and finishes its current task.
    """
    return subprocess.Popen([sys.executable, "-m", "samverkan", "worker"], start_new_session=True)


def _stop_worker(worker: subprocess.Popen[bytes]) -> None:
    if worker.poll() is not None:
        return
    worker.terminate()
    try:
        worker.wait(timeout=30)
    except subprocess.TimeoutExpired:
        worker.kill()
        worker.wait()
