from django.urls import path

from samverkan.meetings import views

app_name = "meetings"

urlpatterns = [
    path("", views.meeting_list_view, name="list"),
    path("new/", views.meeting_schedule_view, name="schedule"),
    path("<int:pk>/", views.meeting_detail_view, name="detail"),
    path("<int:pk>/invite.ics", views.meeting_ics_view, name="ics"),
    path("<int:pk>/agenda/", views.agenda_add_view, name="agenda_add"),
    path("<int:pk>/agenda/<int:item_pk>/remove/", views.agenda_remove_view, name="agenda_remove"),
    path("<int:pk>/agenda/<int:item_pk>/minutes/", views.minutes_view, name="minutes"),
    path(
        "<int:pk>/agenda/<int:item_pk>/anonymous/",
        views.anonymous_discussion_view,
        name="anonymous",
    ),
    path("<int:pk>/agenda/<int:item_pk>/actions/", views.action_add_view, name="action_add"),
    path("<int:pk>/attendance/", views.attendance_view, name="attendance"),
    path(
        "<int:pk>/actions/<int:action_pk>/status/", views.action_status_view, name="action_status"
    ),
]
