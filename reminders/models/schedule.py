"""The reminder schedule: a read model of the `reminders` catch-up projection, one row per
reminder the clinic means (or meant) to send; the dispatcher locks and reads the rows."""

from __future__ import annotations

from django.db import models


class ReminderKind(models.TextChoices):
    REMINDER = "reminder", "appointment reminder"
    SATISFACTION = "satisfaction", "satisfaction survey"


class ReminderState(models.TextChoices):
    SCHEDULED = "scheduled", "scheduled"
    SENT = "sent", "sent"
    DELIVERED = "delivered", "delivered"
    FAILED = "failed", "failed"
    CANCELLED = "cancelled", "cancelled"
    DROPPED = "dropped", "dropped"
    BLOCKED = "blocked", "blocked"


class Reminder(models.Model):
    reminder_id = models.UUIDField(primary_key=True)
    patient_id = models.UUIDField(db_index=True)
    appointment_id = models.UUIDField(db_index=True)
    kind = models.CharField(max_length=16, choices=ReminderKind.choices)
    # Hours before the appointment (reminders); None for a satisfaction text.
    offset_hours = models.PositiveIntegerField(null=True)
    appointment_starts_at = models.DateTimeField()
    # When the offset alone would send it, then when it may go (quiet hours applied).
    planned_at = models.DateTimeField()
    due_at = models.DateTimeField()
    timezone = models.CharField(max_length=64)
    phone = models.CharField(max_length=20, null=True)  # noqa: DJ001
    language = models.CharField(max_length=16)
    state = models.CharField(max_length=16, choices=ReminderState.choices)
    # Why it is not (or not yet) sent, or how its time was moved; a person reads this.
    reason = models.TextField(blank=True)
    message_id = models.UUIDField(null=True)
    sent_at = models.DateTimeField(null=True)
    delivered_at = models.DateTimeField(null=True)
    failed_at = models.DateTimeField(null=True)
    error_code = models.CharField(max_length=32, blank=True)
    # The patient's first text back after this one (reminders.domain.schedule): what it
    # was read as (confirm, reschedule, opt_out... an SmsIntent), as typed, and when.
    reply_intent = models.CharField(max_length=16, blank=True)
    reply_text = models.TextField(blank=True)
    replied_at = models.DateTimeField(null=True)

    class Meta:
        db_table = "reminders_reminder"
        ordering = ["due_at", "reminder_id"]
        indexes = [models.Index(fields=["state", "due_at"], name="reminders_state_due")]

    def __str__(self) -> str:
        return f"{self.kind} {self.reminder_id} ({self.state})"
