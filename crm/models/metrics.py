"""Daily activity figures for supervisors, kept by the `metrics` catch-up projection."""

from __future__ import annotations

from django.db import models


class DailyCallStats(models.Model):
    day = models.DateField()
    channel = models.CharField(max_length=16)
    direction = models.CharField(max_length=16)
    calls = models.PositiveIntegerField(default=0)
    connected = models.PositiveIntegerField(default=0)
    abandoned = models.PositiveIntegerField(default=0)
    unanswered = models.PositiveIntegerField(default=0)  # voicemail, no answer, busy, missed
    resolved_first_contact = models.PositiveIntegerField(default=0)
    talk_seconds = models.PositiveBigIntegerField(default=0)
    hold_seconds = models.PositiveBigIntegerField(default=0)
    wrap_up_seconds = models.PositiveBigIntegerField(default=0)

    class Meta:
        db_table = "crm_daily_call_stats"
        ordering = ["day", "channel", "direction"]
        constraints = [
            models.UniqueConstraint(
                fields=["day", "channel", "direction"], name="crm_daily_call_stats_unique"
            )
        ]

    def __str__(self) -> str:
        return f"{self.day} {self.channel}/{self.direction}: {self.calls}"


class DailyAppointmentStats(models.Model):
    day = models.DateField(unique=True)
    scheduled = models.PositiveIntegerField(default=0)
    rescheduled = models.PositiveIntegerField(default=0)
    confirmed = models.PositiveIntegerField(default=0)
    cancelled = models.PositiveIntegerField(default=0)
    completed = models.PositiveIntegerField(default=0)
    no_shows = models.PositiveIntegerField(default=0)

    class Meta:
        db_table = "crm_daily_appointment_stats"
        ordering = ["day"]

    def __str__(self) -> str:
        return f"{self.day}: {self.completed} completed, {self.no_shows} no-shows"
