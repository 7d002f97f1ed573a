from django.urls import path

from samverkan.plans import views

app_name = "plans"

urlpatterns = [
    path("<int:pk>/plan/", views.plan_detail_view, name="detail"),
    path("<int:pk>/plan/create/", views.plan_create_view, name="create"),
    path("<int:pk>/plan/goals/", views.goal_add_view, name="goal_add"),
    path("<int:pk>/plan/goals/<int:goal_pk>/", views.goal_detail_view, name="goal"),
    path("<int:pk>/plan/interventions/", views.intervention_add_view, name="intervention_add"),
    path(
        "<int:pk>/plan/interventions/<int:intervention_pk>/",
        views.intervention_detail_view,
        name="intervention",
    ),
    path("<int:pk>/plan/follow-ups/", views.follow_up_add_view, name="follow_up_add"),
    path(
        "<int:pk>/plan/follow-ups/<int:follow_up_pk>/held/",
        views.follow_up_done_view,
        name="follow_up_done",
    ),
    path("<int:pk>/plan.pdf", views.plan_pdf_view, name="pdf"),
]
