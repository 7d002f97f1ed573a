"""The database cache table.

The cache holds allauth's rate-limit counters and its record of used TOTP codes (replay
protection). It lives in the database so that several application servers share it.
"""

from django.core.management import call_command
from django.db import migrations


def create_cache_table(apps, schema_editor):
    call_command("createcachetable", database=schema_editor.connection.alias, verbosity=0)


class Migration(migrations.Migration):
    initial = True
    dependencies = []

    operations = [migrations.RunPython(create_cache_table, migrations.RunPython.noop)]
