"""Who an inbound text is from and about: the patients with the number, the one a C
confirms a visit for, the visit a score rates."""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Sequence
from dataclasses import dataclass

from django.conf import settings

from crm import eventstore
from crm.domain import events as ev
from crm.domain.state import fold
from reminders.models import MessageKind, OutboundMessage, Reminder
from reminders.projections.numbers import patients_with as records_with


@dataclass(frozen=True, slots=True)
class Patient:
    patient_id: uuid.UUID
    language: str
    deceased: bool


def patients_with(phone: str) -> list[Patient]:
    rows = records_with([phone]).values_list("patient_id", "language", "deceased")
    return [Patient(pid, language, deceased) for pid, language, deceased in rows]


def lacks_reminder_consent(patients: Sequence[Patient]) -> bool:
    """Does a living patient with the number lack SMS consent for reminders right now?
    Read from their streams in the store, as the command deciding on it must."""
    living = [p.patient_id for p in patients if not p.deceased]
    streams = eventstore.read_streams(living)
    return not all(
        fold(pid, streams.get(pid, [])).has_consent(
            ev.Channel.SMS, ev.ConsentPurpose.APPOINTMENT_REMINDERS
        )
        for pid in living
    )


def confirm_target(
    phone: str, patients: Sequence[Patient], now: dt.datetime
) -> tuple[uuid.UUID, uuid.UUID] | None:
    """The patient who got the latest reminder to this number, and their next visit."""
    ids = [p.patient_id for p in patients if not p.deceased]
    if not ids:
        return None
    latest = (
        OutboundMessage.objects.filter(
            to=phone, kind=MessageKind.REMINDER, patient_id__in=ids, handed_over_at__isnull=False
        )
        .order_by("-handed_over_at")
        .values_list("patient_id", flat=True)
        .first()
    )
    if latest is None:
        return None
    state = fold(latest, eventstore.read_stream(latest))
    upcoming = [a for a in state.open_appointments() if a.starts_at > now]
    return (latest, upcoming[0].appointment_id) if upcoming else None


def satisfaction_target(
    phone: str, patients: Sequence[Patient], now: dt.datetime
) -> tuple[uuid.UUID, uuid.UUID | None] | None:
    """The patient (and visit) of a satisfaction text to this number in the reply window."""
    ids = [p.patient_id for p in patients]
    if not ids:
        return None
    window = dt.timedelta(hours=settings.SATISFACTION_REPLY_WINDOW_HOURS)
    latest = (
        OutboundMessage.objects.filter(
            to=phone,
            kind=MessageKind.SATISFACTION,
            patient_id__in=ids,
            handed_over_at__gte=now - window,
            handed_over_at__lte=now,
        )
        .order_by("-handed_over_at")
        .values_list("patient_id", "reminder_id")
        .first()
    )
    if latest is None:
        return None
    patient_id, reminder_id = latest
    assert patient_id is not None  # filtered on patient_id__in
    appointment_id = (
        Reminder.objects.filter(reminder_id=reminder_id)
        .values_list("appointment_id", flat=True)
        .first()
        if reminder_id is not None
        else None
    )
    return patient_id, appointment_id
