"""Guardian names and e-mail addresses move from the shared guardian record to each case's link,
re-encrypted and bound to the link's row."""

import uuid

from django.db import migrations, models

from samverkan.lib import crypto


def move_details(apps, schema_editor):
    GuardianLink = apps.get_model("cases", "GuardianLink")
    for link in GuardianLink.objects.select_related("guardian"):
        guardian = link.guardian
        link.uid = uuid.uuid4()
        name = crypto.decrypt(guardian.name_enc, aad=f"cases.guardian.name:{guardian.uid}")
        link.name_enc = crypto.encrypt(name, aad=f"cases.guardianlink.name:{link.uid}")
        if guardian.email_enc:
            email = crypto.decrypt(guardian.email_enc, aad=f"cases.guardian.email:{guardian.uid}")
            link.email_enc = crypto.encrypt(email, aad=f"cases.guardianlink.email:{link.uid}")
        link.save()


class Migration(migrations.Migration):
    dependencies = [("cases", "0003_per_case_guardians_and_prefix_counter")]

    operations = [
        migrations.AddField(
            model_name="guardianlink",
            name="uid",
            field=models.UUIDField(null=True, editable=False),
        ),
        migrations.AddField(
            model_name="guardianlink", name="name_enc", field=models.TextField(default="")
        ),
        migrations.AddField(
            model_name="guardianlink",
            name="email_enc",
            field=models.TextField(blank=True, default=""),
        ),
        migrations.RunPython(move_details, migrations.RunPython.noop),
        migrations.AlterField(
            model_name="guardianlink",
            name="uid",
            field=models.UUIDField(default=uuid.uuid4, editable=False, unique=True),
        ),
        migrations.AlterField(model_name="guardianlink", name="name_enc", field=models.TextField()),
        migrations.AlterField(
            model_name="guardianlink", name="email_enc", field=models.TextField(blank=True)
        ),
        migrations.RemoveField(model_name="guardian", name="name_enc"),
        migrations.RemoveField(model_name="guardian", name="email_enc"),
    ]
