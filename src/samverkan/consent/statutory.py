"""The named statutory bases on which one entry may cross to one agency without consent
(DESIGN rule 5). Each says which sectors it runs from and to; ``SAMVERKAN_STATUTORY_BASES``
chooses which are offered. There is no other override.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.conf import settings
from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _

from samverkan.organisations.models import Sector


@dataclass(frozen=True)
class StatutoryBasis:
    code: str
    label: str | Promise
    reference: str
    from_sectors: frozenset[str] | None  # None: any sector
    to_sectors: frozenset[str]
    max_age: int | None = None  # the youth must be younger than this


BASES: tuple[StatutoryBasis, ...] = (
    StatutoryBasis(
        code="concern_report",
        label=_("Report of concern to social services (duty to report a child at risk)"),
        reference="SoL (2025:400); OSL 10 kap. 28 §",
        from_sectors=None,
        to_sectors=frozenset({Sector.SOCIAL_SERVICES}),
    ),
    StatutoryBasis(
        code="social_to_police_under_21",
        label=_("Social services to the police: a person under 21 at risk of criminal activity"),
        reference="OSL 10 kap. 18 a §",
        from_sectors=frozenset({Sector.SOCIAL_SERVICES}),
        to_sectors=frozenset({Sector.POLICE}),
        max_age=21,
    ),
    StatutoryBasis(
        code="duty_to_inform_police",
        label=_("Duty to provide information to the law-enforcement authorities (from 2025)"),
        reference="Lag om skyldighet att lämna uppgifter till de brottsbekämpande myndigheterna "
        "(prop. 2024/25:65)",
        from_sectors=frozenset({Sector.SCHOOL, Sector.SOCIAL_SERVICES, Sector.LEISURE}),
        to_sectors=frozenset({Sector.POLICE}),
    ),
    StatutoryBasis(
        code="suspected_crime",
        label=_("Suspicion of a crime, disclosed to the police"),
        reference="OSL 10 kap. 21–24 §§",
        from_sectors=None,
        to_sectors=frozenset({Sector.POLICE}),
    ),
)


def enabled_bases() -> list[StatutoryBasis]:
    chosen = set(settings.STATUTORY_BASES)
    return [b for b in BASES if not chosen or b.code in chosen]


def basis_by_code(code: str) -> StatutoryBasis | None:
    return next((b for b in enabled_bases() if b.code == code), None)


def label_of(code: str) -> str:
    basis = next((b for b in BASES if b.code == code), None)
    return str(basis.label) if basis else code
