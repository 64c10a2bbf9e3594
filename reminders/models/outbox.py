"""The outbox: one row per text we mean to hand to the SMS provider, written by the dispatcher
(and `enqueue_reply`) only."""

from __future__ import annotations

from django.db import models

from reminders.models.schedule import Reminder


class MessageKind(models.TextChoices):
    REMINDER = "reminder", "appointment reminder"
    SATISFACTION = "satisfaction", "satisfaction survey"
    OPT_OUT_CONFIRMATION = "opt_out_confirmation", "opt-out confirmation"
    OPT_IN_CONFIRMATION = "opt_in_confirmation", "opt-in confirmation"
    HELP = "help", "help reply"


# Replies to a keyword: sent whatever the consent, the block list or the hour (the law
# requires the one confirmation after STOP), and never counted against the frequency cap.
REPLY_KINDS = frozenset(
    {MessageKind.OPT_OUT_CONFIRMATION, MessageKind.OPT_IN_CONFIRMATION, MessageKind.HELP}
)


class MessageStatus(models.TextChoices):
    QUEUED = "queued", "queued"  # waiting for its time
    HELD = "held", "held"  # by the frequency cap or quiet hours, until next_attempt_at
    BLOCKED = "blocked", "blocked"  # consent or the number's block list; checked again later
    RETRYING = "retrying", "retrying"  # a transient provider error; tried again later
    SENDING = "sending", "sending"  # claimed by a worker until lease_until
    SENT = "sent", "sent"  # the provider accepted it
    FAILED = "failed", "failed"  # refused for good, or out of attempts
    DROPPED = "dropped", "dropped"  # too late to be useful


WAITING = (
    MessageStatus.QUEUED,
    MessageStatus.HELD,
    MessageStatus.BLOCKED,
    MessageStatus.RETRYING,
)


class OutboundMessage(models.Model):
    message_id = models.UUIDField(primary_key=True)  # SmsSent.message_id
    patient_id = models.UUIDField(null=True, db_index=True)
    reminder = models.OneToOneField(
        Reminder,
        null=True,
        on_delete=models.DO_NOTHING,
        db_constraint=False,  # the schedule is a read model: it may be dropped and rebuilt
        related_name="outbound",
    )
    to = models.CharField(max_length=20, db_index=True)
    kind = models.CharField(max_length=32, choices=MessageKind.choices)
    language = models.CharField(max_length=16, default="en")
    body = models.TextField(blank=True)  # rendered when claimed (replies: when queued)
    in_reply_to = models.CharField(max_length=64, blank=True)
    status = models.CharField(max_length=16, choices=MessageStatus.choices)
    reason = models.TextField(blank=True)
    due_at = models.DateTimeField()  # the reminder's due time this row was made for
    next_attempt_at = models.DateTimeField()
    attempts = models.PositiveIntegerField(default=0)
    attempt_token = models.UUIDField(null=True)
    claimed_at = models.DateTimeField(null=True)
    lease_until = models.DateTimeField(null=True)
    provider_message_id = models.CharField(max_length=64, blank=True, db_index=True)
    handed_over_at = models.DateTimeField(null=True)
    error_code = models.CharField(max_length=32, blank=True)
    error_message = models.TextField(blank=True)
    created_at = models.DateTimeField()

    class Meta:
        db_table = "reminders_outbound_message"
        ordering = ["-created_at"]
        indexes = [
            models.Index(fields=["status", "next_attempt_at"], name="reminders_outbox_claim"),
            models.Index(fields=["to", "handed_over_at"], name="reminders_outbox_cap"),
        ]

    def __str__(self) -> str:
        return f"{self.kind} to {self.to} ({self.status})"
