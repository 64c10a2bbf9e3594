"""Calls the phone system reports while they ring, wait and end: one row per Twilio CallSid,
where its callbacks meet in whatever order they come, until the call is logged once."""

from __future__ import annotations

import uuid

from django.db import models


class LiveCall(models.Model):
    """A call from its first webhook to its CallLogged (crm.voice). Not the record: the
    patient's stream is. Written only by crm.voice (its handlers and the job that ends the
    calls whose callbacks never came, crm.voice.settle), under a lock on the row."""

    class State(models.TextChoices):
        LIVE = "live"  # ringing, waiting in the queue or talking
        HELD = "held"  # ended, waiting for the agent to say whose call it was
        ENDED = "ended"  # ended and logged on the patient's stream

    call_sid = models.CharField(max_length=34, primary_key=True)
    # The id of its CallLogged on the patient's stream, chosen when the call came in.
    call_id = models.UUIDField(default=uuid.uuid4, unique=True)
    state = models.CharField(max_length=8, choices=State.choices, default=State.LIVE)
    direction = models.CharField(max_length=16, default="inbound")
    # The caller's number in E.164, or "" when withheld or not a phone (client:..., SIP).
    phone = models.CharField(max_length=16, blank=True)
    # Who may be calling (the records with that number) when it rang, and the one it is
    # logged on: the only match, or the agent's choice.
    candidates = models.JSONField(default=list)
    patient_id = models.UUIDField(null=True)
    attributed_by = models.CharField(max_length=150, blank=True)
    crisis_first = models.BooleanField(default=False)
    queue = models.CharField(max_length=64, blank=True)
    queue_position = models.PositiveIntegerField(null=True)
    enqueued = models.BooleanField(default=False)  # we answered with <Enqueue>
    started_at = models.DateTimeField()  # the first webhook we had of it
    # Twilio's facts, as they come: the call's last status and the queue's result.
    call_status = models.CharField(max_length=16, blank=True)
    status_sequence = models.IntegerField(null=True)  # SequenceNumber of that status
    call_duration = models.PositiveIntegerField(null=True)  # CallDuration, seconds
    queue_result = models.CharField(max_length=32, blank=True)
    queue_seconds = models.PositiveIntegerField(null=True)  # QueueTime
    # Once it ended: what happened, and when it was logged.
    disposition = models.CharField(max_length=16, blank=True)
    talk_seconds = models.PositiveIntegerField(null=True)
    ended_at = models.DateTimeField(null=True)
    logged_at = models.DateTimeField(null=True)
    # An agent's wrap-up given before the call was logged, applied when it is.
    wrap_up = models.JSONField(null=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        db_table = "crm_live_call"
        ordering = ["-started_at", "call_sid"]
        indexes = [
            models.Index(fields=["state", "-started_at"], name="crm_live_call_state"),
            models.Index(fields=["queue", "state", "started_at"], name="crm_live_call_queue"),
        ]

    def __str__(self) -> str:
        return f"{self.call_sid} {self.state} {self.disposition}".strip()
