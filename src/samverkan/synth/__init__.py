"""Synthetic data at national scale: fictional municipalities, staff, youths and their cases.

``samverkan synth`` (``generate.synth_generate``) builds a data set that looks to every part of
the application exactly as if people had worked it through the services for months. It is made
through the house's plumbing: every row is made by a service's per-row function (the same one
the single-row service uses: identity numbers checked and hashed, pseudonyms drawn from the
counters, signers decided, a scan checked as an upload) and written by that app's bulk helper
(``cases.services.cases_create_bulk`` and its kin), and the audit events are checked, numbered
and chained by ``audit.services.append_bulk``, in the order of their simulated times. A rule
added to a service's per-row function therefore reaches synthetic data too.

Modules, by domain: ``base`` (options, guard, clock, builder), ``words`` (the fictional names
and texts), ``organisations``, ``cases`` (youths and a case's life), ``consent``, ``plans``,
``meetings``, ``promises`` (agreements and indicators, through the services themselves),
``audit`` (the events collected and appended) and ``generate`` (the run).

Everything is fictional. Municipality names end in ``(syntetisk)`` and take free codes from
9000–9999, a range no Swedish municipality uses. Identity numbers are valid in form (date and
check digit) but random: they may coincide with a real person's number, which is one reason
synthetic data never goes into a production database (``base.synth_check_allowed``).
"""
