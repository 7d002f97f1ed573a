from __future__ import annotations

from django.urls import path

from samverkan.stats import views

app_name = "stats"

urlpatterns = [
    path("", views.dashboard_view, name="dashboard"),
    path("export.csv", views.export_csv_view, name="export_csv"),
    path("export.xlsx", views.export_xlsx_view, name="export_xlsx"),
    path("chart/<slug:key>.svg", views.chart_view, name="chart"),
]
