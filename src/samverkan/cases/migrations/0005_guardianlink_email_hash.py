"""A keyed hash of each guardian link's e-mail address, so that the guardian portal can find the
links of an address typed at login without decrypting every row."""

from django.db import migrations, models

from samverkan.lib import crypto
from samverkan.lib.fields import search_hash


def hash_addresses(apps, schema_editor):
    GuardianLink = apps.get_model("cases", "GuardianLink")
    for link in GuardianLink.objects.exclude(email_enc=""):
        email = crypto.decrypt(link.email_enc, aad=f"cases.guardianlink.email:{link.uid}")
        normalised = email.strip().lower()
        link.email_hash = search_hash("email", normalised) if normalised else ""
        link.save(update_fields=["email_hash"])


class Migration(migrations.Migration):
    dependencies = [("cases", "0004_guardian_details_per_case")]

    operations = [
        migrations.AddField(
            model_name="guardianlink",
            name="email_hash",
            field=models.CharField(blank=True, db_index=True, max_length=64),
        ),
        migrations.RunPython(hash_addresses, migrations.RunPython.noop),
    ]
