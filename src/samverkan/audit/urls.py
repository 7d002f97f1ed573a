from django.urls import path
from django.views.generic import RedirectView

from samverkan.audit import views

app_name = "audit"

urlpatterns = [
    # The audit log page is the log review's (records:review): it has the flags and the names
    # this page lacked. Old bookmarks follow; the filters keep their names (action, actor,
    # outcome, date_from, date_to, page), so the query string is carried over as it is.
    path(
        "",
        # Only reading follows: the old page answered 405 to anything but GET, and still does.
        RedirectView.as_view(
            pattern_name="records:review",
            permanent=True,
            query_string=True,
            http_method_names=["get", "head"],
        ),
        name="event_list",
    ),
    # Public, no login: the recent signed checkpoints, for anyone to keep copies (D28).
    path("checkpoints/", views.checkpoint_list_view, name="checkpoints"),
    path("checkpoints.json", views.checkpoint_feed_view, name="checkpoints_json"),
]
