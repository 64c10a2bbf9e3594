"""Calls the phone system reports, from the first ring to the logged call."""

from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [("crm", "0011_desk_feed")]
    operations: list[migrations.operations.base.Operation] = []
