"""Reserved in the chain of crm migrations; filled by the change that needs it."""

from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [("crm", "0007_command_record_fingerprint")]
    operations: list[migrations.operations.base.Operation] = []
