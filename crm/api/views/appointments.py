"""Appointment commands: book, then reschedule, confirm, cancel, complete or mark no-show;
a refusal by the patient's record is a 409 with the reason."""

from __future__ import annotations

from typing import Any

from drf_spectacular.utils import extend_schema
from rest_framework import serializers

from crm import handlers
from crm.api.commands import CommandApi, event_field, key_used_elsewhere
from crm.api.fields import Choice, Moment, Text, WholeNumber
from crm.api.serializers import CommandResultSerializer, StrictInputSerializer
from crm.domain import events as ev
from crm.handlers import Actor, CommandResult
from crm.handlers.base import CommandOptions


class AppointmentResultSerializer(CommandResultSerializer):
    appointment_id = serializers.UUIDField(allow_null=True)


@extend_schema(tags=["patients"], summary="Book an appointment")
class AppointmentScheduleApi(CommandApi):
    """starts_at must be in the future and at most APPOINTMENT_HORIZON_DAYS ahead (two
    years by default); the new appointment's id is in the response, for confirming, moving
    or cancelling it later."""

    class InputSerializer(StrictInputSerializer):
        appointment_type = Choice(ev.AppointmentType)
        modality = Choice(ev.Modality, required=False, default=ev.Modality.IN_PERSON)
        starts_at = Moment()
        duration_minutes = WholeNumber(min_value=5, max_value=480, required=False, default=30)
        provider = Text(max_length=200)
        location = Text(max_length=200, help_text='A site, or e.g. "Telehealth" for video.')

    OutputSerializer = AppointmentResultSerializer
    records = frozenset({"AppointmentScheduled"})
    creates = True

    def execute(
        self, *, data: dict[str, Any], actor: Actor, options: CommandOptions, **kwargs: Any
    ) -> CommandResult:
        return handlers.appointment_schedule(
            patient_id=kwargs["patient_id"], actor=actor, **data, **options
        )

    def extra_output(self, result: CommandResult) -> dict[str, Any]:
        return {"appointment_id": event_field(result, "appointment_id")}


class AppointmentCommandApi(CommandApi):
    """A command on one existing appointment, named in the path."""

    OutputSerializer = AppointmentResultSerializer

    def extra_output(self, result: CommandResult) -> dict[str, Any]:
        return {
            "appointment_id": event_field(result, "appointment_id") or self.kwargs["appointment_id"]
        }

    def check_replay(self, result: CommandResult) -> None:
        super().check_replay(result)
        recorded = event_field(result, "appointment_id")
        if recorded is not None and recorded != self.kwargs["appointment_id"]:
            raise key_used_elsewhere()  # the key was spent on another appointment


@extend_schema(tags=["patients"], summary="Move an appointment to another time")
class AppointmentRescheduleApi(AppointmentCommandApi):
    """A new time needs a new confirmation from the patient."""

    class InputSerializer(StrictInputSerializer):
        starts_at = Moment()
        reason = Text(max_length=1000, required=False, allow_blank=True, default="")

    records = frozenset({"AppointmentRescheduled"})

    def execute(
        self, *, data: dict[str, Any], actor: Actor, options: CommandOptions, **kwargs: Any
    ) -> CommandResult:
        return handlers.appointment_reschedule(
            patient_id=kwargs["patient_id"],
            appointment_id=kwargs["appointment_id"],
            actor=actor,
            **data,
            **options,
        )


@extend_schema(tags=["patients"], summary="Record that the patient confirmed")
class AppointmentConfirmApi(AppointmentCommandApi):
    """Confirming twice records it once (changed: false the second time)."""

    class InputSerializer(StrictInputSerializer):
        via = Choice(ev.Channel, required=False, default=ev.Channel.VOICE)

    records = frozenset({"AppointmentConfirmed"})

    def execute(
        self, *, data: dict[str, Any], actor: Actor, options: CommandOptions, **kwargs: Any
    ) -> CommandResult:
        return handlers.appointment_confirm(
            patient_id=kwargs["patient_id"],
            appointment_id=kwargs["appointment_id"],
            actor=actor,
            **data,
            **options,
        )


@extend_schema(tags=["patients"], summary="Cancel an appointment")
class AppointmentCancelApi(AppointmentCommandApi):
    """Only an appointment still open (not cancelled, completed or no-show) can be cancelled."""

    class InputSerializer(StrictInputSerializer):
        cancelled_by = Choice(ev.CancelledBy)
        reason = Text(max_length=1000, required=False, allow_blank=True, default="")

    records = frozenset({"AppointmentCancelled"})

    def execute(
        self, *, data: dict[str, Any], actor: Actor, options: CommandOptions, **kwargs: Any
    ) -> CommandResult:
        return handlers.appointment_cancel(
            patient_id=kwargs["patient_id"],
            appointment_id=kwargs["appointment_id"],
            actor=actor,
            **data,
            **options,
        )


class EmptyInputSerializer(StrictInputSerializer):
    """No fields: send {} or no body at all."""


@extend_schema(tags=["patients"], summary="Record that the patient attended")
class AppointmentCompleteApi(AppointmentCommandApi):
    """Only once the appointment has started. Send {} or no body."""

    InputSerializer = EmptyInputSerializer
    records = frozenset({"AppointmentCompleted"})

    def execute(
        self, *, data: dict[str, Any], actor: Actor, options: CommandOptions, **kwargs: Any
    ) -> CommandResult:
        return handlers.appointment_complete(
            patient_id=kwargs["patient_id"],
            appointment_id=kwargs["appointment_id"],
            actor=actor,
            **options,
        )


@extend_schema(tags=["patients"], summary="Record that the patient did not attend")
class AppointmentNoShowApi(AppointmentCommandApi):
    """Only once the start time has passed. Send {} or no body."""

    InputSerializer = EmptyInputSerializer
    records = frozenset({"AppointmentNoShowRecorded"})

    def execute(
        self, *, data: dict[str, Any], actor: Actor, options: CommandOptions, **kwargs: Any
    ) -> CommandResult:
        return handlers.appointment_no_show(
            patient_id=kwargs["patient_id"],
            appointment_id=kwargs["appointment_id"],
            actor=actor,
            **options,
        )
