"""Who is in care, who has lapsed: the churn projection's tables."""

from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [("crm", "0012_voice_calls")]
    operations: list[migrations.operations.base.Operation] = []
