"""The desk's feed: what is pushed to agents' screens (screen pops, ended calls, queue
changes), kept a day for reconnecting desktops, then pruned (crm.desk.feed)."""

from __future__ import annotations

from django.db import models


class DeskEvent(models.Model):
    """One pushed event. Not patient data of its own: the stream renders each event for its
    recipient when it is delivered, and audits that (docs/desk.md)."""

    # Ordered by commit: publish() takes a transaction-scoped lock on PostgreSQL (SQLite
    # writes one at a time), so a reader going "after id N" never skips an event.
    id = models.BigAutoField(primary_key=True)
    kind = models.CharField(max_length=40)
    data = models.JSONField(default=dict)
    # None: every desk user; otherwise the only user it is for.
    user_id = models.BigIntegerField(null=True)
    patient_ids = models.JSONField(default=list)
    created_at = models.DateTimeField()

    class Meta:
        db_table = "crm_desk_event"
        ordering = ["id"]
        indexes = [models.Index(fields=["created_at"], name="crm_desk_event_created")]

    def __str__(self) -> str:
        return f"{self.id} {self.kind}"
