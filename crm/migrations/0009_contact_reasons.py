"""The clinic's list of contact reasons, seeded with the usual ones, and the agent's
"resolved on first contact" answer on each logged call of the metrics.

First-contact resolution now counts the agent's answer and matches repeat contacts on the
reason's code (free text logged before the list counts as "other"), so the `metrics`
catch-up projection starts over (its rows dropped, its checkpoint back to 0) and the next
catch-up counts the log again from the first event, exactly as a rebuild would.
"""

from django.db import migrations, models

import crm.models.contact_reasons


def seed_reasons(apps, schema_editor):
    crm.models.contact_reasons.seed_contact_reasons(apps.get_model("crm", "ContactReason"))


def replay_metrics(apps, schema_editor):
    for name in (
        "DailyCallStats",
        "DailyAppointmentStats",
        "DailySatisfactionStats",
        "LoggedCall",
        "DailyReminderStats",
        "RemindedAppointment",
    ):
        apps.get_model("crm", name).objects.all().delete()
    apps.get_model("crm", "ProjectionCheckpoint").objects.filter(name="metrics").update(position=0)


class Migration(migrations.Migration):
    dependencies = [("crm", "0008_clinic_roles")]

    operations = [
        migrations.CreateModel(
            name="ContactReason",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                (
                    "code",
                    models.SlugField(
                        help_text="What calls record and figures match on (e.g. billing); "
                        "cannot change later.",
                        max_length=40,
                        unique=True,
                        validators=[crm.models.contact_reasons._not_other],
                    ),
                ),
                ("label", models.CharField(help_text="What agents pick from.", max_length=200)),
                (
                    "active",
                    models.BooleanField(
                        default=True,
                        help_text="Offered for new calls. Old calls keep a retired reason.",
                    ),
                ),
                (
                    "position",
                    models.PositiveSmallIntegerField(default=100, help_text="Order in the list."),
                ),
            ],
            options={"db_table": "crm_contact_reason", "ordering": ["position", "label"]},
        ),
        migrations.AddField(
            model_name="loggedcall",
            name="resolved_first_contact",
            field=models.BooleanField(default=False),
        ),
        migrations.RunPython(seed_reasons, migrations.RunPython.noop),
        migrations.RunPython(replay_metrics, migrations.RunPython.noop),
    ]
