"""What the cases app tells other apps, so that it need not import them (docs/decisions.md D25)."""

from __future__ import annotations

from django.dispatch import Signal

# Sent inside the transaction that links a custodian to a case, with ``actor`` and ``link``
# (a ``GuardianLink``). The consent app makes the case's consents wait for the new custodian's
# signature (DESIGN rule 2, docs/decisions.md D23); an exception in a receiver rolls the link
# back with it.
custodian_linked = Signal()
