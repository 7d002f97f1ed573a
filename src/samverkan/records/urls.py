from __future__ import annotations

from django.urls import URLPattern, path

from samverkan.records import export_views, hold_views, views

app_name = "records"

urlpatterns: list[URLPattern] = [
    # Log review (loggkontroll), auditors only.
    path("review/", views.review_view, name="review"),
    path("review/record/", views.review_record_view, name="review_record"),
    path("review/past/", views.review_list_view, name="review_list"),
    path("review/past/<int:pk>/", views.review_detail_view, name="review_detail"),
    # Data-subject export (registerutdrag), auditors only; the number only in a POST body.
    path("export/", export_views.subject_export_view, name="subject_export"),
    # Legal holds that stop retention (gallring), auditors only.
    path("holds/", hold_views.hold_list_view, name="holds"),
    path("holds/<int:pk>/release/", hold_views.hold_release_view, name="hold_release"),
]
