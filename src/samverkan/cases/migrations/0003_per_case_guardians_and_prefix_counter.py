"""Guardians are recorded per case; pseudonym counters are kept per prefix and year."""

import django.db.models.deletion
from django.db import migrations, models

_TRANSLITERATE = str.maketrans("ÅÄÖÉÜåäöéü", "AAOEUaaoeu")


def link_guardians_to_cases(apps, schema_editor):
    GuardianLink = apps.get_model("cases", "GuardianLink")
    Case = apps.get_model("cases", "Case")
    for link in GuardianLink.objects.filter(case__isnull=True):
        first = Case.objects.filter(youth_id=link.youth_id).order_by("raised_at", "pk").first()
        if first is None:
            link.delete()
        else:
            link.case_id = first.pk
            link.save(update_fields=["case"])


def prefix_counters(apps, schema_editor):
    Counter = apps.get_model("cases", "PseudonymCounter")
    merged: dict[tuple[str, int], int] = {}
    for counter in Counter.objects.select_related("municipality"):
        letters = [
            c for c in counter.municipality.name.translate(_TRANSLITERATE).upper() if c.isalpha()
        ]
        key = ("".join(letters[:3]).ljust(3, "X"), counter.year)
        merged[key] = max(merged.get(key, 0), counter.last)
    Counter.objects.all().delete()
    for (prefix, year), last in merged.items():
        Counter.objects.create(prefix=prefix, year=year, last=last, municipality_id=None)


class Migration(migrations.Migration):
    dependencies = [("cases", "0002_default_factors_and_categories")]

    operations = [
        migrations.RemoveConstraint(model_name="guardianlink", name="guardian_link_unique"),
        migrations.AddField(
            model_name="guardianlink",
            name="case",
            field=models.ForeignKey(
                null=True,
                on_delete=django.db.models.deletion.CASCADE,
                related_name="guardian_links",
                to="cases.case",
            ),
        ),
        migrations.RunPython(link_guardians_to_cases, migrations.RunPython.noop),
        migrations.AlterField(
            model_name="guardianlink",
            name="case",
            field=models.ForeignKey(
                on_delete=django.db.models.deletion.CASCADE,
                related_name="guardian_links",
                to="cases.case",
            ),
        ),
        migrations.AddConstraint(
            model_name="guardianlink",
            constraint=models.UniqueConstraint(
                fields=("case", "guardian"), name="guardian_link_per_case"
            ),
        ),
        migrations.RemoveConstraint(model_name="pseudonymcounter", name="pseudonym_counter_unique"),
        migrations.AddField(
            model_name="pseudonymcounter",
            name="prefix",
            field=models.CharField(default="", max_length=8),
            preserve_default=False,
        ),
        migrations.AlterField(
            model_name="pseudonymcounter",
            name="municipality",
            field=models.ForeignKey(
                null=True,
                on_delete=django.db.models.deletion.CASCADE,
                related_name="+",
                to="organisations.municipality",
            ),
        ),
        migrations.RunPython(prefix_counters, migrations.RunPython.noop),
        migrations.RemoveField(model_name="pseudonymcounter", name="municipality"),
        migrations.AddConstraint(
            model_name="pseudonymcounter",
            constraint=models.UniqueConstraint(
                fields=("prefix", "year"), name="pseudonym_counter_prefix_year"
            ),
        ),
    ]
