"""The words of each notification kind, and the only parameters it may carry.

A parameter is one of three shapes, each checked: a case pseudonym (``AVE-2026-0042``), a whole
number (an id, an age, a count) or a date. Free text cannot get in, so a notification, and the
e-mail repeating it, can never hold a youth's name or identity number.

To add a kind: add it to ``NotificationKind`` (models.py, with a migration) and give it a
``KindSpec`` here.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Mapping
from dataclasses import dataclass
from enum import Enum
from typing import TYPE_CHECKING

from django.utils.translation import gettext_lazy as _

from samverkan.notifications.models import NotificationKind

if TYPE_CHECKING:
    from django_stubs_ext import StrOrPromise

# cases/services/people.py numbers cases PREFIX-YEAR-NNNN; the counter may outgrow four digits.
_PSEUDONYM = re.compile(r"^[A-Z]{3}-\d{4}-\d{4,8}$")


class Param(Enum):
    PSEUDONYM = "pseudonym"
    NUMBER = "number"
    DATE = "date"


@dataclass(frozen=True)
class KindSpec:
    subject: StrOrPromise  # the e-mail's subject
    message: StrOrPromise  # %-formatted with the parameters
    params: Mapping[str, Param]


_CONSENT = {"consent": Param.NUMBER, "case": Param.PSEUDONYM}

KINDS: dict[str, KindSpec] = {
    NotificationKind.CONSENT_WITHDRAWN: KindSpec(
        subject=_("A consent has been withdrawn"),
        message=_(
            "Consent #%(consent)s in case %(case)s has been withdrawn. Information shared under "
            "it is no longer shown."
        ),
        params=_CONSENT,
    ),
    NotificationKind.CONSENT_EXPIRING: KindSpec(
        subject=_("A consent ends soon"),
        message=_(
            "Consent #%(consent)s in case %(case)s ends on %(date)s. Ask for a new consent in "
            "time if the work goes on."
        ),
        params={**_CONSENT, "date": Param.DATE},
    ),
    NotificationKind.CONSENT_EXPIRED: KindSpec(
        subject=_("A consent has ended"),
        message=_(
            "Consent #%(consent)s in case %(case)s ended on %(date)s. Information shared under "
            "it is no longer shown."
        ),
        params={**_CONSENT, "date": Param.DATE},
    ),
    NotificationKind.CONSENT_SIGNERS_CHANGE: KindSpec(
        subject=_("The signers of a consent change"),
        message=_(
            "The youth in case %(case)s has turned %(age)s: consent #%(consent)s now needs the "
            "signatures that age requires."
        ),
        params={**_CONSENT, "age": Param.NUMBER},
    ),
    NotificationKind.CONSENT_AWAITING_YOUTH: KindSpec(
        subject=_("A consent covers nothing new until the youth signs"),
        message=_(
            "The youth in case %(case)s has turned %(age)s. Consent #%(consent)s was signed by "
            "the guardians only, so from today it covers no new disclosures until the youth "
            "co-signs it; what was shared before stays shared. The youth has no contact address "
            "here: tell them, and record their co-signature or let them sign with e-ID in the "
            "guardian portal."
        ),
        params={**_CONSENT, "age": Param.NUMBER},
    ),
    NotificationKind.CONSENT_AWAITING_GUARDIAN: KindSpec(
        subject=_("A consent covers nothing new until a new guardian signs"),
        message=_(
            "A guardian with custody has been recorded in case %(case)s. Consent #%(consent)s "
            "covers no new disclosures until they too have signed it; what was shared before "
            "stays shared. They can sign or withdraw it."
        ),
        params=_CONSENT,
    ),
    NotificationKind.LOG_REVIEW_DUE: KindSpec(
        subject=_("A log review is due"),
        message=_(
            "No recorded log review covers %(start)s to %(end)s. Review the access log for that "
            "period and record your findings."
        ),
        params={"start": Param.DATE, "end": Param.DATE},
    ),
}


class NotificationParamError(ValueError):
    """A programming error: the parameters do not fit the kind. The message never quotes a
    value, which could be the very personal data the check keeps out."""


def _fit(shape: Param, value: object) -> str | int | None:
    """The value as stored, or None when it does not have the shape."""
    if shape is Param.PSEUDONYM:
        return value if isinstance(value, str) and _PSEUDONYM.fullmatch(value) else None
    if shape is Param.NUMBER:
        return value if isinstance(value, int) and not isinstance(value, bool) else None
    if isinstance(value, dt.date) and not isinstance(value, dt.datetime):
        return value.isoformat()
    return None


def clean_params(kind: str, params: Mapping[str, object]) -> dict[str, str | int]:
    """The parameters as stored: checked against the kind, dates as ISO text."""
    spec = KINDS.get(kind)
    if spec is None:
        raise NotificationParamError(f"unknown notification kind {kind!r}")
    if set(params) != set(spec.params):
        raise NotificationParamError(
            f"{kind} takes the parameters {sorted(spec.params)}, not {sorted(params)}"
        )
    clean: dict[str, str | int] = {}
    for name, shape in spec.params.items():
        value = _fit(shape, params[name])
        if value is None:
            raise NotificationParamError(f"{kind}: parameter {name!r} must be a {shape.value}")
        clean[name] = value
    return clean


def render_message(kind: str, params: Mapping[str, object]) -> str:
    """The message in the active language."""
    spec = KINDS.get(kind)
    if spec is None:
        return str(_("Notification"))
    try:
        return str(spec.message) % dict(params)
    except (KeyError, TypeError, ValueError):
        # A stored row from before a message changed its parameters: say what it is about.
        return str(NotificationKind(kind).label)


def render_subject(kind: str) -> str:
    spec = KINDS.get(kind)
    return str(spec.subject) if spec is not None else str(_("Notification"))
