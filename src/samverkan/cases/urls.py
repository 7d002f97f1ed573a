from django.urls import path

from samverkan.cases import views

app_name = "cases"

urlpatterns = [
    path("", views.case_list_view, name="list"),
    path("new/", views.case_raise_view, name="raise"),
    path("find/", views.youth_find_view, name="find"),
    path("<int:pk>/", views.case_detail_view, name="detail"),
    path("<int:pk>/entries/", views.entry_add_view, name="entry_add"),
    path("<int:pk>/entries/<int:entry_pk>/", views.entry_detail_view, name="entry"),
    path("<int:pk>/status/", views.case_status_view, name="status"),
    path("<int:pk>/guardians/", views.guardian_add_view, name="guardian_add"),
    path("<int:pk>/concerns/", views.concern_add_view, name="concern_add"),
    path(
        "<int:pk>/concerns/<int:report_pk>/acknowledge/",
        views.concern_acknowledge_view,
        name="concern_acknowledge",
    ),
    path("<int:pk>/team/", views.case_team_view, name="team"),
    path("<int:pk>/team/add/", views.team_add_view, name="team_add"),
    path("<int:pk>/team/<int:member_pk>/remove/", views.team_remove_view, name="team_remove"),
    path("groups/<int:group_pk>/", views.group_index_view, name="group_index"),
    path("lists/", views.lists_view, name="lists"),
    path("lists/<str:kind>/add/", views.list_add_view, name="list_add"),
    path("lists/<str:kind>/<int:pk>/toggle/", views.list_toggle_view, name="list_toggle"),
]
