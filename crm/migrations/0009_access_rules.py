"""Reserved in the chain of crm migrations; filled by the change that needs it."""

from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [("crm", "0008_clinic_roles")]
    operations: list[migrations.operations.base.Operation] = []
