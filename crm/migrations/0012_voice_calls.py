"""Calls the phone system reports, from the first ring to the logged call."""

import uuid

from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [("crm", "0011_desk_feed")]
    operations: list[migrations.operations.base.Operation] = [
        migrations.CreateModel(
            name="LiveCall",
            fields=[
                ("call_sid", models.CharField(max_length=34, primary_key=True, serialize=False)),
                ("call_id", models.UUIDField(default=uuid.uuid4, unique=True)),
                (
                    "state",
                    models.CharField(
                        choices=[("live", "Live"), ("held", "Held"), ("ended", "Ended")],
                        default="live",
                        max_length=8,
                    ),
                ),
                ("direction", models.CharField(default="inbound", max_length=16)),
                ("phone", models.CharField(blank=True, max_length=16)),
                ("candidates", models.JSONField(default=list)),
                ("patient_id", models.UUIDField(null=True)),
                ("attributed_by", models.CharField(blank=True, max_length=150)),
                ("crisis_first", models.BooleanField(default=False)),
                ("queue", models.CharField(blank=True, max_length=64)),
                ("queue_position", models.PositiveIntegerField(null=True)),
                ("enqueued", models.BooleanField(default=False)),
                ("started_at", models.DateTimeField()),
                ("call_status", models.CharField(blank=True, max_length=16)),
                ("status_sequence", models.IntegerField(null=True)),
                ("call_duration", models.PositiveIntegerField(null=True)),
                ("queue_result", models.CharField(blank=True, max_length=32)),
                ("queue_seconds", models.PositiveIntegerField(null=True)),
                ("disposition", models.CharField(blank=True, max_length=16)),
                ("talk_seconds", models.PositiveIntegerField(null=True)),
                ("ended_at", models.DateTimeField(null=True)),
                ("logged_at", models.DateTimeField(null=True)),
                ("wrap_up", models.JSONField(null=True)),
                ("updated_at", models.DateTimeField(auto_now=True)),
            ],
            options={
                "db_table": "crm_live_call",
                "ordering": ["-started_at", "call_sid"],
                "indexes": [
                    models.Index(fields=["state", "-started_at"], name="crm_live_call_state"),
                    models.Index(
                        fields=["queue", "state", "started_at"], name="crm_live_call_queue"
                    ),
                ],
            },
        ),
        # The metrics' row of a logged call: found by its wrap-up (rebuild the metrics
        # projection to fill call_id for calls logged before).
        migrations.AddField(
            model_name="loggedcall", name="call_id", field=models.UUIDField(null=True)
        ),
        migrations.AddField(
            model_name="loggedcall",
            name="wrap_up_seconds",
            field=models.PositiveIntegerField(default=0),
        ),
        migrations.AddIndex(
            model_name="loggedcall",
            index=models.Index(fields=["patient_id", "call_id"], name="crm_logged_call_id"),
        ),
    ]
