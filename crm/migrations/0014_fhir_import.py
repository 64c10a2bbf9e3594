"""What the EHR import keeps: identifiers and the records it could not match."""

from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [("crm", "0013_churn")]
    operations: list[migrations.operations.base.Operation] = []
