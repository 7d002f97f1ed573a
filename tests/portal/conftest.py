"""The portal's tests stand on the consent fixtures (a case with two guardians, a consent
pending or signed by both): imported from tests/consent/conftest.py, not copied."""

from tests.consent.conftest import active_consent, consent_case, pending_consent

__all__ = ["active_consent", "consent_case", "pending_consent"]
