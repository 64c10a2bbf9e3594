"""Checkpoints of the catch-up projections, and the streams a projection has parked."""

from __future__ import annotations

from django.db import models


class ProjectionCheckpoint(models.Model):
    name = models.CharField(max_length=100, primary_key=True)
    position = models.BigIntegerField(default=0)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        db_table = "crm_projection_checkpoint"

    def __str__(self) -> str:
        return f"{self.name} @ {self.position}"


class ParkedStream(models.Model):
    """A stream a projection could not apply (I11): its events from `position` on wait,
    in order, until an operator retries it; every other stream goes on."""

    projection = models.CharField(max_length=100)
    stream_id = models.UUIDField()
    position = models.BigIntegerField(help_text="The first event not applied.")
    event_type = models.CharField(max_length=100, blank=True)
    error = models.TextField(help_text="The exception, as the projection raised it.")
    parked_at = models.DateTimeField()
    retried_at = models.DateTimeField(null=True, blank=True)
    attempts = models.PositiveIntegerField(default=1)

    class Meta:
        db_table = "crm_parked_stream"
        ordering = ["projection", "position"]
        verbose_name = "parked stream"
        constraints = [
            models.UniqueConstraint(
                fields=["projection", "stream_id"], name="crm_parked_stream_unique"
            )
        ]

    def __str__(self) -> str:
        return f"{self.projection}: {self.stream_id} at #{self.position}"
