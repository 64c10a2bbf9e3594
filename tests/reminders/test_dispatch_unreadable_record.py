"""The dispatcher when one patient's record holds an event this release cannot read (a
newer release wrote it after the reminder was scheduled): every text of the batch is
handed over once and recorded, that patient's included, and the next pass sends nothing
again."""

from __future__ import annotations

import datetime as dt

import pytest

from crm.domain import events as ev
from crm.models import Event
from reminders.backends import locmem
from reminders.dispatch import dispatch_due
from reminders.models import MessageStatus, OutboundMessage
from tests.crm.parking import FUTURE_TYPE, insert_raw, release_that_knows_letters
from tests.reminders.conftest import local
from tests.reminders.sms_webhook import events_of

pytestmark = pytest.mark.django_db

VISIT = local(2026, 11, 10, 10, 30)
DAY_BEFORE = VISIT - dt.timedelta(hours=24)


@pytest.fixture(autouse=True)
def _one_reminder_a_day_ahead(settings):
    settings.REMINDERS_OFFSETS_HOURS = (24,)


@pytest.fixture
def three_patients(clinic):
    """Three patients with a reminder due at DAY_BEFORE; the middle one's record then
    gets a row this release cannot read."""
    patients = []
    for number, name in (
        ("617-555-0161", "Avery"),
        ("617-555-0162", "Jordan"),
        ("617-555-0163", "Sam"),
    ):
        patient = clinic.patient(first_name=name, phone=number)
        clinic.book(patient, VISIT)
        clinic.reminders(patient)
        patients.append(patient)
    insert_raw(patients[1])
    return patients


def test_every_text_of_the_batch_goes_out_once_and_is_recorded(three_patients):
    report = dispatch_due(now=DAY_BEFORE)
    again = dispatch_due(now=DAY_BEFORE + dt.timedelta(hours=2))

    assert (report.sent, again.sent) == (3, 0)
    assert sorted(sent.to for sent in locmem.outbox) == [
        "+16175550161",
        "+16175550162",
        "+16175550163",
    ]
    rows = OutboundMessage.objects.filter(patient_id__in=three_patients)
    assert sorted(row.status for row in rows) == [MessageStatus.SENT] * 3
    assert all(row.provider_message_id for row in rows)


def test_the_unreadable_patients_text_is_on_their_record_after_the_unreadable_row(
    three_patients,
):
    first, unreadable, last = three_patients

    dispatch_due(now=DAY_BEFORE)

    assert len(events_of(first, ev.SmsSent)) == len(events_of(last, ev.SmsSent)) == 1
    types = list(
        Event.objects.filter(stream_id=unreadable)
        .order_by("version")
        .values_list("event_type", flat=True)
    )
    assert types[-2:] == [FUTURE_TYPE, "SmsSent"]
    with release_that_knows_letters():
        assert len(events_of(unreadable, ev.SmsSent)) == 1
