# The portal's two models move here from the consent app without moving their data: this
# creates them in Django's state only, over the tables consent migration 0002 made (and keeps);
# consent migration 0006 then drops them from consent's state, again without touching the tables.

import django.utils.timezone
import uuid
from django.db import migrations, models


class Migration(migrations.Migration):
    initial = True

    dependencies = [
        ("consent", "0005_statutory_conditions"),
    ]

    state_operations = [
        migrations.CreateModel(
            name="EidOrder",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                ("uid", models.UUIDField(default=uuid.uuid4, editable=False, unique=True)),
                ("reference", models.CharField(max_length=64, unique=True)),
                ("purpose", models.CharField(max_length=10)),
                ("text_enc", models.TextField(blank=True)),
                ("text_sha256", models.CharField(blank=True, max_length=64)),
                (
                    "status",
                    models.CharField(
                        choices=[
                            ("pending", "Pending"),
                            ("complete", "Complete"),
                            ("failed", "Failed"),
                        ],
                        default="pending",
                        max_length=10,
                    ),
                ),
                ("hint", models.CharField(blank=True, max_length=40)),
                ("identity_number_enc", models.TextField(blank=True)),
                ("identity_number_hash", models.CharField(blank=True, max_length=64)),
                ("signature", models.CharField(blank=True, max_length=64)),
                ("created_at", models.DateTimeField(default=django.utils.timezone.now)),
                ("expires_at", models.DateTimeField()),
                ("completed_at", models.DateTimeField(blank=True, null=True)),
                ("collected_at", models.DateTimeField(blank=True, null=True)),
            ],
            options={
                "db_table": "consent_eidorder",
                "ordering": ["-created_at"],
            },
        ),
        migrations.CreateModel(
            name="PortalLoginCode",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                ("uid", models.UUIDField(default=uuid.uuid4, editable=False, unique=True)),
                ("email_hash", models.CharField(db_index=True, max_length=64)),
                ("code_hash", models.CharField(max_length=64)),
                (
                    "created_at",
                    models.DateTimeField(db_index=True, default=django.utils.timezone.now),
                ),
                ("expires_at", models.DateTimeField()),
                ("attempts", models.PositiveSmallIntegerField(default=0)),
                ("used_at", models.DateTimeField(blank=True, null=True)),
            ],
            options={
                "db_table": "consent_portallogincode",
                "ordering": ["-created_at"],
            },
        ),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=state_operations, database_operations=[]
        )
    ]
