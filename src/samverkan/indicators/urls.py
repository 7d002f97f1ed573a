from __future__ import annotations

from django.urls import path

from samverkan.indicators import views

app_name = "indicators"

urlpatterns = [
    path("", views.indicator_list_view, name="list"),
    path("new/", views.indicator_create_view, name="create"),
    path("<int:pk>/", views.indicator_detail_view, name="detail"),
    path("<int:pk>/edit/", views.indicator_edit_view, name="edit"),
    path("<int:pk>/import/", views.indicator_import_view, name="import"),
    path("<int:pk>/chart.svg", views.indicator_chart_view, name="chart"),
    # No login: published series only, for the public promise tracker.
    path("public/<int:pk>/chart.svg", views.public_chart_view, name="public_chart"),
    path("public/chart.svg", views.public_charts_view, name="public_charts"),
]
