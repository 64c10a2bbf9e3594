"""Who is in care: per-patient facts kept by the `churn` catch-up projection, with no clock and no
threshold in them, so the churn figures are read as of any moment (docs/churn.md)."""

from __future__ import annotations

from django.db import models


class ChurnPatient(models.Model):
    """A registered patient as the churn figures group and leave them out."""

    patient_id = models.UUIDField(primary_key=True)
    language = models.CharField(max_length=16)
    deceased_at = models.DateTimeField(null=True)
    merged_at = models.DateTimeField(null=True)
    merged_into = models.UUIDField(null=True)
    # The consents on file, "channel:purpose" -> granted, to tell when every channel was
    # withdrawn; and those spans: [[from, until or null], ...] (ISO times, UTC).
    consents = models.JSONField(default=dict)
    opted_out = models.JSONField(default=list)

    class Meta:
        db_table = "crm_churn_patient"
        ordering = ["patient_id"]

    def __str__(self) -> str:
        return f"{self.patient_id} ({self.language})"


class ChurnAppointment(models.Model):
    """An appointment counted for the record that answers for its patient now (a merge moves
    the duplicate's here): booked when, for when, of which type, and how it ended."""

    appointment_id = models.UUIDField(primary_key=True)
    patient_id = models.UUIDField()
    visit_type = models.CharField(max_length=32)
    booked_at = models.DateTimeField()
    starts_at = models.DateTimeField()
    status = models.CharField(max_length=16, default="scheduled")
    closed_at = models.DateTimeField(null=True)

    class Meta:
        db_table = "crm_churn_appointment"
        ordering = ["appointment_id"]
        indexes = [models.Index(fields=["patient_id"], name="crm_churn_appt_patient")]

    def __str__(self) -> str:
        return f"{self.appointment_id} {self.visit_type} {self.status}"


class ChurnContact(models.Model):
    """A moment the patient was reached: a connected call, a text from them, a crisis contact."""

    position = models.BigIntegerField(primary_key=True)  # of the event in the log
    patient_id = models.UUIDField()
    at = models.DateTimeField()

    class Meta:
        db_table = "crm_churn_contact"
        ordering = ["position"]
        indexes = [models.Index(fields=["patient_id", "at"], name="crm_churn_contact_patient")]

    def __str__(self) -> str:
        return f"#{self.position} {self.at:%Y-%m-%d}"
