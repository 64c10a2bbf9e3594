"""Read-only reminder lists: a patient's, and the clinic's (for supervisors and agents)."""

from __future__ import annotations

import uuid
import zoneinfo
from typing import Any

from django.db.models import QuerySet
from django.utils import timezone
from drf_spectacular.utils import extend_schema
from rest_framework import mixins
from rest_framework.request import Request
from rest_framework.response import Response

from crm.api.audit import AccessNote
from crm.api.base import ApiGenericView
from crm.api.pagination import ListPagination
from crm.api.problems import PatientMissing
from crm.models import PatientProfile
from reminders.api.filtersets import PatientReminderFilter, ReminderFilter, upcoming
from reminders.api.serializers import ReminderSerializer
from reminders.models import Reminder
from reminders.selectors import current_state, state_expression


def represent(reminder: Reminder) -> dict[str, Any]:
    state, reason = current_state(reminder)
    message_id, sent_at = reminder.message_id, reminder.sent_at
    outbound = getattr(reminder, "outbound", None) if reminder.state == "scheduled" else None
    if sent_at is None and outbound is not None and outbound.handed_over_at is not None:
        # Handed over; the schedule has not read the SmsSent event yet.
        message_id, sent_at = outbound.message_id, outbound.handed_over_at
    local = reminder.due_at.astimezone(zoneinfo.ZoneInfo(reminder.timezone))
    return {
        "reminder_id": str(reminder.reminder_id),
        "patient_id": str(reminder.patient_id),
        "appointment_id": str(reminder.appointment_id),
        "kind": reminder.kind,
        "offset_hours": reminder.offset_hours,
        "appointment_starts_at": _utc(reminder.appointment_starts_at),
        "due_at": _utc(reminder.due_at),
        "due_at_local": local.isoformat(),
        "timezone": reminder.timezone,
        "state": state,
        "reason": reason,
        "delivery": {
            "message_id": str(message_id) if message_id else None,
            "sent_at": _utc(sent_at),
            "delivered_at": _utc(reminder.delivered_at),
            "failed_at": _utc(reminder.failed_at),
            "error_code": reminder.error_code,
        },
        "reply": _reply(reminder),
    }


def _reply(reminder: Reminder) -> dict[str, Any] | None:
    if not reminder.reply_intent or reminder.replied_at is None:
        return None
    return {
        "intent": reminder.reply_intent,
        "text": reminder.reply_text,
        "received_at": _utc(reminder.replied_at),
    }


def _utc(value: Any) -> str | None:
    return None if value is None else value.isoformat().replace("+00:00", "Z")


class _ReminderList(mixins.ListModelMixin, ApiGenericView):
    serializer_class = ReminderSerializer
    pagination_class = ListPagination
    queryset = Reminder.objects.none()  # the schema generator's; requests use get_queryset

    def base_queryset(self) -> QuerySet[Reminder]:
        return (
            Reminder.objects.select_related("outbound")
            .annotate(current_state=state_expression())
            .order_by("due_at", "reminder_id")
        )

    def list(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        page = self.paginate_queryset(self.filter_queryset(self.get_queryset()))
        assert page is not None
        patients = list(dict.fromkeys(r.patient_id for r in page))
        self.access_notes = [AccessNote(p, "returned") for p in patients]
        return self.get_paginated_response([represent(r) for r in page])


@extend_schema(tags=["reminders"])
class PatientRemindersApi(_ReminderList):
    filterset_class = PatientReminderFilter

    def get_queryset(self) -> QuerySet[Reminder]:
        if getattr(self, "swagger_fake_view", False):
            return Reminder.objects.none()
        return self.base_queryset().filter(patient_id=self.kwargs["patient_id"])

    @extend_schema(
        summary="A patient's text reminders, soonest first",
        description="Each with its state (scheduled, held, sent, delivered, failed, blocked, "
        "dropped, cancelled...) and, when it is not sent, why.",
    )
    def get(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        patient_id: uuid.UUID = self.kwargs["patient_id"]
        if not PatientProfile.objects.filter(patient_id=patient_id).exists():
            raise PatientMissing(f"No patient with id {patient_id}.", patient_id=str(patient_id))
        response = self.list(request, *args, **kwargs)
        self.access_notes = [AccessNote(patient_id, "returned")]
        return response


# Any of these says which reminders to list, so the list is not limited to upcoming ones.
_DEFAULT_OFF = {"when", "status", "due_before", "due_after"}


@extend_schema(tags=["reminders"])
class RemindersApi(_ReminderList):
    filterset_class = ReminderFilter

    def get_queryset(self) -> QuerySet[Reminder]:
        if getattr(self, "swagger_fake_view", False):
            return Reminder.objects.none()
        rows = self.base_queryset()
        if not _DEFAULT_OFF & set(self.request.query_params):
            rows = rows.filter(upcoming(timezone.now()))
        return rows

    @extend_schema(
        summary="Text reminders across patients, soonest first",
        description="Ordered by due time, soonest first. Without `when`, `status`, "
        "`due_before` or `due_after` it lists the upcoming ones: due from now on, or due "
        "already but not gone yet; `when=past` gives the history, `when=all` both. Filter "
        "also by `patient`. Every patient on the page is recorded in the access audit.",
    )
    def get(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        return self.list(request, *args, **kwargs)
