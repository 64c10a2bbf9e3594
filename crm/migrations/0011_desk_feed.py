"""The desk's feed of pushed events (screen pops, ended calls, queue changes)."""

from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [("crm", "0010_front_desk_admin")]
    operations: list[migrations.operations.base.Operation] = []
