# The consent fixtures build a case with guardians and signed consents; statistics reuse them.
from tests.consent.conftest import active_consent, consent_case, pending_consent  # noqa: F401
