"""The patient profile read model, kept inline with every append (read-your-writes)."""

from __future__ import annotations

from django.db import models

from crm.domain.languages import language_name


class ProfileQuerySet(models.QuerySet["PatientProfile"]):
    def answering(self) -> ProfileQuerySet:
        """The records that answer for a patient: not merged into another one."""
        return self.filter(merged_into__isnull=True)


class PatientProfile(models.Model):
    patient_id = models.UUIDField(primary_key=True)
    version = models.PositiveIntegerField()
    registered_at = models.DateTimeField()
    updated_at = models.DateTimeField()

    first_name = models.CharField(max_length=200)
    last_name = models.CharField(max_length=200)
    preferred_name = models.CharField(max_length=200, blank=True)
    display_name = models.CharField(max_length=401)
    search_name = models.CharField(max_length=700, db_index=True)
    date_of_birth = models.DateField(db_index=True)
    language = models.CharField(max_length=16)

    # NULL, not "", for "no phone": E.164 values stay distinct and lookups never match blank.
    phone = models.CharField(max_length=20, null=True, db_index=True)  # noqa: DJ001
    email = models.CharField(max_length=254, blank=True)
    timezone = models.CharField(max_length=64)
    timezone_source = models.CharField(max_length=16)  # explicit, phone or clinic

    consents = models.JSONField(default=dict)
    crisis_flag = models.BooleanField(default=False)
    crisis_contacts = models.PositiveIntegerField(default=0)
    last_crisis_at = models.DateTimeField(null=True)
    last_crisis = models.JSONField(null=True)
    deceased = models.BooleanField(default=False)
    date_of_death = models.DateField(null=True)
    merged_into = models.UUIDField(null=True)

    last_contact_at = models.DateTimeField(null=True)
    last_visit_by_type = models.JSONField(default=dict)
    # Appointments not yet cancelled, completed or marked no-show, soonest first. Readers
    # decide what is "upcoming" against their own clock: the projection never reads one.
    upcoming_appointments = models.JSONField(default=list)
    next_appointment_at = models.DateTimeField(null=True)
    calls_count = models.PositiveIntegerField(default=0)
    no_show_count = models.PositiveIntegerField(default=0)
    notes_count = models.PositiveIntegerField(default=0)
    # [system, value, kind] of each identifier in another system (the EHR's MRN), in the
    # order recorded: what the desk and the API show (crm.models.PatientIdentifier finds).
    identifiers = models.JSONField(default=list)

    objects = ProfileQuerySet.as_manager()

    class Meta:
        db_table = "crm_patient_profile"
        ordering = ["last_name", "first_name", "patient_id"]
        # What the front desk calls the row: a patient (the profile is how it is stored).
        verbose_name = "patient"

    def __str__(self) -> str:
        return f"{self.display_name} ({self.date_of_birth})"

    @property
    def language_name(self) -> str:
        """The language by name, as people read it: "Spanish", not "es"."""
        return language_name(self.language)
