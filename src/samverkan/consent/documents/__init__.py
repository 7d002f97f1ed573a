"""The documents of a consent and the scans that carry its signatures.

- ``text``: the wording of the form and the receipt, by language (and nowhere else);
- ``document``: the ``ConsentDocument`` every document is made from, for one viewer;
- ``pdf``: the printable form and receipt; ``receipt``: the receipt as JSON;
  ``fhir``: the FHIR R4 Consent export;
- ``views``: their downloads; ``uploads``: checking and storing scanned signed forms.

Nothing is re-exported here: import the module that holds what you need.
"""
