from django.urls import path

from samverkan.organisations import views

app_name = "organisations"

urlpatterns = [
    path("agencies/", views.agency_list_view, name="agency_list"),
    path("agencies/new/", views.agency_create_view, name="agency_create"),
    path("agencies/<int:pk>/edit/", views.agency_edit_view, name="agency_edit"),
    path("groups/", views.group_list_view, name="group_list"),
    path("groups/new/", views.group_create_view, name="group_create"),
    path("groups/<int:pk>/", views.group_detail_view, name="group_detail"),
    path("groups/<int:pk>/members/", views.group_member_add_view, name="group_member_add"),
    path(
        "groups/<int:pk>/members/<int:member_id>/remove/",
        views.group_member_remove_view,
        name="group_member_remove",
    ),
]
