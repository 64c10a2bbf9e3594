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

    First-contact resolution needs the agent's answer and whether the same patient came
    back on the same reason, and abandonment needs how long a caller waited before hanging
    up. Both keep
    their thresholds out of the rows (the repeat window, the short hang-up cut-off), so a
    supervisor can change either without a rebuild.
    """

    position = models.BigIntegerField(primary_key=True)  # of the CallLogged event in the log
    patient_id = models.UUIDField()
    # The call's id on the patient's stream: where its wrap-up (CallWrappedUp) finds it.
    call_id = models.UUIDField(null=True)
    day = models.DateField()  # of `started_at`, in the clinic's time zone
    started_at = models.DateTimeField()
    channel = models.CharField(max_length=16)
    direction = models.CharField(max_length=16)
    disposition = models.CharField(max_length=16)
    duration_seconds = models.PositiveIntegerField()
    # The reason's code in the clinic's list ("other" for free text, "" for none).
    reason_key = models.CharField(max_length=200, blank=True)
    resolved_first_contact = models.BooleanField(default=False)  # the agent's answer
    wrap_up_seconds = models.PositiveIntegerField(default=0)  # as logged, or its last wrap-up
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
            models.Index(fields=["patient_id", "call_id"], name="crm_logged_call_id"),
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


class DailyReminderStats(models.Model):
    """Reminder texts handed to the SMS provider, and text opt-outs, by clinic day."""

    day = models.DateField(unique=True)
    reminders_sent = models.PositiveIntegerField(default=0)  # SmsSent with a reminder_id
    # ConsentRevoked by text: a STOP keyword, or the carrier reporting the number opted out.
    opt_outs_by_keyword = models.PositiveIntegerField(default=0)
    opt_outs_by_carrier = models.PositiveIntegerField(default=0)

    class Meta:
        db_table = "crm_daily_reminder_stats"
        ordering = ["day"]
        verbose_name_plural = "daily reminder stats"

    def __str__(self) -> str:
        return f"{self.day}: {self.reminders_sent} reminders sent"


class RemindedAppointment(models.Model):
    """One row per appointment, to tell whether a reminder went out for it and whether the
    patient then confirmed by text.

    A reminder text (SmsSent) names its reminder, not its appointment; it is counted
    against the patient's soonest open appointment starting after the text went out,
    which is the visit a reminder sent hours before it is about.
    """

    appointment_id = models.UUIDField(primary_key=True)
    patient_id = models.UUIDField()
    starts_at = models.DateTimeField()
    is_open = models.BooleanField(default=True)  # not cancelled, completed or a no-show
    first_reminder_at = models.DateTimeField(null=True)
    reminded_day = models.DateField(null=True)  # of first_reminder_at, in the clinic's zone
    confirmed_by_text_at = models.DateTimeField(null=True)  # after a reminder, via SMS

    class Meta:
        db_table = "crm_reminded_appointment"
        ordering = ["appointment_id"]
        indexes = [
            models.Index(fields=["patient_id", "is_open"], name="crm_reminded_patient"),
            models.Index(fields=["reminded_day"], name="crm_reminded_day"),
        ]

    def __str__(self) -> str:
        reminded = "reminded" if self.first_reminder_at else "not reminded"
        return f"{self.appointment_id} ({reminded})"
