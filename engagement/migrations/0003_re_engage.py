"""The win-back suggestion for patients who have lapsed from care: on a database with a log, the
suggestions projection starts over (checkpoint 0), so patients lapsed already get theirs."""

from django.db import migrations


def replay_suggestions(apps, schema_editor):
    checkpoints = apps.get_model("crm", "ProjectionCheckpoint")
    checkpoints.objects.filter(name="suggestions").update(position=0)


class Migration(migrations.Migration):
    dependencies = [("crm", "0001_initial"), ("engagement", "0002_work_queue_name")]
    operations: list[migrations.operations.base.Operation] = [
        migrations.RunPython(replay_suggestions, migrations.RunPython.noop),
    ]
