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
        verbose_name_plural = "daily call stats"
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
        verbose_name_plural = "daily appointment stats"

    def __str__(self) -> str:
        return f"{self.day}: {self.completed} completed, {self.no_shows} no-shows"


class LoggedCall(models.Model):
    """One row per logged call, for the figures a daily sum cannot give.

    First-contact resolution needs to know whether the same patient came back on the same
    reason, and abandonment needs how long a caller waited before hanging up. Both keep
    their thresholds out of the rows (the repeat window, the short hang-up cut-off), so a
    supervisor can change either without a rebuild.
    """

    position = models.BigIntegerField(primary_key=True)  # of the CallLogged event in the log
    patient_id = models.UUIDField()
    day = models.DateField()  # of `started_at`, in the clinic's time zone
    started_at = models.DateTimeField()
    channel = models.CharField(max_length=16)
    direction = models.CharField(max_length=16)
    disposition = models.CharField(max_length=16)
    duration_seconds = models.PositiveIntegerField()
    reason_key = models.CharField(max_length=200, blank=True)  # the reason, case-folded
    # For handled (connected) calls with a reason: seconds since the patient's previous
    # handled contact on the same reason, and until the next one. NULL when there is none.
    previous_gap_seconds = models.BigIntegerField(null=True)
    next_gap_seconds = models.BigIntegerField(null=True)

    class Meta:
        db_table = "crm_logged_call"
        ordering = ["position"]
        indexes = [
            models.Index(fields=["day", "direction"], name="crm_logged_call_day"),
            models.Index(fields=["patient_id", "reason_key"], name="crm_logged_call_reason"),
        ]

    def __str__(self) -> str:
        return f"#{self.position} {self.day} {self.channel}/{self.direction} {self.disposition}"


class DailySatisfactionStats(models.Model):
    """Satisfaction survey answers (1 to 5) by the day they were given."""

    day = models.DateField(unique=True)
    responses = models.PositiveIntegerField(default=0)
    satisfied = models.PositiveIntegerField(default=0)  # answered 4 or 5
    score_total = models.PositiveIntegerField(default=0)

    class Meta:
        db_table = "crm_daily_satisfaction_stats"
        ordering = ["day"]
        verbose_name_plural = "daily satisfaction stats"

    def __str__(self) -> str:
        return f"{self.day}: {self.satisfied} of {self.responses} satisfied"
