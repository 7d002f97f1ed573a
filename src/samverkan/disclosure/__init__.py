"""The disclosure layer: what a viewer may see of a case, and the record that it was shown.

It owns the rules (``policy``, pure), the consent facts and state they decide on (``facts``),
the viewer and case access (``access``), entry listing and the recording of every disclosure.
The domain apps (cases, consent, plans, meetings, records, the API) import only its public
names; it imports no domain app but their models (docs/decisions.md D25).
"""
