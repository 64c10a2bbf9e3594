"""The suggestion queue's read models, written only by the `suggestions` projection (and
its re-evaluation job, the same code path). Both can be dropped and rebuilt from the log."""

from __future__ import annotations

from django.db import models


class Suggestion(models.Model):
    """One suggestion as of `evaluated_at`: a function of the log and that moment."""

    # Deterministic from the rule and what it is about, e.g. no_show_follow_up.<appointment>.
    suggestion_id = models.CharField(max_length=200, primary_key=True)
    patient_id = models.UUIDField()
    kind = models.CharField(max_length=40)
    priority = models.PositiveSmallIntegerField()  # 1 is the most urgent
    status = models.CharField(max_length=16)
    opened_at = models.DateTimeField()
    due_at = models.DateTimeField()
    reason = models.TextField()
    closed_at = models.DateTimeField(null=True)
    closed_by = models.CharField(max_length=16, blank=True)  # "agent" or "rule"
    closed_reason = models.TextField(blank=True)
    paused_reason = models.TextField(blank=True)
    outcome = models.TextField(blank=True)
    assignee = models.CharField(max_length=150, blank=True)
    claimed_until = models.DateTimeField(null=True)
    snoozed_until = models.DateTimeField(null=True)
    # The events it rests on: [{"patient_id", "version", "event_type", "occurred_at"}].
    evidence = models.JSONField(default=list)
    payload = models.JSONField(default=dict)
    evaluated_at = models.DateTimeField()

    class Meta:
        db_table = "engagement_suggestion"
        ordering = ["priority", "due_at", "suggestion_id"]
        # The admin lists the rows as the clerk's worklist (engagement.admin.queue).
        verbose_name_plural = "work queue"
        indexes = [
            models.Index(fields=["status", "priority", "due_at"], name="eng_sugg_queue"),
            models.Index(fields=["patient_id", "status"], name="eng_sugg_patient"),
            models.Index(fields=["kind", "status"], name="eng_sugg_kind"),
            models.Index(fields=["assignee", "status"], name="eng_sugg_assignee"),
        ]

    def __str__(self) -> str:
        return f"{self.suggestion_id} ({self.status})"


class PatientAgenda(models.Model):
    """When a patient's suggestions next change with the clock alone (a window opens or
    closes, a snooze or a claim runs out): the re-evaluation job's to-do list."""

    patient_id = models.UUIDField(primary_key=True)
    next_evaluation_at = models.DateTimeField(null=True)
    evaluated_at = models.DateTimeField()
    # The last log position folded in: the evaluation saw every event up to it.
    position = models.BigIntegerField()

    class Meta:
        db_table = "engagement_patient_agenda"
        indexes = [models.Index(fields=["next_evaluation_at"], name="eng_agenda_next")]

    def __str__(self) -> str:
        return f"{self.patient_id} next {self.next_evaluation_at}"
