"""Booking a visit and what happens to it next: reschedule, confirm, cancel, close."""

from __future__ import annotations

import datetime as dt
import uuid
from dataclasses import dataclass
from typing import Any

from django import forms

from crm import handlers
from crm.admin import formatting as fmt
from crm.admin.forms.base import (
    PatientActionForm,
    clinic_today,
    date_field,
    local_moment,
    time_field,
    zone_choices,
)
from crm.domain import events as ev
from crm.handlers import Actor, CommandResult
from crm.handlers.base import CommandOptions
from crm.models import PatientProfile


@dataclass(frozen=True, slots=True)
class OpenAppointment:
    """An appointment not yet cancelled, completed or marked a no-show (from the profile)."""

    appointment_id: uuid.UUID
    appointment_type: ev.AppointmentType
    modality: ev.Modality
    starts_at: dt.datetime
    duration_minutes: int
    provider: str
    location: str
    confirmed: bool

    def describe(self, zone_name: str) -> str:
        return (
            f"{fmt.label(self.appointment_type).capitalize()}, "
            f"{fmt.moment(self.starts_at, zone_name)}, with {self.provider}"
        )


def open_appointments(patient: PatientProfile) -> list[OpenAppointment]:
    return [
        OpenAppointment(
            appointment_id=uuid.UUID(item["appointment_id"]),
            appointment_type=ev.AppointmentType(item["appointment_type"]),
            modality=ev.Modality(item["modality"]),
            starts_at=dt.datetime.fromisoformat(item["starts_at"]),
            duration_minutes=int(item["duration_minutes"]),
            provider=item["provider"],
            location=item["location"],
            confirmed=bool(item["confirmed"]),
        )
        for item in patient.upcoming_appointments
    ]


class _WhenFields(forms.Form):
    """Date, time and the zone the time is meant in; `clean` adds `starts_at`."""

    day = date_field("Date")
    time = time_field("Time")
    time_zone = forms.ChoiceField(choices=[], label="Time is in")

    def _setup_when(self, patient: PatientProfile) -> None:
        zone_field = self.fields["time_zone"]
        assert isinstance(zone_field, forms.ChoiceField)
        zone_field.choices = zone_choices(patient)
        zone_field.initial = zone_field.choices[0][0]

    def _clean_when(self, data: dict[str, Any]) -> None:
        if data.get("day") and data.get("time") and data.get("time_zone"):
            try:
                data["starts_at"] = local_moment(data["day"], data["time"], data["time_zone"])
            except forms.ValidationError as error:
                self.add_error("time", error)


class ScheduleForm(PatientActionForm, _WhenFields):
    slug = "schedule"
    title = "Book an appointment"
    submit_label = "Book appointment"
    error_fields = {"starts_at": "time"}

    appointment_type = forms.ChoiceField(choices=fmt.choices(ev.AppointmentType), label="Visit")
    modality = forms.ChoiceField(
        choices=fmt.choices(ev.Modality), initial=ev.Modality.IN_PERSON.value, label="How"
    )
    duration_minutes = forms.IntegerField(
        initial=30, min_value=5, max_value=480, label="Length (minutes)"
    )
    provider = forms.CharField(max_length=200)
    location = forms.CharField(max_length=200, help_text="Room, site, or 'Telehealth'.")

    field_order = [
        "appointment_type",
        "modality",
        "day",
        "time",
        "time_zone",
        "duration_minutes",
        "provider",
        "location",
    ]

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        now: dt.datetime = kwargs["now"]
        kwargs["initial"] = {
            "day": clinic_today(now) + dt.timedelta(days=1),
            **kwargs.get("initial", {}),
        }
        super().__init__(*args, **kwargs)
        self._setup_when(self.patient)

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        self._clean_when(data)
        return data

    def command(self, *, actor: Actor, options: CommandOptions) -> CommandResult:
        data = self.cleaned_data
        return handlers.appointment_schedule(
            patient_id=self.patient.patient_id,
            appointment_type=ev.AppointmentType(data["appointment_type"]),
            modality=ev.Modality(data["modality"]),
            starts_at=data["starts_at"],
            duration_minutes=data["duration_minutes"],
            provider=data["provider"],
            location=data["location"],
            actor=actor,
            now=self.now,
            **options,
        )

    def success_message(self, result: CommandResult) -> str:
        kind = fmt.label(ev.AppointmentType(self.cleaned_data["appointment_type"]))
        when = fmt.moment(self.cleaned_data["starts_at"], self.patient.timezone)
        return f"Booked: {kind}, {when} (patient's time)."


class AppointmentActionForm(PatientActionForm):
    """An action on one of the patient's open appointments."""

    per_appointment = True

    appointment = forms.ChoiceField(
        choices=[],
        error_messages={
            "invalid_choice": (
                "This appointment is no longer open: it was cancelled, completed or marked "
                "a no-show since the page was drawn."
            )
        },
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.open = {str(a.appointment_id): a for a in open_appointments(self.patient)}
        field = self.fields["appointment"]
        assert isinstance(field, forms.ChoiceField)
        field.choices = [
            (key, visit.describe(self.patient.timezone)) for key, visit in self.open.items()
        ]
        self.order_fields(["appointment", *self.fields])

    @property
    def appointment_id(self) -> uuid.UUID:
        return uuid.UUID(self.cleaned_data["appointment"])

    def visit(self) -> str:
        chosen = self.open.get(str(self.cleaned_data.get("appointment", "")))
        return chosen.describe(self.patient.timezone) if chosen else "the appointment"


class RescheduleForm(AppointmentActionForm, _WhenFields):
    slug = "reschedule"
    title = "Reschedule an appointment"
    submit_label = "Reschedule"
    error_fields = {"starts_at": "time"}

    reason = forms.CharField(max_length=500, required=False)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._setup_when(self.patient)

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        self._clean_when(data)
        return data

    def command(self, *, actor: Actor, options: CommandOptions) -> CommandResult:
        return handlers.appointment_reschedule(
            patient_id=self.patient.patient_id,
            appointment_id=self.appointment_id,
            starts_at=self.cleaned_data["starts_at"],
            reason=self.cleaned_data["reason"],
            actor=actor,
            now=self.now,
            **options,
        )

    def success_message(self, result: CommandResult) -> str:
        when = fmt.moment(self.cleaned_data["starts_at"], self.patient.timezone)
        return f"Rescheduled to {when} (patient's time). It needs a new confirmation."


class ConfirmForm(AppointmentActionForm):
    slug = "confirm"
    title = "Confirm an appointment"
    submit_label = "Confirm"

    via = forms.ChoiceField(
        choices=fmt.choices(ev.Channel), initial=ev.Channel.VOICE.value, label="Confirmed by"
    )

    def command(self, *, actor: Actor, options: CommandOptions) -> CommandResult:
        return handlers.appointment_confirm(
            patient_id=self.patient.patient_id,
            appointment_id=self.appointment_id,
            via=ev.Channel(self.cleaned_data["via"]),
            actor=actor,
            now=self.now,
            **options,
        )

    def success_message(self, result: CommandResult) -> str:
        if not result.events:
            return "That appointment was already confirmed."
        return f"Confirmed: {self.visit()}."


class CancelForm(AppointmentActionForm):
    slug = "cancel"
    title = "Cancel an appointment"
    submit_label = "Cancel appointment"

    cancelled_by = forms.ChoiceField(choices=fmt.choices(ev.CancelledBy), label="Cancelled by")
    reason = forms.CharField(max_length=500, required=False)

    def command(self, *, actor: Actor, options: CommandOptions) -> CommandResult:
        return handlers.appointment_cancel(
            patient_id=self.patient.patient_id,
            appointment_id=self.appointment_id,
            cancelled_by=ev.CancelledBy(self.cleaned_data["cancelled_by"]),
            reason=self.cleaned_data["reason"],
            actor=actor,
            **options,
        )

    def success_message(self, result: CommandResult) -> str:
        return f"Cancelled: {self.visit()}."


class CompleteForm(AppointmentActionForm):
    slug = "complete"
    title = "Mark a visit as completed"
    submit_label = "Mark completed"

    def command(self, *, actor: Actor, options: CommandOptions) -> CommandResult:
        return handlers.appointment_complete(
            patient_id=self.patient.patient_id,
            appointment_id=self.appointment_id,
            actor=actor,
            now=self.now,
            **options,
        )

    def success_message(self, result: CommandResult) -> str:
        return f"Completed: {self.visit()}."


class NoShowForm(AppointmentActionForm):
    slug = "no-show"
    title = "Mark a no-show"
    submit_label = "Mark no-show"

    def command(self, *, actor: Actor, options: CommandOptions) -> CommandResult:
        return handlers.appointment_no_show(
            patient_id=self.patient.patient_id,
            appointment_id=self.appointment_id,
            actor=actor,
            now=self.now,
            **options,
        )

    def success_message(self, result: CommandResult) -> str:
        return f"No-show recorded: {self.visit()}."
