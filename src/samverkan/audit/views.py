from __future__ import annotations

from datetime import datetime, time, timedelta

from django.core.paginator import Paginator
from django.db import transaction
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import timezone
from django.views.decorators.http import require_GET

from samverkan.audit.forms import EventFilterForm
from samverkan.audit.models import AuditEvent
from samverkan.audit.rules import can_view_audit_log
from samverkan.audit.services import audit_record
from samverkan.lib.http import acting_user, require_visible

PAGE_SIZE = 50


@require_GET
def event_list_view(request: HttpRequest) -> HttpResponse:
    """The audit log for auditors, newest first. Reading it is itself audited."""
    user = acting_user(request)
    require_visible(can_view_audit_log, user)
    form = EventFilterForm(request.GET or None)
    events = AuditEvent.objects.select_related("actor", "agency").order_by("-seq")
    filters: dict[str, str] = {}
    if form.is_valid():
        data = form.cleaned_data
        tz = timezone.get_current_timezone()
        if data["action"]:
            events = events.filter(action__startswith=data["action"])
            filters["action"] = data["action"]
        if data["actor"]:
            events = events.filter(actor__username__iexact=data["actor"])
            filters["actor"] = data["actor"]
        if data["outcome"]:
            events = events.filter(outcome=data["outcome"])
            filters["outcome"] = data["outcome"]
        if data["date_from"]:
            events = events.filter(
                occurred_at__gte=datetime.combine(data["date_from"], time.min, tz)
            )
            filters["date_from"] = data["date_from"].isoformat()
        if data["date_to"]:
            end = datetime.combine(data["date_to"] + timedelta(days=1), time.min, tz)
            events = events.filter(occurred_at__lt=end)
            filters["date_to"] = data["date_to"].isoformat()
    page = Paginator(events, PAGE_SIZE).get_page(request.GET.get("page"))
    with transaction.atomic():
        audit_record(
            action="audit.log_viewed",
            actor=user,
            object_type="audit.chain",
            details={**filters, "page": page.number},
        )
    query = request.GET.copy()
    query.pop("page", None)
    # With htmx the filter and page links swap only the results; without it, the whole page.
    template = "audit/_event_results.html" if request.htmx else "audit/event_list.html"  # type: ignore[attr-defined]
    return render(
        request,
        template,
        {"form": form, "page": page, "query": query.urlencode()},
    )
