"""The guardian portal, mounted at ``/portal/``. No route takes an address, a code or an
identity number: those travel in POST bodies."""

from django.urls import path

from samverkan.portal import views

app_name = "portal"

urlpatterns = [
    path("", views.home_view, name="home"),
    path("login/", views.login_view, name="login"),
    path("login/code/", views.code_view, name="code"),
    path("login/eid/", views.eid_login_view, name="eid_login"),
    path("logout/", views.logout_view, name="logout"),
    path("eid/", views.eid_wait_view, name="eid_wait"),
    path("eid/cancel/", views.eid_cancel_view, name="eid_cancel"),
    path("eid/dev/<slug:reference>/", views.eid_dev_view, name="eid_dev"),
    path("consents/", views.consent_list_view, name="consent_list"),
    path("consents/<int:pk>/", views.consent_detail_view, name="consent_detail"),
    path("consents/<int:pk>/sign/", views.consent_sign_view, name="consent_sign"),
    path("consents/<int:pk>/withdraw/", views.consent_withdraw_view, name="consent_withdraw"),
    path("access-log/", views.access_log_view, name="access_log"),
]
