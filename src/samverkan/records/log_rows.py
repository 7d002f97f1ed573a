"""What the audit log page shows for an event: in words, never in system codes.

The action as a sentence (``samverkan.audit.actions``), the person by name with agency and role,
the object by pseudonym or label, the legal basis and the source in words, and links only where
the auditor may follow them: to this page narrowed to the person or the case, to a recorded
review, to the legal holds. An auditor never opens a case, so a case is a filter, not a link
to the case page.

A page of rows costs a fixed number of queries whatever its length: one per kind of thing
named (people's roles, people as objects, youths, agencies), each for the whole page.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from django.apps import apps
from django.db.models import CharField, F, Value
from django.db.models.functions import Concat
from django.urls import reverse
from django.utils.http import urlencode
from django.utils.translation import gettext as _

from samverkan.accounts.models import User
from samverkan.audit.actions import action_sentence
from samverkan.cases.models import Youth
from samverkan.disclosure.policy import BASIS_OWN_AGENCY, BASIS_RAISING_AGENCY
from samverkan.disclosure.statutory import label_of
from samverkan.organisations.models import Agency, Membership, Role
from samverkan.records.review import FLAG_LABELS, FLAGS

if TYPE_CHECKING:
    from django_stubs_ext import StrOrPromise

    from samverkan.audit.models import AuditEvent


@dataclass(frozen=True)
class Link:
    text: str
    url: str = ""  # empty: shown as text


@dataclass(frozen=True)
class Person:
    name: str
    url: str  # this page narrowed to the person; empty when there is no account
    roles: str  # "SSPF coordinator, Practitioner – Avesta socialtjänst"


@dataclass(frozen=True)
class EventRow:
    """One line of the log table: metadata and flags in words, nothing from the case."""

    event: AuditEvent
    pseudonym: str
    flags: list[tuple[str, StrOrPromise]]
    sentence: str = ""
    person: Person | None = None
    nobody: str = ""  # who acted when no account did: the system, a guardian in the portal
    object: Link = field(default_factory=lambda: Link(""))
    case: Link = field(default_factory=lambda: Link(""))
    basis: str = ""
    source: str = ""


def _page_url(base_query: dict[str, str], **narrow: str) -> str:
    return f"{reverse('records:review')}?{urlencode({**base_query, **narrow})}"


def source_words(source: str) -> str:
    words = {
        "web": _("in the web browser"),
        "api": _("through the API"),
        "cli": _("by a command on the server"),
        "system": _("by a scheduled job"),
    }
    return str(words.get(source, source or "–"))


def basis_words(basis: str) -> str:
    """A recorded legal basis in words: ``consent:12``, ``statute:<code>:<id>``, ..."""
    if not basis:
        return "–"
    if basis == BASIS_OWN_AGENCY:
        return _("the agency's own information")
    if basis == BASIS_RAISING_AGENCY:
        return _("the agency that raised the case")
    if basis == "retention":
        return _("the retention rules")
    kind, _sep, rest = basis.partition(":")
    if kind == "consent" and rest:
        return _("consent no. %(id)s") % {"id": rest}
    if kind == "statute" and rest:
        code, _sep, disclosure = rest.partition(":")
        return _("provision of law: %(law)s (disclosure no. %(id)s)") % {
            "law": label_of(code),
            "id": disclosure or "–",
        }
    return basis


# Models that moved to another app keep their old label in the events written before the move.
MOVED_MODELS = {
    "consent.portallogincode": "portal.portallogincode",
    "consent.eidorder": "portal.eidorder",
}


def _label_of_type(object_type: str) -> str:
    """A model's name in the active language, or a label for the few non-model objects."""
    others = {
        "audit.chain": _("the audit log"),
        "crypto.keyring": _("the encryption keys"),
        "records.backup": _("a backup"),
        "records.retention": _("the retention run"),
    }
    if object_type in others:
        return str(others[object_type])
    try:
        return str(apps.get_model(MOVED_MODELS.get(object_type, object_type))._meta.verbose_name)
    except (LookupError, ValueError):
        return _("a record")


@dataclass(frozen=True)
class _Seat:
    role: str
    agency_id: int
    agency: str

    @property
    def role_label(self) -> str:
        return str(Role(self.role).label) if self.role in Role.values else self.role


@dataclass
class _Names:
    """Everything a page of events names, loaded in one query for the whole page whatever it
    holds: the actors' roles, and the people, youths and agencies that are objects."""

    seats: dict[int, list[_Seat]]
    users: dict[str, tuple[str, str]]  # id -> (full name, username)
    youths: dict[str, str]  # id -> pseudonym
    agencies: dict[str, str]  # id -> name

    @classmethod
    def load(cls, events: list[AuditEvent]) -> _Names:
        def ids(object_type: str) -> list[int]:
            # [0] names nobody: the query keeps its shape (and its count) on any page.
            found = {
                int(e.object_id)
                for e in events
                if e.object_type == object_type and e.object_id.isdigit()
            }
            return sorted(found) or [0]

        actor_ids = sorted({e.actor_id for e in events if e.actor_id is not None}) or [0]
        text = CharField()
        seats = (
            Membership.objects.filter(user_id__in=actor_ids)
            .annotate(kind=Value("seat", text), a=F("role"), b=F("agency__name"), c=F("agency_id"))
            .order_by()
            .values_list("kind", "user_id", "a", "b", "c")
        )
        users = (
            User.objects.filter(pk__in=ids("accounts.user"))
            .annotate(
                kind=Value("user", text),
                a=Concat("first_name", Value(" "), "last_name", output_field=text),
                b=F("username"),
                c=Value(0),
            )
            .order_by()
            .values_list("kind", "pk", "a", "b", "c")
        )
        youths = (
            Youth.objects.filter(pk__in=ids("cases.youth"))
            .annotate(kind=Value("youth", text), a=F("pseudonym"), b=Value("", text), c=Value(0))
            .order_by()
            .values_list("kind", "pk", "a", "b", "c")
        )
        agencies = (
            Agency.objects.filter(pk__in=ids("organisations.agency"))
            .annotate(kind=Value("agency", text), a=F("name"), b=Value("", text), c=Value(0))
            .order_by()
            .values_list("kind", "pk", "a", "b", "c")
        )
        names = cls(seats=defaultdict(list), users={}, youths={}, agencies={})
        for kind, key, first, second, agency_id in seats.union(users, youths, agencies, all=True):
            if kind == "seat":
                names.seats[key].append(_Seat(first, agency_id, second))
            elif kind == "user":
                names.users[str(key)] = (first.strip(), second)
            elif kind == "youth":
                names.youths[str(key)] = first
            else:
                names.agencies[str(key)] = first
        return names


def _person(event: AuditEvent, names: _Names, base_query: dict[str, str]) -> Person | None:
    actor = event.actor
    if actor is None:
        return None
    seats = sorted(names.seats.get(actor.pk, []), key=lambda s: (s.agency, s.role))
    here = [s for s in seats if event.agency_id is not None and s.agency_id == event.agency_id]
    if here:
        text = f"{', '.join(s.role_label for s in here)} – {here[0].agency}"
    elif event.agency is not None:
        text = event.agency.name
    else:
        text = "; ".join(f"{s.role_label} – {s.agency}" for s in seats)
    return Person(
        name=actor.get_full_name() or _("a user without a name"),
        url=_page_url(base_query, actor=actor.username),
        roles=text,
    )


def _object(event: AuditEvent, names: _Names, base_query: dict[str, str], pseudonym: str) -> Link:
    kind, key = event.object_type, event.object_id
    if not kind:
        return Link("–")
    if kind == "accounts.user" and key in names.users:
        name, username = names.users[key]
        return Link(name or _("a user without a name"), _page_url(base_query, actor=username))
    if kind == "cases.youth" and key in names.youths:
        return Link(names.youths[key], _page_url(base_query, case=names.youths[key]))
    if kind == "cases.case" and pseudonym:
        return Link(_named_items(event) or _("the case %(pseudonym)s") % {"pseudonym": pseudonym})
    if kind == "organisations.agency" and key in names.agencies:
        return Link(names.agencies[key])
    label = _label_of_type(kind)
    if kind == "records.logreview" and key.isdigit():
        return Link(
            _("%(label)s no. %(id)s") % {"label": label, "id": key},
            reverse("records:review_detail", args=[int(key)]),
        )
    if kind == "records.legalhold":
        return Link(label, reverse("records:holds"))
    if key and kind not in ("audit.chain",):
        return Link(_("%(label)s no. %(id)s") % {"label": label, "id": key})
    return Link(label)


def _named_items(event: AuditEvent) -> str:
    """The entries or consents one event of a page names (D29), so that the review answers
    "who read entry N" from the page itself; empty for an event that names none."""
    details = event.details if isinstance(event.details, dict) else {}
    for key, label in (
        ("entries", _("journal entries no. %(ids)s")),
        ("consents", _("consents no. %(ids)s")),
    ):
        ids = details.get(key)
        if isinstance(ids, list) and ids:
            return label % {"ids": ", ".join(str(i) for i in ids)}
    return ""


def _nobody(event: AuditEvent) -> str:
    if event.action.startswith("portal."):
        return _("a guardian or young person in the portal")
    return _("the system")


def event_rows(
    events: list[AuditEvent], *, base_query: dict[str, str] | None = None
) -> list[EventRow]:
    """The page's rows. ``base_query`` is the page's period, kept by the links it makes."""
    base = base_query or {}
    names = _Names.load(events)
    rows = []
    for event in events:
        pseudonym = getattr(event, "case_pseudonym", None) or ""
        if pseudonym:
            case = Link(pseudonym, _page_url(base, case=pseudonym))
        elif event.case_id:
            case = Link(_("case %(id)s (purged)") % {"id": event.case_id})
        else:
            case = Link("–")
        rows.append(
            EventRow(
                event=event,
                pseudonym=pseudonym,
                flags=[
                    (name, FLAG_LABELS[name])
                    for name in FLAGS
                    if getattr(event, f"flag_{name}", False)
                ],
                sentence=action_sentence(event.action),
                person=_person(event, names, base),
                nobody=_nobody(event),
                object=_object(event, names, base, pseudonym),
                case=case,
                basis=basis_words(event.legal_basis),
                source=source_words(event.source),
            )
        )
    return rows
