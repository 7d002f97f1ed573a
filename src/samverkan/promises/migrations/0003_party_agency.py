import django.db.models.deletion
from django.db import migrations, models


def link_existing_parties(apps, schema_editor):
    """Give parties made before parties had agencies the agency that speaks for them, where
    only one can: the police party the police area's one active agency, the municipality party
    the one active agency of the municipality where the agreement's creator edits agreements.
    Others stay unlinked; their assessment can then be recorded by nobody (docs/promises.md)."""
    Party = apps.get_model("promises", "Party")
    Agency = apps.get_model("organisations", "Agency")
    Membership = apps.get_model("organisations", "Membership")
    parties = Party.objects.filter(agency__isnull=True).exclude(kind="other")
    for party in parties.select_related("agreement"):
        agreement = party.agreement
        if party.kind == "police":
            agencies = Agency.objects.filter(is_active=True, police_area__isnull=False)
            if agreement.police_area_id is not None:
                agencies = agencies.filter(police_area_id=agreement.police_area_id)
            else:
                agencies = agencies.filter(police_area__municipalities=agreement.municipality_id)
        else:
            editing = Membership.objects.filter(
                user_id=agreement.created_by_id, role="agreement_editor"
            ).values("agency_id")
            agencies = Agency.objects.filter(
                is_active=True, municipality_id=agreement.municipality_id, pk__in=editing
            )
        found = list(agencies.distinct()[:2])
        if len(found) == 1:
            party.agency = found[0]
            party.save(update_fields=["agency"])


class Migration(migrations.Migration):
    dependencies = [
        ("organisations", "0002_seat_manager"),
        ("promises", "0002_follow_up_indicator_values"),
    ]

    operations = [
        migrations.AddField(
            model_name="party",
            name="agency",
            field=models.ForeignKey(
                blank=True,
                null=True,
                on_delete=django.db.models.deletion.PROTECT,
                related_name="agreement_parties",
                to="organisations.agency",
                verbose_name="agency",
            ),
        ),
        migrations.RunPython(link_existing_parties, migrations.RunPython.noop),
    ]
