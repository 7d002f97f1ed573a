"""Template filters of the project."""

from __future__ import annotations

from django import template

from samverkan.lib.redact import holds_identity_number

register = template.Library()


@register.filter
def safe_next(value: str | None) -> str:
    """A ``next`` value fit to repeat in a page: nothing when it holds an identity number.

    allauth echoes the login page's ``?next=`` into the form as it was given; a number typed or
    linked into it must not come back in the page (DESIGN rule 10).
    """
    if not value or holds_identity_number(value):
        return ""
    return value
