from django.urls import include, path
from django.views.i18n import set_language

from samverkan.web.api import api

urlpatterns = [
    path("", include("samverkan.web.urls")),
    path("", include("samverkan.accounts.urls")),
    path("accounts/", include("allauth.urls")),
    path("admin/", include("samverkan.organisations.urls")),
    path("audit/", include("samverkan.audit.urls")),
    path("cases/", include("samverkan.cases.urls")),
    path("cases/", include("samverkan.plans.urls")),
    path("consents/", include("samverkan.consent.urls")),
    path("meetings/", include("samverkan.meetings.urls")),
    path("agreements/", include("samverkan.promises.urls")),
    path("indicators/", include("samverkan.indicators.urls")),
    path("promises/", include("samverkan.promises.public_urls")),
    path("portal/", include("samverkan.portal.urls")),
    path("account/tokens/", include("samverkan.api.urls")),
    path("notifications/", include("samverkan.notifications.urls")),
    path("stats/", include("samverkan.stats.urls")),
    path("records/", include("samverkan.records.urls")),
    path("api/v1/", api.urls),
    path("i18n/setlang/", set_language, name="set_language"),
]
