"""The desk's feed of pushed events (screen pops, ended calls, queue changes)."""

from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [("crm", "0010_front_desk_admin")]
    operations = [
        migrations.CreateModel(
            name="DeskEvent",
            fields=[
                ("id", models.BigAutoField(primary_key=True, serialize=False)),
                ("kind", models.CharField(max_length=40)),
                ("data", models.JSONField(default=dict)),
                ("user_id", models.BigIntegerField(null=True)),
                ("patient_ids", models.JSONField(default=list)),
                ("created_at", models.DateTimeField()),
            ],
            options={
                "db_table": "crm_desk_event",
                "ordering": ["id"],
                "indexes": [models.Index(fields=["created_at"], name="crm_desk_event_created")],
            },
        ),
    ]
