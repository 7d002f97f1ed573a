"""The public promise tracker under /promises/ (no login), and the council report beside it."""

from __future__ import annotations

from django.urls import path, re_path

from samverkan.promises import public_views

app_name = "tracker"

urlpatterns = [
    path("", public_views.tracker_list_view, name="list"),
    path("<int:pk>/", public_views.tracker_detail_view, name="detail"),
    path("<int:pk>/progress.svg", public_views.progress_chart_view, name="progress_chart"),
    path("<int:pk>/pdf/", public_views.promise_pdf_view, name="pdf"),
    path("feed/", public_views.tracker_feed_view, name="feed"),
    # Per municipality by its public four-digit code (kommunkod), e.g. /promises/feed/2084/.
    re_path(
        r"^feed/(?P<code>[0-9]{4})/$", public_views.tracker_feed_view, name="municipality_feed"
    ),
    # Not public: council members and agreement editors only (see public_views).
    path("council/", public_views.council_view, name="council"),
    path("council/pdf/", public_views.council_pdf_view, name="council_pdf"),
]
