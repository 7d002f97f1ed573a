from django.urls import path

from samverkan.promises import views

app_name = "promises"

urlpatterns = [
    path("", views.agreement_list_view, name="list"),
    path("new/", views.agreement_create_view, name="create"),
    path("<int:pk>/", views.agreement_detail_view, name="detail"),
    path("<int:pk>/edit/", views.agreement_edit_view, name="edit"),
    path("<int:pk>/status/", views.status_view, name="status"),
    path("<int:pk>/extend/", views.extend_view, name="extend"),
    path("<int:pk>/publish/", views.publish_view, name="publish"),
    path("<int:pk>/unpublish/", views.unpublish_view, name="unpublish"),
    path("<int:pk>/links/", views.links_view, name="links"),
    path("<int:pk>/parties/", views.party_add_view, name="party_add"),
    path("<int:pk>/signatories/", views.signatory_add_view, name="signatory_add"),
    path("<int:pk>/commitments/", views.commitment_add_view, name="commitment_add"),
    path("<int:pk>/commitments/<int:commitment_pk>/", views.commitment_view, name="commitment"),
    path(
        "<int:pk>/commitments/<int:commitment_pk>/group/",
        views.commitment_group_view,
        name="commitment_group",
    ),
    path(
        "<int:pk>/commitments/<int:commitment_pk>/activities/",
        views.activity_add_view,
        name="activity_add",
    ),
    path("<int:pk>/follow-ups/", views.follow_up_add_view, name="follow_up_add"),
    path("<int:pk>/assessments/", views.assessment_add_view, name="assessment_add"),
    path("<int:pk>/versions/<int:number>/", views.version_view, name="version"),
]
