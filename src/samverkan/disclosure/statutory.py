"""The named statutory bases on which one entry may cross to one agency without consent
(DESIGN rules 5 and 17). Each says which sectors it runs from and to, the age limit the system
checks, and the provision's own conditions, which the person disclosing must confirm one by one;
``SAMVERKAN_STATUTORY_BASES`` chooses which are offered. There is no other override.

Each basis cites the enacted provision (SFS number, chapter and section). Where the wording
could not be checked against the statute text when this was written, ``verified`` is False and
the label says so: a legal reviewer must check it before relying on it (docs/consent.md §6).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from django.conf import settings
from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _

from samverkan.organisations.models import Sector

OSL = "Offentlighets- och sekretesslag (2009:400)"


@dataclass(frozen=True)
class Condition:
    """One condition of a provision, confirmed by the person disclosing before it runs."""

    code: str
    text: str | Promise


@dataclass(frozen=True)
class StatutoryBasis:
    code: str
    label: str | Promise
    reference: str  # the enacted provision: the act's name, SFS number, chapter and section
    from_sectors: frozenset[str] | None  # None: any sector
    to_sectors: frozenset[str]
    max_age: int | None = None  # the youth must be younger than this
    conditions: tuple[Condition, ...] = field(default=())
    verified: bool = False  # the reference and conditions checked against the statute's wording

    @property
    def display(self) -> str:
        text = f"{self.label} — {self.reference}"
        if not self.verified:
            text += " " + str(NOT_VERIFIED)
        return text


NOT_VERIFIED = _("(not verified against the statute text here)")

_UNDER_21_NO_SPECIFIC_CRIME = Condition(
    "no_specific_crime",
    _(
        "The information does not concern a specific crime that has been committed: it is given "
        "to prevent the young person from engaging in criminal activity (prop. 2011/12:171)."
    ),
)
_UNDER_21_RISK = Condition(
    "risk_of_criminal_activity",
    _(
        "Because of particular circumstances there is a risk that the young person will engage "
        "in criminal activity, and the information can be expected to help prevent it."
    ),
)
_UNDER_21_NOT_UNSUITABLE = Condition(
    "not_unsuitable",
    _(
        "Disclosing it is not unsuitable in view of social services' planned or ongoing "
        "interventions for the young person, or for other particular reasons."
    ),
)

BASES: tuple[StatutoryBasis, ...] = (
    StatutoryBasis(
        code="concern_report",
        label=_("Report of concern to social services (duty to report a child at risk)"),
        reference=f"{OSL} 10 kap. 28 §; Socialtjänstlag (2025:400), reporting duty",
        from_sectors=None,
        to_sectors=frozenset({Sector.SOCIAL_SERVICES}),
        max_age=18,
        # OSL 10:28 (a duty to provide information breaks secrecy) is confirmed by several
        # sources; the chapter and section of the reporting duty in the new SoL are not.
        verified=False,
    ),
    StatutoryBasis(
        code="social_to_police_under_21",
        label=_("Social services to the police: a person under 21 at risk of criminal activity"),
        reference=f"{OSL} 10 kap. 18 a §",
        from_sectors=frozenset({Sector.SOCIAL_SERVICES}),
        to_sectors=frozenset({Sector.POLICE}),
        max_age=21,
        # The bill (prop. 2011/12:171) excludes information about a specific committed crime:
        # the provision is for preventing crime, not for investigating one.
        conditions=(_UNDER_21_NO_SPECIFIC_CRIME, _UNDER_21_RISK, _UNDER_21_NOT_UNSUITABLE),
        # The conditions follow the bill's own summary of the provision; the enacted wording
        # and the section number (from secondary sources) were not read here.
        verified=False,
    ),
    StatutoryBasis(
        code="duty_to_inform_police",
        label=_("Duty to provide information to the law-enforcement authorities (from 2025)"),
        reference="Lag om skyldighet att lämna uppgifter till de brottsbekämpande myndigheterna "
        "(SFS number not confirmed; prop. 2024/25:65, in force 2025-04-01 as proposed)",
        from_sectors=frozenset({Sector.SCHOOL, Sector.SOCIAL_SERVICES, Sector.LEISURE}),
        to_sectors=frozenset({Sector.POLICE}),
        verified=False,
    ),
    StatutoryBasis(
        code="suspected_crime_21",
        label=_("Suspected crime against a child, to the police or a prosecutor"),
        reference=f"{OSL} 10 kap. 21 §",
        from_sectors=frozenset({Sector.SOCIAL_SERVICES, Sector.SCHOOL}),
        to_sectors=frozenset({Sector.POLICE}),
        conditions=(
            Condition(
                "crime_against_minor",
                _(
                    "The information concerns a suspected crime under chapter 3, 4 or 6 of the "
                    "Penal Code (brottsbalken) or under the Act prohibiting female genital "
                    "mutilation (1982:316), committed against a person under 18."
                ),
            ),
        ),
        # The crimes and the age are from secondary sources citing the section; whether an
        # attempt is covered, and under which conditions, was not checked.
        verified=False,
    ),
    StatutoryBasis(
        code="suspected_crime_22",
        label=_("Suspected crime against a child, other ground, to the police or a prosecutor"),
        reference=f"{OSL} 10 kap. 22 §",
        from_sectors=None,
        to_sectors=frozenset({Sector.POLICE}),
        conditions=(
            Condition(
                "checked_section_22",
                _("I have read OSL 10 kap. 22 § and the information meets each of its conditions."),
            ),
        ),
        verified=False,
    ),
    StatutoryBasis(
        code="suspected_crime_23",
        label=_("Suspected serious crime (at least one year's imprisonment), to the police"),
        reference=f"{OSL} 10 kap. 23 §",
        from_sectors=frozenset({Sector.SOCIAL_SERVICES, Sector.SCHOOL}),
        to_sectors=frozenset({Sector.POLICE}),
        conditions=(
            Condition(
                "minimum_one_year",
                _(
                    "The information concerns suspicion of a crime that has been committed, for "
                    "which the mildest penalty prescribed is imprisonment for one year or more "
                    "(or an attempt at a crime whose mildest penalty is imprisonment for two "
                    "years or more)."
                ),
            ),
        ),
        # The one-year threshold for a committed crime under health-care and social-services
        # secrecy is confirmed (Åklagarmyndigheten, 2017); the attempt clause is not.
        verified=False,
    ),
    StatutoryBasis(
        code="suspected_crime_24",
        label=_("Suspected crime punishable by more than a fine, to the police"),
        reference=f"{OSL} 10 kap. 24 §",
        from_sectors=None,
        to_sectors=frozenset({Sector.POLICE}),
        conditions=(
            Condition(
                "more_than_a_fine",
                _(
                    "The information concerns suspicion of a crime that has been committed, "
                    "imprisonment is prescribed for it, and it can be expected to lead to a "
                    "sanction other than a fine."
                ),
            ),
            Condition(
                "checked_section_24",
                _(
                    "I have read OSL 10 kap. 24 § and it applies to the secrecy that protects "
                    "this information in my agency."
                ),
            ),
        ),
        verified=False,
    ),
)

# Codes no longer offered but still found on recorded disclosures: they keep their label.
RETIRED: dict[str, tuple[str | Promise, tuple[str, ...]]] = {
    "suspected_crime": (
        _("Suspicion of a crime, disclosed to the police (OSL 10 kap. 21–24 §§, before the split)"),
        ("suspected_crime_21", "suspected_crime_22", "suspected_crime_23", "suspected_crime_24"),
    ),
}


def enabled_bases() -> list[StatutoryBasis]:
    chosen = set(settings.STATUTORY_BASES)
    for old, (_label, successors) in RETIRED.items():
        # A setting written before the split keeps offering what it offered.
        if old in chosen:
            chosen.update(successors)
    return [b for b in BASES if not chosen or b.code in chosen]


def basis_by_code(code: str) -> StatutoryBasis | None:
    return next((b for b in enabled_bases() if b.code == code), None)


def label_of(code: str) -> str:
    basis = next((b for b in BASES if b.code == code), None)
    if basis is not None:
        return str(basis.label)
    retired = RETIRED.get(code)
    return str(retired[0]) if retired else code
