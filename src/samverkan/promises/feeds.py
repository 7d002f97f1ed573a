"""Atom feeds of follow-ups of published agreements: overall and per municipality.

An entry carries what the promise page already shows publicly (the follow-up's date, narrative
and progress per commitment). The staff member who recorded it is not named: the only people
on the public pages are the signatories, public officials acting in office.
"""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING

from django.contrib.syndication.views import Feed
from django.http import HttpRequest
from django.urls import reverse
from django.utils.feedgenerator import Atom1Feed
from django.utils.translation import gettext as _

from samverkan.organisations.models import Municipality
from samverkan.promises import public_selectors
from samverkan.promises.models import FollowUp

if TYPE_CHECKING:
    _FeedBase = Feed[FollowUp, Municipality | None]
else:  # Feed is generic only in django-stubs
    _FeedBase = Feed


class FollowUpFeed(_FeedBase):
    feed_type = Atom1Feed
    # Rendered with autoescaping: Atom's summary is HTML to feed readers, and a narrative is
    # free text.
    description_template = "promises/public/feed_item.html"

    def get_object(self, request: HttpRequest, code: str = "") -> Municipality | None:
        return public_selectors.municipality_by_code(code) if code else None

    def title(self, obj: Municipality | None) -> str:
        if obj is None:
            return _("Citizen promises: follow-ups")
        return _("Citizen promises in %(municipality)s: follow-ups") % {"municipality": obj.name}

    def subtitle(self, obj: Municipality | None) -> str:
        return _("Follow-ups of published citizen promises and cooperation agreements.")

    def link(self, obj: Municipality | None) -> str:
        url = reverse("tracker:list")
        return f"{url}?municipality={obj.code}" if obj is not None else url

    def feed_url(self, obj: Municipality | None) -> str:
        if obj is None:
            return reverse("tracker:feed")
        return reverse("tracker:municipality_feed", args=[obj.code])

    def items(self, obj: Municipality | None) -> list[FollowUp]:
        return public_selectors.published_follow_ups(obj)

    def item_title(self, item: FollowUp) -> str:
        return _("Follow-up %(date)s: %(title)s") % {
            "date": item.date.isoformat(),
            "title": item.agreement.title,
        }

    def item_link(self, item: FollowUp) -> str:
        return reverse("tracker:detail", args=[item.agreement_id]) + f"#follow-up-{item.pk}"

    def item_pubdate(self, item: FollowUp) -> datetime:
        return item.recorded_at

    def item_categories(self, item: FollowUp) -> list[str]:
        return [item.agreement.municipality.name]
