"""The clinic's day for reminder tests: patients who agreed to texts, visits booked
through the real handlers, the schedule projection caught up, texts in memory."""

from __future__ import annotations

import datetime as dt
import uuid
import zoneinfo

import pytest

from crm import handlers
from crm.domain import events as ev
from crm.projections import runner
from reminders.backends import locmem
from reminders.models import OutboundMessage, Reminder

NEW_YORK = zoneinfo.ZoneInfo("America/New_York")


def local(year, month, day, hour, minute=0, zone=NEW_YORK):
    return dt.datetime(year, month, day, hour, minute, tzinfo=zone)


class Clinic:
    """Front-desk actions for one test, each through the command handlers."""

    def __init__(self, register, actor, now):
        self.register_patient = register
        self.actor = actor
        self.now = now

    def patient(
        self,
        *,
        consent=True,
        phone="(617) 555-0134",
        timezone="America/New_York",
        language="en",
        first_name="Rowan",
        **extra,
    ):
        patient_id = self.register_patient(
            phone=phone,
            timezone_name=timezone,
            language=language,
            first_name=first_name,
            **extra,
        )
        if consent:
            self.consent(patient_id)
        return patient_id

    def consent(self, patient_id, purpose=ev.ConsentPurpose.APPOINTMENT_REMINDERS):
        handlers.consent_record(
            patient_id=patient_id,
            channel=ev.Channel.SMS,
            purpose=purpose,
            source=ev.ConsentSource.VERBAL,
            actor=self.actor,
            occurred_at=self.now,
        )

    def book(
        self,
        patient_id,
        starts_at,
        *,
        kind=ev.AppointmentType.FOLLOW_UP,
        modality=ev.Modality.IN_PERSON,
        location="Main St clinic",
        at=None,
    ):
        appointment_id = uuid.uuid4()
        handlers.appointment_schedule(
            patient_id=patient_id,
            appointment_type=kind,
            starts_at=starts_at,
            provider="Dr. Lee",
            location=location,
            actor=self.actor,
            modality=modality,
            appointment_id=appointment_id,
            now=at or self.now,
            occurred_at=at or self.now,
        )
        return appointment_id

    def reminders(self, patient_id=None):
        runner.catch_up(runner.registered()["reminders"])
        rows = Reminder.objects.all()
        if patient_id is not None:
            rows = rows.filter(patient_id=patient_id)
        return list(rows.order_by("due_at"))


@pytest.fixture
def clinic(register, actor, now):
    return Clinic(register, actor, now)


@pytest.fixture(autouse=True)
def _texts_in_memory(settings):
    settings.SMS_BACKEND = "locmem"
    settings.REMINDERS_SEND_WINDOW = (dt.time(8), dt.time(21))
    settings.REMINDERS_OFFSETS_HOURS = (72, 24)
    settings.REMINDERS_OFFSETS_BY_KIND = {}
    locmem.reset()
    yield
    locmem.reset()


def outbox_of(reminder):
    return OutboundMessage.objects.filter(reminder_id=reminder.reminder_id).first()
