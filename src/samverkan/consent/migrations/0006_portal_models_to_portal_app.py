# PortalLoginCode and EidOrder now belong to the portal app (portal migration 0001 took them
# into its state over the same tables): they leave consent's state only, the tables stay.

from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [
        ("consent", "0005_statutory_conditions"),
        ("portal", "0001_initial"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.DeleteModel(name="EidOrder"),
                migrations.DeleteModel(name="PortalLoginCode"),
            ],
            database_operations=[],
        )
    ]
