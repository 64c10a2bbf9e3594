"""Reserved in the chain of reminders migrations; filled by the change that needs it."""

from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [("reminders", "0002_seed_message_templates")]
    operations: list[migrations.operations.base.Operation] = []
