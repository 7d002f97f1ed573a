"""Every write to cases. Each function runs in one transaction and audits inside it.

The package: ``people`` (youths, guardians, pseudonyms), ``casework`` (raising, status, team,
entries, reports of concern, screening), ``lists`` (factors and information categories) and
``bulk`` (many rows at once, for the synthetic data set).
"""

from __future__ import annotations

from samverkan.cases.services.bulk import (
    CASE_TABLES,
    case_prepare,
    cases_create_bulk,
    entry_prepare,
)
from samverkan.cases.services.casework import (
    RaisedCase,
    case_raise,
    case_transition,
    concern_report_acknowledge,
    concern_report_add,
    entry_add,
    entry_correct,
    names_for_screening,
    screen_case_text,
    screen_if_pseudonymous,
    team_add,
    team_remove,
)
from samverkan.cases.services.lists import (
    category_add,
    factor_add,
    list_entry_set_active,
)
from samverkan.cases.services.people import (
    Pseudonyms,
    guardian_add,
    guardian_link_prepare,
    pseudonym_prefix,
    youth_find,
    youth_prepare,
    youth_register,
)

__all__ = [
    "CASE_TABLES",
    "Pseudonyms",
    "RaisedCase",
    "case_prepare",
    "case_raise",
    "case_transition",
    "cases_create_bulk",
    "category_add",
    "concern_report_acknowledge",
    "concern_report_add",
    "entry_add",
    "entry_correct",
    "entry_prepare",
    "factor_add",
    "guardian_add",
    "guardian_link_prepare",
    "list_entry_set_active",
    "names_for_screening",
    "pseudonym_prefix",
    "screen_case_text",
    "screen_if_pseudonymous",
    "team_add",
    "team_remove",
    "youth_find",
    "youth_prepare",
    "youth_register",
]
