from django.urls import path
from django.views.generic import RedirectView

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
]
