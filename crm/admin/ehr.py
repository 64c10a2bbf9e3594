"""The front desk's list of EHR records the import could not match on its own: which patient
each one is (or that it is a new one) is decided here, and the next import follows."""

from __future__ import annotations

import uuid
from typing import Any

from django import forms
from django.contrib import admin
from django.http import HttpRequest
from django.utils import timezone
from django.utils.safestring import SafeString

from crm import roles
from crm.admin.links import candidate_links
from crm.api.audit import AccessNote
from crm.models import EhrMatchReview, MatchDecision
from crm.roles import Area, may


class DecisionForm(forms.ModelForm):  # type: ignore[type-arg]
    class Meta:
        model = EhrMatchReview
        fields = ["decision", "linked_patient_id"]

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        linked = data.get("linked_patient_id")
        if data.get("decision") == MatchDecision.LINK:
            candidates = {str(c) for c in self.instance.candidates}
            if linked is None or str(linked) not in candidates:
                raise forms.ValidationError(
                    "Same person: give the id of one of the candidate patients listed."
                )
        elif linked is not None:
            raise forms.ValidationError("A patient id goes only with 'same person'.")
        return data


@admin.register(EhrMatchReview)
class EhrMatchReviewAdmin(admin.ModelAdmin):  # type: ignore[type-arg]
    """Never merged by the import: the front desk says "same person as ..." (the next import
    records the EHR's identifiers on that patient) or "a different person" (it registers a
    new one). Rows are kept, decided or not, as the record of who decided what."""

    area = Area.PATIENTS
    # The record once matched; the candidates a page shows are audited by list_access_notes.
    patient_field = "imported_patient_id"
    form = DecisionForm
    list_display = ["name", "date_of_birth", "phone", "resource", "reason", "decision"]
    list_filter = ["decision"]
    search_fields = ["name", "resource", "phone"]
    readonly_fields = [
        "name",
        "date_of_birth",
        "phone",
        "resource",
        "source",
        "file",
        "reason",
        "candidate_patients",
        "identifiers",
        "first_seen_at",
        "last_seen_at",
        "decided_by",
        "decided_at",
        "imported_patient_id",
    ]
    fields = [*readonly_fields[:9], "decision", "linked_patient_id", *readonly_fields[9:]]
    actions = None

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        # Whose record an EHR patient is, is the front desk's call (or a supervisor's).
        deciders = {roles.FRONT_DESK, roles.SUPERVISOR}
        return may(request.user, Area.PATIENTS) and bool(deciders & roles.roles_of(request.user))

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    @admin.display(description="Candidate patients")
    def candidate_patients(self, obj: EhrMatchReview) -> SafeString:
        return candidate_links(obj.candidates, none="none")

    def save_model(
        self, request: HttpRequest, obj: EhrMatchReview, form: Any, change: bool
    ) -> None:
        obj.decided_by = request.user.get_username()
        obj.decided_at = timezone.now()
        super().save_model(request, obj, form, change)

    def list_access_notes(self, request: HttpRequest, rows: Any, query: str) -> list[AccessNote]:
        """Each candidate patient a listed record names is a patient the page reveals."""
        patients = dict.fromkeys(uuid.UUID(c) for row in rows for c in row.candidates)
        return [AccessNote(patient, "candidate") for patient in patients]
