from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.checks import Error, register


@register()
def mfa_never_bypassed(app_configs: Any, **kwargs: Any) -> list[Error]:
    """allauth can accept a fixed TOTP code for testing; Samverkan never allows it."""
    if getattr(settings, "MFA_TOTP_INSECURE_BYPASS_CODE", None):
        return [Error("MFA_TOTP_INSECURE_BYPASS_CODE must not be set", id="samverkan.E001")]
    return []
