from __future__ import annotations

from django.contrib.auth.models import AbstractUser
from django.db import models
from django.utils.translation import gettext_lazy as _


class User(AbstractUser):
    """A staff account. Guardians and youths use the portal, which comes with its own identity.

    Django's ``is_staff`` and ``is_superuser`` are never set: the Django admin is not installed,
    and administration goes through the services so that every change is audited.
    """

    email = models.EmailField(_("e-mail address"), unique=True)

    class Meta(AbstractUser.Meta):
        swappable = "AUTH_USER_MODEL"
        verbose_name = _("user")  # type: ignore[assignment]  # lazy text, as Django intends
        verbose_name_plural = _("users")  # type: ignore[assignment]

    def __str__(self) -> str:
        return self.get_full_name() or self.username
