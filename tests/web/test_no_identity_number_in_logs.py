"""An identity number typed into the address bar reaches no log line and no page (DESIGN rule 10).

Issue 17, point 3: ``GET /cases/20120606-3453/`` wrote the number into gunicorn's access log and
into every page's language form (``next``), also with ``?q=<number>``. These tests request such
URLs, anonymously and signed in, and read every log output (the configured handlers, caplog for
every logger, gunicorn's access and error log) and every response: status line, headers,
redirects and bodies.
"""

from __future__ import annotations

import datetime as dt
import logging
import socket
from typing import cast

import pytest
from django.conf import settings
from django.test import Client
from gunicorn.config import Config
from gunicorn.http import wsgi
from gunicorn.http.parser import RequestParser

from samverkan.lib.totp import totp_code
from samverkan.web.management.commands.serve import gunicorn_options
from tests.helpers import PASSWORD, assert_no_identity_number, every_log_line, login

pytestmark = pytest.mark.django_db

# Fictional but valid (the check digit is right), held by no one in the test data.
NUMBER = "20120315-1236"

URLS = [
    # A number as a path segment: no route takes one, so these are the 404 page.
    "/cases/20120315-1236/",
    "/cases/201203151236/",
    "/cases/120315+1236/",
    "/cases/20120315%201236/",
    "/cases/120315%2D1236/",
    "/api/v1/cases/20120315-1236/",
    # Routes that do take a free segment, answered with a page of their own.
    "/portal/eid/dev/20120315-1236/",
    "/accounts/invitation/MQ/20120315-1236/",
    # A number in the query string, as a search would send it.
    "/cases/?q=20120315-1236",
    "/cases/?q=20120315+1236",
    "/cases/?q=20120315%2D1236",
    "/?q=1203151236",
    "/promises/?municipality=120315-1236",
]


def _responses_text(client: Client, url: str) -> list[str]:
    """Every part of the answers to ``url``, following redirects: headers (``Location`` among
    them) and bodies."""
    texts: list[str] = []
    for _ in range(5):
        response = client.get(url)
        texts.extend(f"{name}: {value}" for name, value in response.items())
        texts.append(response.content.decode(errors="replace"))
        if response.status_code not in (301, 302, 303, 307, 308):
            break
        url = response["Location"]
    return texts


@pytest.mark.parametrize("url", URLS)
@pytest.mark.parametrize("signed_in", [False, True], ids=["anonymous", "staff"])
def test_a_number_in_the_url_reaches_no_log_and_no_page(personas, caplog, url, signed_in):
    client = Client(HTTP_ACCEPT_LANGUAGE="en")
    if signed_in:
        login(client, personas.practitioner)
    with every_log_line(caplog) as logs:
        pages = _responses_text(client, url)
    assert_no_identity_number(NUMBER, logs.getvalue(), caplog.text, *pages)


def test_the_language_form_returns_to_the_path_without_its_query(client_for, personas):
    page = client_for(personas.practitioner).get("/cases/?page=2&q=Kalle").content.decode()
    assert '<input name="next" type="hidden" value="/cases/">' in page
    assert "Kalle" not in page


def test_a_path_with_a_number_sends_the_language_form_to_the_start_page(client):
    response = client.get("/cases/20120315-1236/")
    assert response.status_code == 404
    assert '<input name="next" type="hidden" value="/">' in response.content.decode()


def test_the_login_redirect_keeps_neither_query_nor_number(client):
    response = client.get("/cases/?q=20120315-1236")
    assert response.status_code == 302
    assert response["Location"] == "/accounts/login/?next=/cases/"


@pytest.mark.parametrize(
    "next_value", ["/cases/20120315-1236/", "/cases/?q=20120315-1236", "/x/?q=201203151236"]
)
def test_the_login_page_neither_repeats_nor_follows_a_next_with_a_number(personas, next_value):
    client = Client(HTTP_ACCEPT_LANGUAGE="en")
    page = client.get("/accounts/login/", {"next": next_value})
    assert_no_identity_number(NUMBER, page.content.decode())
    response = client.post(
        f"/accounts/login/?next={next_value}",
        {"login": "anna", "password": PASSWORD, "next": next_value},
    )
    assert response.status_code == 302
    response = client.post(
        response["Location"], {"code": totp_code(personas.practitioner.totp_secret)}
    )
    assert response.status_code == 302
    assert "_auth_user_id" in client.session
    assert response["Location"] == "/"


def test_the_login_page_keeps_an_ordinary_next(client):
    page = client.get("/accounts/login/", {"next": "/cases/"}).content.decode()
    assert '<input type="hidden" name="next" value="/cases/">' in page


def test_every_configured_logger_masks_numbers_in_messages_and_exceptions(caplog):
    # The root, every logger settings.LOGGING names (django.request, django.server, the task
    # loggers …) and ones it does not (the application's own, which pass records to the root).
    configured = cast("dict[str, object]", settings.LOGGING["loggers"])
    names = ["", *configured, "django", "samverkan.cases"]
    assert "django.server" in names
    with every_log_line(caplog) as logs:
        for name in names:
            logger = logging.getLogger(name)
            logger.warning("lookup of %s from %s", "120315-1236", "/cases/201203151236/")
            try:
                int("20120315 1236")
            except ValueError:
                logger.exception("failed for %s", "20120315%2D1236")
        # runserver's request line carries the raw query string.
        logging.getLogger("django.server").info(
            '"%s" %s %s', "GET /cases/?q=20120315%2B1236 HTTP/1.1", 404, 179
        )
    output = logs.getvalue()
    assert output.count("[pnr]") >= 2 * len(names)
    assert "GET /cases/?q=[pnr] HTTP/1.1" in output
    assert_no_identity_number(NUMBER, output, caplog.text)


# --- gunicorn, configured as ``samverkan serve`` configures it ---------------------------------


@pytest.fixture
def gunicorn_loggers():
    """gunicorn's logger sets up process-wide loggers; leave them as they were."""
    loggers = [logging.getLogger("gunicorn.error"), logging.getLogger("gunicorn.access")]
    saved = [(log, log.handlers[:], log.filters[:], log.level, log.propagate) for log in loggers]
    yield
    for log, handlers, filters, level, propagate in saved:
        log.handlers[:], log.filters[:] = handlers, filters
        log.setLevel(level)
        log.propagate = propagate


def _gunicorn_exchange(raw_request: bytes):
    """gunicorn's logger as ``samverkan serve`` sets it up, and a request it parsed from bytes,
    answered with a 404 through gunicorn's own response writer."""
    cfg = Config()
    for key, value in gunicorn_options(host="127.0.0.1", port=8000, workers=1).items():
        cfg.set(key, value)
    log = cfg.logger_class(cfg)
    request = next(RequestParser(cfg, iter([raw_request]), ("192.0.2.7", 50000)))
    ours, theirs = socket.socketpair()
    try:
        response, environ = wsgi.create(
            request, ours, ("192.0.2.7", 50000), ("127.0.0.1", 8000), cfg
        )
        response.start_response("404 Not Found", [("Content-Length", "9")])
        response.write(b"Not found")
    finally:
        ours.close()
        theirs.close()
    return log, request, response, environ


@pytest.mark.parametrize(
    "target",
    [
        "/cases/20120315-1236/?q=Kalle+Testberg",
        "/cases/20120315%2D1236/?q=Kalle+Testberg",
        "/cases/120315+1236/?q=Kalle+Testberg",
        "/cases/20120315%201236/?q=Kalle+Testberg",
        "/cases/201203151236/?q=Kalle+Testberg",
    ],
)
def test_gunicorn_access_log_masks_the_path_and_leaves_out_the_query(
    gunicorn_loggers, capsys, target
):
    raw = (
        f"GET {target} HTTP/1.1\r\nHost: localhost\r\n"
        "Referer: http://localhost/cases/?q=20120315-1236\r\n\r\n"
    ).encode()
    log, request, response, environ = _gunicorn_exchange(raw)
    assert environ["QUERY_STRING"] == "q=Kalle+Testberg"
    log.access(response, request, environ, dt.timedelta(milliseconds=12))
    line = capsys.readouterr().out
    assert line.startswith('192.0.2.7 "GET /cases/[pnr]/" 404 9 12ms'), line
    assert "Kalle" not in line  # the query string is left out altogether
    assert_no_identity_number(NUMBER, line)


def test_gunicorn_error_log_masks_numbers(gunicorn_loggers, capsys):
    raw = b"GET /cases/20120315-1236/?q=120315-1236 HTTP/1.1\r\nHost: localhost\r\n\r\n"
    log, request, _response, _environ = _gunicorn_exchange(raw)
    try:
        raise ValueError(f"bad request line {request.uri}")
    except ValueError:
        log.exception("Error handling request %s", request.uri)
    log.warning("Invalid request from ip=%s: %s", "192.0.2.7", "GET /cases/201203151236/")
    errors = capsys.readouterr().err
    assert "Error handling request /cases/[pnr]/?q=[pnr]" in errors
    assert "ValueError" in errors
    assert_no_identity_number(NUMBER, errors)
