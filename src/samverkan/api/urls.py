from django.urls import path

from samverkan.api import views

app_name = "api"

urlpatterns = [
    path("", views.token_list_view, name="token_list"),
    path("new/", views.token_create_view, name="token_create"),
    path("<int:pk>/revoke/", views.token_revoke_view, name="token_revoke"),
]
