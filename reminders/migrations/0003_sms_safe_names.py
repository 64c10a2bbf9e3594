"""SMS-safe names: the aliases texts use for locations and providers."""

from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [("reminders", "0002_seed_message_templates")]

    operations = [
        migrations.CreateModel(
            name="SmsAlias",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                (
                    "kind",
                    models.CharField(
                        choices=[("location", "location"), ("provider", "provider")],
                        max_length=16,
                    ),
                ),
                (
                    "name",
                    models.CharField(
                        help_text="As the front desk records it on appointments (case and "
                        "spacing aside), e.g. Riverside Behavioral Health, Suite 4.",
                        max_length=200,
                    ),
                ),
                ("name_key", models.CharField(editable=False, max_length=200)),
                (
                    "alias",
                    models.CharField(
                        help_text="What texts call it, e.g. Riverside, Suite 4. No word that "
                        "hints at the care given there (therapy, behavioral, psychiatry, ...).",
                        max_length=60,
                    ),
                ),
                ("updated_at", models.DateTimeField(auto_now=True)),
            ],
            options={
                "verbose_name": "SMS-safe name",
                "db_table": "reminders_sms_alias",
                "ordering": ["kind", "name_key"],
                "constraints": [
                    models.UniqueConstraint(
                        fields=("kind", "name_key"), name="reminders_sms_alias_once"
                    )
                ],
            },
        ),
    ]
