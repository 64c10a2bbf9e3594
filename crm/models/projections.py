"""Checkpoints of the catch-up projections: the last log position each has processed."""

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
