"""What the EHR import keeps beside the log: the identifiers it matches patients by, and the
records it could not match on its own, listed for the front desk."""

from __future__ import annotations

from django.db import models


class PatientIdentifier(models.Model):
    """An identifier another system gives a patient (an EHR's MRN, or the EHR's own id of
    the record), from the patient's PatientIdentifierRecorded events: the import finds a
    patient by it, and the desk can too. Written in the same transaction as the event."""

    system = models.CharField(max_length=255)
    value = models.CharField(max_length=100)
    kind = models.CharField(max_length=20, blank=True)
    patient_id = models.UUIDField(db_index=True)
    recorded_at = models.DateTimeField()

    class Meta:
        db_table = "crm_patient_identifier"
        ordering = ["system", "value"]
        constraints = [
            models.UniqueConstraint(fields=["system", "value"], name="crm_identifier_unique")
        ]
        # The desk looks a patient up by the value alone (search=mrn:12345).
        indexes = [models.Index(fields=["value"], name="crm_identifier_value")]

    def __str__(self) -> str:
        return f"{self.value} ({self.system})"


class MatchDecision(models.TextChoices):
    PENDING = "pending", "Waiting for the front desk"
    LINK = "link", "Same person as the chosen patient"
    NEW = "new", "A different person: register a new patient"


class EhrMatchReview(models.Model):
    """An EHR patient the import found more than one possible record for (or a record with
    the same name and birth date but another phone): never merged on its own. The front
    desk decides; the next import follows the decision."""

    source = models.CharField(max_length=255, help_text="The EHR's import source.")
    resource = models.CharField(max_length=200, help_text="The EHR's record, e.g. Patient/123.")
    name = models.CharField(max_length=401)
    date_of_birth = models.DateField(null=True)
    phone = models.CharField(max_length=20, blank=True)
    identifiers = models.JSONField(default=list, help_text="The EHR's identifiers (MRN).")
    candidates = models.JSONField(default=list, help_text="Patient ids it could be.")
    reason = models.CharField(max_length=1000)
    file = models.CharField(max_length=1000, blank=True)
    first_seen_at = models.DateTimeField()
    last_seen_at = models.DateTimeField()
    decision = models.CharField(
        max_length=10, choices=MatchDecision.choices, default=MatchDecision.PENDING
    )
    linked_patient_id = models.UUIDField(
        null=True, blank=True, help_text="With 'same person': which of the candidates."
    )
    decided_by = models.CharField(max_length=150, blank=True)
    decided_at = models.DateTimeField(null=True, blank=True)
    imported_patient_id = models.UUIDField(
        null=True, blank=True, help_text="Set once an import applied the decision."
    )

    class Meta:
        db_table = "crm_ehr_match_review"
        ordering = ["-last_seen_at"]
        verbose_name = "EHR record to match"
        verbose_name_plural = "EHR records to match"
        constraints = [
            models.UniqueConstraint(fields=["source", "resource"], name="crm_ehr_review_unique")
        ]

    def __str__(self) -> str:
        return f"{self.name} ({self.resource})"


class EhrSync(models.Model):
    """Where the nightly sync with an EHR's FHIR server stands: the next one asks for what
    changed since `synced_through` (_lastUpdated), and what the last run did."""

    source = models.CharField(max_length=255, unique=True)
    synced_through = models.DateTimeField(null=True)
    last_run_at = models.DateTimeField(null=True)
    last_summary = models.JSONField(default=dict)
    last_error = models.CharField(max_length=1000, blank=True)

    class Meta:
        db_table = "crm_ehr_sync"
        verbose_name = "EHR sync"

    def __str__(self) -> str:
        return self.source
