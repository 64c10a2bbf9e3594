# Reserved for a change in progress; filled in by its work.
from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [("reminders", "0003_sms_safe_names")]
    operations: list[migrations.operations.base.Operation] = []
