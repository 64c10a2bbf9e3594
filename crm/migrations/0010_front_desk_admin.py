# Reserved for a change in progress; filled in by its work.
from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [("crm", "0009_contact_reasons")]
    operations: list[migrations.operations.base.Operation] = []
