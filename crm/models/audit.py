"""The access audit: who read or changed which patient, when, and through which endpoint;
append-only, and never the patient's data."""

from __future__ import annotations

from django.db import models


class AccessAction(models.TextChoices):
    READ = "read"
    CREATE = "create"
    CHANGE = "change"
    EXPORT = "export"


class AccessLogEntry(models.Model):
    """Append-only like the event log (the database refuses UPDATE and DELETE); it holds
    identifiers, the route pattern and the outcome, never the patient's data."""

    at = models.DateTimeField()
    # No foreign keys: a deleted user or patient must leave the log as it was.
    user_id = models.BigIntegerField(null=True)
    username = models.CharField(max_length=150)
    role = models.CharField(max_length=100, blank=True)
    patient_id = models.UUIDField(null=True)
    action = models.CharField(max_length=16, choices=AccessAction.choices)
    endpoint = models.CharField(max_length=200)  # method and route pattern, never a query
    source_address = models.GenericIPAddressField(null=True)
    outcome = models.CharField(max_length=32)
    status_code = models.PositiveSmallIntegerField()
    # A keyed hash of what was looked up (a phone number, a search term), so an auditor
    # can ask "who searched for this number" without the log holding the number.
    query_digest = models.CharField(max_length=64, blank=True)

    class Meta:
        db_table = "crm_access_log"
        ordering = ["-id"]
        verbose_name = "access log entry"
        verbose_name_plural = "access log entries"
        indexes = [
            models.Index(fields=["patient_id", "id"], name="crm_access_patient"),
            models.Index(fields=["user_id", "id"], name="crm_access_user"),
            models.Index(fields=["at"], name="crm_access_at"),
        ]

    def __str__(self) -> str:
        return f"{self.at:%Y-%m-%d %H:%M} {self.username} {self.action} {self.patient_id}"
