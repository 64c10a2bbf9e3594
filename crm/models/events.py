"""The event log. Only `crm.eventstore.append` writes here; the database refuses changes."""

from __future__ import annotations

from django.db import models


class Event(models.Model):
    position = models.BigAutoField(primary_key=True)
    stream_id = models.UUIDField()
    version = models.PositiveIntegerField()
    event_type = models.CharField(max_length=100)
    schema_version = models.PositiveSmallIntegerField()
    data = models.JSONField()
    metadata = models.JSONField(default=dict)
    occurred_at = models.DateTimeField()
    recorded_at = models.DateTimeField()

    class Meta:
        db_table = "crm_event"
        ordering = ["position"]
        constraints = [
            models.UniqueConstraint(
                fields=["stream_id", "version"], name="crm_event_stream_version_unique"
            ),
            models.CheckConstraint(
                condition=models.Q(version__gte=1), name="crm_event_version_gte_1"
            ),
        ]
        indexes = [models.Index(fields=["event_type", "position"], name="crm_event_type_pos")]

    def __str__(self) -> str:
        return f"#{self.position} {self.event_type} v{self.version} of {self.stream_id}"


class CommandRecord(models.Model):
    """The outcome of a command that carried an idempotency key (I3).

    Written in the same transaction as the events, so a retry either finds the whole
    first result or none of it. Like the events, never updated or deleted (a trigger).
    """

    key = models.CharField(max_length=255, primary_key=True)
    stream_id = models.UUIDField()
    first_version = models.PositiveIntegerField()
    last_version = models.PositiveIntegerField()
    recorded_at = models.DateTimeField()
    # crm.eventstore.fingerprints: the command the key is bound to. Empty on records made
    # before fingerprints were kept; those replay for any command, as they did then.
    fingerprint = models.CharField(max_length=64, blank=True, default="")

    class Meta:
        db_table = "crm_command_record"

    def __str__(self) -> str:
        return self.key
