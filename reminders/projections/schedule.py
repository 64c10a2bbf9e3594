"""The `reminders` catch-up projection: a patient's schedule, derived again from their whole
stream whenever a batch touches it, so a rebuild writes the same rows (I5)."""

from __future__ import annotations

import dataclasses
import datetime as dt
import uuid
from collections.abc import Sequence

from django.conf import settings

from crm import eventstore
from crm.domain.recorded import RecordedEvent
from crm.models import PatientProfile
from crm.projections.runner import CatchUpProjection
from reminders.domain.schedule import PlannedReminder, ScheduleConfig, derive
from reminders.models import Reminder
from reminders.projections.numbers import blocked_reasons

NAME = "reminders"
# Event types no reminder reads: the fold counts them (calls, notes, the last contact) and
# the text history passes them by. A patient whose events in a batch are all of these keeps
# the schedule it had, so the batch neither reads nor derives it again (tests/reminders/
# test_schedule.py derives every patient of a random history with and without them).
UNREAD = frozenset({"CallLogged", "CallWrappedUp", "NoteAdded"})


def schedule_config() -> ScheduleConfig:
    return ScheduleConfig(
        offsets=tuple(settings.REMINDERS_OFFSETS_HOURS),
        offsets_by_kind=dict(settings.REMINDERS_OFFSETS_BY_KIND),
        window=settings.REMINDERS_SEND_WINDOW,
        clinic_timezone=str(settings.TIME_ZONE),
        satisfaction=settings.REMINDERS_SATISFACTION_ENABLED,
        satisfaction_delay=dt.timedelta(hours=settings.REMINDERS_SATISFACTION_DELAY_HOURS),
    )


def derive_rows(
    streams: dict[uuid.UUID, list[RecordedEvent]], config: ScheduleConfig
) -> list[Reminder]:
    phones = {
        e.event.phone  # type: ignore[attr-defined]
        for stream in streams.values()
        for e in stream
        if getattr(e.event, "phone", None)
    }
    blocked = blocked_reasons(phones) if phones else {}
    rows: list[Reminder] = []
    for patient_id, recorded in streams.items():
        for planned in derive(patient_id, recorded, config, blocked.get):
            rows.append(Reminder(**_fields(planned)))
    return rows


class ReminderProjection(CatchUpProjection):
    name = NAME
    read_models = (Reminder,)

    def handle(self, events: Sequence[RecordedEvent]) -> None:
        patients = {event.stream_id for event in events if event.event_type not in UNREAD}
        # A number's own stream (an opt-out or opt-in by keyword) concerns every patient
        # who has that number today.
        numbers = {
            getattr(event.event, "phone", None)
            for event in events
            if event.event_type.startswith("SmsNumber")
        }
        numbers.discard(None)
        if not patients and not numbers:
            return
        if numbers:
            patients.update(
                PatientProfile.objects.filter(phone__in=numbers).values_list(
                    "patient_id", flat=True
                )
            )
        streams = eventstore.read_streams(patients, until_position=events[-1].position)
        rows = derive_rows(streams, schedule_config())
        _replace(patients, rows)


def _replace(patients: set[uuid.UUID], rows: list[Reminder]) -> None:
    """Make the schedule of `patients` exactly `rows`, writing only the rows that changed.

    A batch mostly moves one reminder of a patient (sent, delivered) and leaves the rest
    as they were; deleting and inserting them all again took a third of the projection's
    time in the demo load (`manage.py load_demo`, which texts through the dispatcher)."""
    columns = ["reminder_id"] + [
        f.attname for f in Reminder._meta.concrete_fields if f.attname != "reminder_id"
    ]
    stored = {
        values[0]: values
        for values in Reminder.objects.filter(patient_id__in=patients).values_list(*columns)
    }
    changed = [
        row
        for row in rows
        if stored.get(row.reminder_id) != tuple(getattr(row, c) for c in columns)
    ]
    kept = {row.reminder_id for row in rows} - {row.reminder_id for row in changed}
    gone = [reminder_id for reminder_id in stored if reminder_id not in kept]
    if gone:
        Reminder.objects.filter(reminder_id__in=gone).delete()
    Reminder.objects.bulk_create(changed, batch_size=1000)


def _fields(planned: PlannedReminder) -> dict[str, object]:
    return {f.name: getattr(planned, f.name) for f in dataclasses.fields(planned)}
