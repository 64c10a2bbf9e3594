"""The win-back suggestion for patients who have lapsed from care."""

from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [("engagement", "0002_work_queue_name")]
    operations: list[migrations.operations.base.Operation] = []
