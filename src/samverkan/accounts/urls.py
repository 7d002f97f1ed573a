from django.urls import path

from samverkan.accounts import views

app_name = "accounts"

urlpatterns = [
    path("admin/users/", views.user_list_view, name="user_list"),
    path("admin/users/invite/", views.user_invite_view, name="user_invite"),
    path("admin/users/<int:pk>/", views.user_detail_view, name="user_detail"),
    path("admin/users/<int:pk>/edit/", views.user_edit_view, name="user_edit"),
    path("admin/users/<int:pk>/memberships/", views.membership_add_view, name="membership_add"),
    path(
        "users/<int:pk>/memberships/<int:membership_id>/remove/",
        views.membership_remove_view,
        name="membership_remove",
    ),
    path("admin/users/<int:pk>/active/", views.user_set_active_view, name="user_set_active"),
    path("admin/users/<int:pk>/resend/", views.user_resend_invitation_view, name="user_resend"),
    path(
        "accounts/invitation/<str:uidb64>/<str:token>/",
        views.accept_invitation_view,
        name="accept_invitation",
    ),
]
