"""The front desk's list of phone calls: the ones held for somebody to say whose they were
(a shared or unknown number) are attributed here, and logged once on that patient."""

from __future__ import annotations

import uuid
from typing import Any

from django import forms
from django.contrib import admin, messages
from django.db.models import OuterRef, QuerySet, Subquery
from django.http import HttpRequest, HttpResponse
from django.utils import timezone
from django.utils.safestring import SafeString

from crm.admin.links import candidate_links
from crm.api import audit
from crm.api.audit import AccessNote
from crm.models import AccessAction, LiveCall, PatientProfile
from crm.roles import Area, actor_for, may
from crm.voice import handlers


class AttributeForm(forms.ModelForm):  # type: ignore[type-arg]
    patient_id = forms.UUIDField(
        label="Whose call it was",
        help_text="The patient's id: one of the records with this number, or a caller "
        "registered since (find or register them first). The call is logged on them, once.",
    )

    class Meta:
        model = LiveCall
        fields = ["patient_id"]

    def clean_patient_id(self) -> uuid.UUID:
        patient_id: uuid.UUID = self.cleaned_data["patient_id"]
        if not PatientProfile.objects.answering().filter(patient_id=patient_id).exists():
            raise forms.ValidationError("No patient of the clinic has this id.")
        return patient_id


@admin.register(LiveCall)
class LiveCallAdmin(admin.ModelAdmin):  # type: ignore[type-arg]
    """Read-only but for whose call it was, while it is not logged: saved through the same
    handler as the desk's POST /api/v1/desk/calls/<sid>/attribute/ (a held call is logged
    at once, a live one when it ends). Filter by state "held" for the calls waiting."""

    area = Area.PATIENTS
    patient_field = "patient_id"
    form = AttributeForm
    list_display = ["started_at", "state", "phone", "disposition", "whose", "crisis_first"]
    list_filter = ["state"]
    list_per_page = 50
    show_full_result_count = False
    readonly_fields = [
        "call_sid",
        "state",
        "started_at",
        "ended_at",
        "phone",
        "candidate_patients",
        "attributed_by",
        "crisis_first",
        "disposition",
        "talk_seconds",
        "queue_seconds",
        "call_status",
        "queue_result",
        "logged_at",
    ]
    actions = None

    def get_fields(self, request: HttpRequest, obj: Any = None) -> list[Any]:
        fields: list[Any] = list(self.readonly_fields)
        fields.insert(fields.index("candidate_patients") + 1, "patient_id")
        return fields

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False  # calls come from the phone system

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        # Only whose call it was can be said, and only until it is logged.
        return may(request.user, Area.PATIENTS) and (obj is None or obj.logged_at is None)

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def get_queryset(self, request: HttpRequest) -> QuerySet[LiveCall]:
        # Whose each call is, by name, in the list's one query (no query per row).
        profile = PatientProfile.objects.filter(patient_id=OuterRef("patient_id"))
        calls: QuerySet[LiveCall] = super().get_queryset(request)
        return calls.annotate(
            patient_name=Subquery(profile.values("display_name")[:1]),
            patient_born=Subquery(profile.values("date_of_birth")[:1]),
        )

    @admin.display(description="Whose call")
    def whose(self, obj: LiveCall) -> str:
        if obj.patient_id is not None:
            name = getattr(obj, "patient_name", None)
            born = getattr(obj, "patient_born", None)
            return f"{name} ({born})" if name else str(obj.patient_id)
        if obj.candidates:
            return f"one of {len(obj.candidates)} on this number: to attribute"
        return "unknown caller: to attribute"

    @admin.display(description="Records with this number")
    def candidate_patients(self, obj: LiveCall) -> SafeString:
        return candidate_links(obj.candidates, none="none (an unknown or withheld number)")

    def save_model(self, request: HttpRequest, obj: LiveCall, form: Any, change: bool) -> None:
        try:
            call = handlers.call_attribute(
                call_sid=obj.call_sid,
                patient_id=form.cleaned_data["patient_id"],
                agent=actor_for(request.user, channel="admin"),
                now=timezone.now(),
            )
        except handlers.CallAlreadyLogged as error:
            self.message_user(
                request,
                f"This call was already logged on patient {error.call.patient_id}.",
                messages.ERROR,
            )
            return
        if call.logged_at is not None:
            self.message_user(request, "The call is logged on the patient's record.")
        else:
            self.message_user(request, "The call will be logged on this patient when it ends.")

    def list_access_notes(self, request: HttpRequest, rows: Any, query: str) -> list[AccessNote]:
        """Each patient a listed call names (whose it is, or who may be calling)."""
        return [AccessNote(p, "listed") for p in _patients(rows)]

    def change_view(
        self,
        request: HttpRequest,
        object_id: str,
        form_url: str = "",
        extra_context: dict[str, Any] | None = None,
    ) -> HttpResponse:
        response = super().change_view(request, object_id, form_url, extra_context)
        call = LiveCall.objects.filter(call_sid=object_id).first()
        if call is not None and response.status_code == 200:
            # The page lists the records with the number: each one it reveals is a read
            # (the call's own patient is audited by the site).
            shown = [p for p in _patients([call]) if p != call.patient_id]
            audit.record(
                request,
                user=request.user,
                action=AccessAction.READ,
                status_code=200,
                notes=[AccessNote(p, "candidate") for p in shown],
            )
        return response


def _patients(calls: Any) -> list[uuid.UUID]:
    seen: dict[uuid.UUID, None] = {}
    for call in calls:
        for patient in [*call.candidates, call.patient_id]:
            if patient:
                seen[uuid.UUID(str(patient))] = None
    return list(seen)
