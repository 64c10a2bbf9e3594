"""I3, what a key is bound to: the command that first used it. The same command again
replays its first result; any other command with the key is refused, and the records
that say so can be neither changed nor removed."""

from __future__ import annotations

import datetime as dt
import uuid

import pytest
from django.db import DatabaseError, connection, transaction

from crm import eventstore, handlers
from crm.domain import events as ev
from crm.domain.state import AppointmentStatus, fold
from crm.eventstore import IdempotencyKeyReused, NewEvent
from crm.eventstore.fingerprints import fingerprint
from crm.models import CommandRecord, Event

pytestmark = pytest.mark.django_db

KEY = "desk-7:visit-call-0001"


@pytest.fixture
def confirmed_visit(register, actor, now):  # type: ignore[no-untyped-def]
    """Rowan's therapy visit next week, already confirmed: (patient, appointment)."""
    patient = register()
    booked = handlers.appointment_schedule(
        patient_id=patient,
        appointment_type=ev.AppointmentType.THERAPY,
        starts_at=now + dt.timedelta(days=7),
        provider="Dr. Example",
        location="Main St clinic",
        actor=actor,
        now=now,
    )
    visit = booked.events[0].event.appointment_id  # type: ignore[attr-defined]
    handlers.appointment_confirm(patient_id=patient, appointment_id=visit, actor=actor, now=now)
    return patient, visit


def _status(patient: uuid.UUID, visit: uuid.UUID) -> AppointmentStatus:
    return fold(patient, eventstore.read_stream(patient)).appointments[visit].status


def test_a_key_spent_on_a_confirmation_that_changed_nothing_refuses_a_cancel(
    confirmed_visit, actor, now
):
    patient, visit = confirmed_visit
    unchanged = handlers.appointment_confirm(
        patient_id=patient, appointment_id=visit, actor=actor, now=now, idempotency_key=KEY
    )
    assert unchanged.events == []

    with pytest.raises(IdempotencyKeyReused):
        handlers.appointment_cancel(
            patient_id=patient,
            appointment_id=visit,
            cancelled_by=ev.CancelledBy.PATIENT,
            actor=actor,
            idempotency_key=KEY,
        )

    assert _status(patient, visit) is AppointmentStatus.SCHEDULED
    assert eventstore.current_version(patient) == unchanged.version


def test_the_same_command_with_its_key_is_replayed_even_at_another_moment(
    confirmed_visit, actor, now
):
    patient, visit = confirmed_visit
    confirm = dict(patient_id=patient, appointment_id=visit, actor=actor, idempotency_key=KEY)
    first = handlers.appointment_confirm(**confirm, now=now)

    again = handlers.appointment_confirm(**confirm, now=now + dt.timedelta(minutes=3))

    assert again.duplicate and again.version == first.version


def test_a_key_without_the_fingerprint_of_its_command_is_refused_by_the_store():
    stream = uuid.uuid4()
    note = NewEvent(
        ev.NoteAdded(note_id=uuid.uuid4(), text="Called back", author="agent.one"),
        dt.datetime(2026, 11, 3, 14, 0, tzinfo=dt.UTC),
    )

    with pytest.raises(ValueError, match="fingerprint"), transaction.atomic():
        eventstore.append(stream, [note], expected_version=0, idempotency_key=KEY)

    assert not Event.objects.filter(stream_id=stream).exists()


def test_a_record_kept_before_fingerprints_replays_as_it_did(register, actor, now):
    patient = register()
    with connection.cursor() as cursor:  # as the store wrote them before fingerprints
        cursor.execute(
            "INSERT INTO crm_command_record "
            "(key, stream_id, first_version, last_version, recorded_at, fingerprint) "
            "VALUES (%s, %s, 2, 1, %s, '')",
            [KEY, _db_uuid(patient), now],
        )

    retry = handlers.note_add(
        patient_id=patient, text="Called back", actor=actor, idempotency_key=KEY
    )

    assert retry.duplicate and retry.events == [] and eventstore.current_version(patient) == 1


@pytest.mark.parametrize(
    "statement",
    [
        "UPDATE crm_command_record SET fingerprint = 'another command'",
        "UPDATE crm_command_record SET last_version = last_version + 1",
        "DELETE FROM crm_command_record",
    ],
)
def test_the_database_refuses_to_change_or_remove_an_idempotency_record(statement, register, actor):
    patient = register()
    handlers.note_add(patient_id=patient, text="Called back", actor=actor, idempotency_key=KEY)
    before = list(CommandRecord.objects.values_list("key", "last_version", "fingerprint"))

    with (
        pytest.raises(DatabaseError, match="append-only"),
        transaction.atomic(),
        connection.cursor() as cursor,
    ):
        cursor.execute(statement)

    assert list(CommandRecord.objects.values_list("key", "last_version", "fingerprint")) == before
    assert before[0][2] == fingerprint("note_add", {"patient_id": patient, "text": "Called back"})


def test_the_orm_cannot_remove_an_idempotency_record_either(register, actor):
    patient = register()
    handlers.note_add(patient_id=patient, text="Called back", actor=actor, idempotency_key=KEY)

    with pytest.raises(DatabaseError), transaction.atomic():
        CommandRecord.objects.filter(key=KEY).delete()

    assert CommandRecord.objects.filter(key=KEY).exists()


def _db_uuid(value: uuid.UUID) -> object:
    return CommandRecord._meta.get_field("stream_id").get_db_prep_value(value, connection)
