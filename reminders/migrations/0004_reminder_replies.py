"""A reminder's reply: the patient's first text back after it (C, R, STOP, anything else)
and when, derived by the `reminders` projection from the SmsReceived events.

On a database that already has a log the projection starts over (its checkpoint back to
0): each patient's rows are derived again from the first event, replies included, exactly
as a rebuild would write them.
"""

from django.db import migrations, models


def replay_reminders(apps, schema_editor):
    checkpoints = apps.get_model("crm", "ProjectionCheckpoint")
    checkpoints.objects.filter(name="reminders").update(position=0)


class Migration(migrations.Migration):
    dependencies = [("crm", "0001_initial"), ("reminders", "0003_sms_safe_names")]

    operations = [
        migrations.AddField(
            model_name="reminder",
            name="reply_intent",
            field=models.CharField(blank=True, max_length=16),
        ),
        migrations.AddField(
            model_name="reminder",
            name="reply_text",
            field=models.TextField(blank=True),
        ),
        migrations.AddField(
            model_name="reminder",
            name="replied_at",
            field=models.DateTimeField(null=True),
        ),
        migrations.RunPython(replay_reminders, migrations.RunPython.noop),
    ]
