"""The project's WSGI application with audit writing switched off, for bench/audit_scale.py only.

    gunicorn --pythonpath bench wsgi_noaudit:application

It loads ``samverkan.wsgi`` (the application gunicorn serves in production), imports every
view through the URL configuration, and then replaces
``samverkan.audit.services.audit_record_many`` in that module and in every ``samverkan``
module that imported it by name with ``audit_record_many_switched_off``. ``audit_record``
calls ``audit_record_many`` through its module, so every audited action of the application
still checks its event (action, outcome, details) and then writes nothing: no insert into
``audit_auditevent``, no chain head lock, nothing for the sealer. Everything else a request
does (token check and ``last_used_at``, access rules, screening, the entry and its version,
the response) is unchanged. A module imported later gets the replacement too, since it reads
the name from ``samverkan.audit.services``.

This is no setting of the application and never will be one: the production code has no
switch that turns auditing off. ``bench/audit_scale.py`` checks that no audit event was written
while this application served (its ``events/s`` for the mode is 0).
"""

from __future__ import annotations

import sys
from collections.abc import Mapping, Sequence
from typing import Any

from django.urls import get_resolver

# isort: off
from samverkan.wsgi import application as _application  # sets Django up: first

from samverkan.accounts.models import User
from samverkan.audit import services as audit_services
from samverkan.audit.models import AuditEvent, Outcome
from samverkan.organisations.models import Agency

# isort: on

_ORIGINAL = audit_services.audit_record_many


def audit_record_many_switched_off(
    *,
    action: str,
    subjects: Sequence[audit_services.Subject],
    actor: User | None = None,
    agency: Agency | None = None,
    legal_basis: str = "",
    outcome: str = Outcome.ALLOWED,
    details: Mapping[str, Any] | None = None,
) -> list[AuditEvent]:
    """``audit_record_many`` that checks its arguments as the real one does and writes nothing.

    It answers unsaved events (no id, no sequence number) so that ``audit_record(...)`` still
    gets the one event it returns.
    """
    audit_services._check_event(action, outcome)
    clean = audit_services._check_details(details or {})
    return [
        AuditEvent(
            action=action,
            outcome=str(outcome),
            actor_id=actor.pk if actor is not None else None,
            agency_id=agency.pk if agency is not None else None,
            object_type=subject.object_type,
            object_id=subject.object_id,
            case_id=subject.case_id,
            legal_basis=subject.legal_basis or legal_basis,
            details=clean,
        )
        for subject in subjects
    ]


def switch_off() -> list[str]:
    """Replace ``audit_record_many`` wherever it is bound by name: the modules changed."""
    get_resolver().url_patterns  # noqa: B018  imports every view and, through them, the services
    patched = []
    for name, module in list(sys.modules.items()):
        if name != "samverkan" and not name.startswith("samverkan."):
            continue
        if getattr(module, "audit_record_many", None) is _ORIGINAL:
            module.audit_record_many = audit_record_many_switched_off  # type: ignore[attr-defined]
            patched.append(name)
    if "samverkan.audit.services" not in patched:
        raise RuntimeError("samverkan.audit.services.audit_record_many was not replaced")
    return patched


PATCHED = switch_off()
print(
    f"wsgi_noaudit: audit writing switched off in {len(PATCHED)} modules",
    file=sys.stderr,
    flush=True,
)
application = _application
