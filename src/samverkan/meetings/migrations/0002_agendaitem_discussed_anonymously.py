from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("cases", "0005_guardianlink_email_hash"),
        ("meetings", "0001_initial"),
    ]

    operations = [
        migrations.AddField(
            model_name="agendaitem",
            name="discussed_anonymously_at",
            field=models.DateTimeField(blank=True, null=True),
        ),
        migrations.AddConstraint(
            model_name="agendaitem",
            constraint=models.CheckConstraint(
                condition=models.Q(
                    ("discussed_anonymously_at__isnull", True), ("minutes_enc", ""), _connector="OR"
                ),
                name="agenda_anonymous_without_minutes",
            ),
        ),
    ]
