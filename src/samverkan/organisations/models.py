"""Municipalities, police areas, agencies, memberships and collaboration groups.

The agency, not the municipality, is the unit of access: secrecy applies between agencies of
the same municipality (OSL 8:1). Membership of an agency gives a role, never access to a case.
"""

from __future__ import annotations

from django.conf import settings
from django.core.validators import RegexValidator
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _


class Sector(models.TextChoices):
    SCHOOL = "school", _("School")
    SOCIAL_SERVICES = "social_services", _("Social services")
    POLICE = "police", _("Police")
    LEISURE = "leisure", _("Leisure")
    OTHER = "other", _("Other")


class Role(models.TextChoices):
    PRACTITIONER = "practitioner", _("Practitioner")
    COORDINATOR = "coordinator", _("SSPF coordinator")
    AGREEMENT_EDITOR = "agreement_editor", _("Agreement editor")
    COUNCIL_MEMBER = "council_member", _("Council member")
    AUDITOR = "auditor", _("Auditor")
    ADMINISTRATOR = "administrator", _("Administrator")


class Municipality(models.Model):
    name = models.CharField(_("name"), max_length=100, unique=True)
    code = models.CharField(
        _("municipality code"),
        max_length=4,
        unique=True,
        validators=[RegexValidator(r"^\d{4}$", _("A municipality code has four digits."))],
    )

    class Meta:
        ordering = ["name"]
        verbose_name = _("municipality")
        verbose_name_plural = _("municipalities")
        constraints = [
            models.CheckConstraint(
                condition=Q(code__regex=r"^[0-9]{4}$"), name="municipality_code_4_digits"
            )
        ]

    def __str__(self) -> str:
        return self.name


class PoliceArea(models.Model):
    """A local police area (lokalpolisområde); it can serve several municipalities."""

    name = models.CharField(_("name"), max_length=100, unique=True)
    municipalities = models.ManyToManyField(
        Municipality, related_name="police_areas", verbose_name=_("municipalities"), blank=True
    )

    class Meta:
        ordering = ["name"]
        verbose_name = _("police area")
        verbose_name_plural = _("police areas")

    def __str__(self) -> str:
        return self.name


class Agency(models.Model):
    """A unit of one sector belonging to exactly one municipality or one police area."""

    name = models.CharField(_("name"), max_length=150)
    sector = models.CharField(_("sector"), max_length=20, choices=Sector.choices)
    municipality = models.ForeignKey(
        Municipality,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="agencies",
        verbose_name=_("municipality"),
    )
    police_area = models.ForeignKey(
        PoliceArea,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="agencies",
        verbose_name=_("police area"),
    )
    is_active = models.BooleanField(_("active"), default=True)

    class Meta:
        ordering = ["name"]
        verbose_name = _("agency")
        verbose_name_plural = _("agencies")
        constraints = [
            models.CheckConstraint(
                condition=(Q(municipality__isnull=False) & Q(police_area__isnull=True))
                | (Q(municipality__isnull=True) & Q(police_area__isnull=False)),
                name="agency_belongs_to_exactly_one_owner",
            ),
            models.UniqueConstraint(
                fields=["name", "municipality"], name="agency_name_unique_in_municipality"
            ),
            models.UniqueConstraint(
                fields=["name", "police_area"], name="agency_name_unique_in_police_area"
            ),
        ]

    def __str__(self) -> str:
        return self.name

    @property
    def owner(self) -> Municipality | PoliceArea:
        owner = self.municipality or self.police_area
        if owner is None:  # impossible under the check constraint; fail loudly, never guess
            raise ValueError(f"agency {self.pk} has no municipality or police area")
        return owner


class Membership(models.Model):
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        related_name="memberships",
        verbose_name=_("user"),
    )
    agency = models.ForeignKey(
        Agency, on_delete=models.PROTECT, related_name="memberships", verbose_name=_("agency")
    )
    role = models.CharField(_("role"), max_length=30, choices=Role.choices)
    created_at = models.DateTimeField(_("created"), auto_now_add=True)

    class Meta:
        ordering = ["agency__name", "role"]
        verbose_name = _("membership")
        verbose_name_plural = _("memberships")
        constraints = [
            models.UniqueConstraint(fields=["user", "agency", "role"], name="membership_unique")
        ]

    def __str__(self) -> str:
        return f"{self.agency} – {self.get_role_display()}"


class CollaborationGroup(models.Model):
    """A samverkansgrupp: the SSPF working group of one municipality."""

    municipality = models.ForeignKey(
        Municipality,
        on_delete=models.PROTECT,
        related_name="groups",
        verbose_name=_("municipality"),
    )
    name = models.CharField(_("name"), max_length=150)
    min_age = models.PositiveSmallIntegerField(_("target age from"), default=10)
    max_age = models.PositiveSmallIntegerField(_("target age to"), default=17)

    class Meta:
        ordering = ["municipality__name", "name"]
        verbose_name = _("collaboration group")
        verbose_name_plural = _("collaboration groups")
        constraints = [
            models.UniqueConstraint(fields=["municipality", "name"], name="group_name_unique"),
            models.CheckConstraint(
                condition=Q(min_age__lte=models.F("max_age")), name="group_age_band"
            ),
        ]

    def __str__(self) -> str:
        return self.name


class GroupRole(models.TextChoices):
    COORDINATOR = "coordinator", _("Coordinator")
    MEMBER = "member", _("Member")


SEAT_ROLES = ("practitioner", "coordinator")


class SeatManager(models.Manager["GroupMembership"]):
    """Only seats that still stand: an active person, an active agency, and a practitioner or
    coordinator membership of that agency behind the seat.

    The default manager, so that every query about who sits in a group (meeting access, case
    teams, actions) sees a seat vanish the moment the job behind it ends, without each caller
    remembering to check. ``GroupMembership.all_seats`` sees every row.
    """

    def get_queryset(self) -> models.QuerySet[GroupMembership]:
        backing = Membership.objects.filter(
            user_id=models.OuterRef("user_id"),
            agency_id=models.OuterRef("agency_id"),
            role__in=SEAT_ROLES,
        )
        return (
            super()
            .get_queryset()
            .filter(models.Exists(backing), user__is_active=True, agency__is_active=True)
        )


class GroupMembership(models.Model):
    """A person sits in a group on behalf of one of their agencies."""

    group = models.ForeignKey(
        CollaborationGroup,
        on_delete=models.CASCADE,
        related_name="members",
        verbose_name=_("group"),
    )
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        related_name="group_memberships",
        verbose_name=_("user"),
    )
    agency = models.ForeignKey(Agency, on_delete=models.PROTECT, verbose_name=_("agency"))
    role = models.CharField(
        _("role"), max_length=20, choices=GroupRole.choices, default=GroupRole.MEMBER
    )

    all_seats = models.Manager()
    objects = SeatManager()

    class Meta:
        default_manager_name = "objects"
        verbose_name = _("group membership")
        verbose_name_plural = _("group memberships")
        constraints = [
            models.UniqueConstraint(
                fields=["group", "user", "agency"], name="group_membership_unique"
            )
        ]

    def __str__(self) -> str:
        return f"{self.group} – {self.get_role_display()}"
