"""Folded states kept between commands (crm.handlers.states): a command decides on exactly
what the log holds, whoever else wrote to the stream and whatever was rolled back."""

from __future__ import annotations

import dataclasses
import datetime as dt
import uuid

import pytest
from django.db import transaction

from crm import eventstore, handlers
from crm.domain import events as ev
from crm.domain.errors import DomainError
from crm.domain.recorded import RecordedEvent
from crm.domain.state import fold
from crm.eventstore import NewEvent
from crm.handlers.base import kept_states
from crm.models import PatientProfile

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _nothing_kept_from_other_tests() -> None:
    kept_states.clear()


def _note_by_another_writer(patient_id: uuid.UUID, version: int) -> None:
    """An append that does not go through this process's command path (another worker)."""
    with transaction.atomic():
        eventstore.append(
            patient_id,
            [
                NewEvent(
                    ev.NoteAdded(note_id=uuid.uuid4(), text="Called back", author="agent.two"),
                    dt.datetime(2026, 11, 3, 15, 0, tzinfo=dt.UTC),
                )
            ],
            expected_version=version,
        )


def _book(patient: uuid.UUID, actor, now: dt.datetime):  # type: ignore[no-untyped-def]
    return handlers.appointment_schedule(
        patient_id=patient,
        appointment_type=ev.AppointmentType.FOLLOW_UP,
        starts_at=now + dt.timedelta(days=3),
        provider="Dr. Lee",
        location="Main St",
        actor=actor,
        now=now,
    )


@pytest.fixture
def reads(monkeypatch: pytest.MonkeyPatch) -> list[tuple[str, int]]:
    """Every read a command makes: ("tail", from_version) or ("whole", 1)."""
    seen: list[tuple[str, int]] = []
    lock_and_read, read_stream = eventstore.lock_and_read, eventstore.read_stream

    def tail(stream_id, **kwargs):  # type: ignore[no-untyped-def]
        seen.append(("tail", kwargs.get("from_version", 1)))
        return lock_and_read(stream_id, **kwargs)

    def whole(stream_id, **kwargs):  # type: ignore[no-untyped-def]
        seen.append(("whole", 1))
        return read_stream(stream_id, **kwargs)

    monkeypatch.setattr(eventstore, "lock_and_read", tail)
    monkeypatch.setattr(eventstore, "read_stream", whole)
    return seen


def test_a_command_after_another_writer_decides_on_the_events_that_writer_added(
    register, actor, now, reads
):
    patient = register()
    booked = _book(patient, actor, now)
    assert patient in kept_states  # kept after the booking...
    _note_by_another_writer(patient, booked.version)  # ...then the log moves on without it
    reads.clear()

    cancelled = handlers.appointment_cancel(
        patient_id=patient,
        appointment_id=booked.events[0].event.appointment_id,  # type: ignore[attr-defined]
        cancelled_by=ev.CancelledBy.PATIENT,
        reason="Patient asked",
        actor=actor,
    )

    # One read of what came after the kept state, decided right the first time: no
    # conflict, no retry, no whole-stream read.
    assert reads == [("tail", booked.version)]
    assert [e.version for e in cancelled.events] == [booked.version + 2]
    profile = PatientProfile.objects.get(patient_id=patient)
    assert profile.notes_count == 1
    assert profile.upcoming_appointments == []
    assert profile.version == booked.version + 2


def test_a_kept_state_that_is_not_the_one_in_the_log_is_thrown_away(register, actor, reads):
    patient = register()
    stream = eventstore.read_stream(patient)
    # What a rolled-back transaction or a restored database would leave behind: a state
    # at a version whose event in the log is another one.
    wrong = fold(patient, stream)
    wrong.first_name = "Someone Else"
    wrong.deceased = True
    kept_states.put(wrong, dataclasses.replace(stream[-1], position=stream[-1].position + 999))
    reads.clear()

    result = handlers.note_add(patient_id=patient, text="Asked about parking", actor=actor)

    assert reads == [("tail", 1), ("whole", 1)]
    assert result.version == 2
    profile = PatientProfile.objects.get(patient_id=patient)
    assert (profile.first_name, profile.deceased, profile.notes_count) == ("Rowan", False, 1)


def test_a_refused_command_leaves_nothing_half_applied_behind(register, actor, now):
    patient = register()
    handlers.patient_mark_deceased(
        patient_id=patient, date_of_death=now.date(), actor=actor, now=now
    )

    with pytest.raises(DomainError):
        _book(patient, actor, now)

    assert patient not in kept_states
    again = handlers.note_add(patient_id=patient, text="Family called", actor=actor)
    assert again.version == 3
    assert PatientProfile.objects.get(patient_id=patient).deceased is True


def test_states_of_the_least_recently_used_patients_are_let_go():
    cache = type(kept_states)(capacity=2)
    stream = [uuid.uuid4() for _ in range(3)]
    for patient_id in stream:
        state = fold(patient_id, [])
        state.version = 1
        cache.put(state, _fake_last(patient_id))

    assert [patient_id in cache for patient_id in stream] == [False, True, True]


def _fake_last(patient_id: uuid.UUID) -> RecordedEvent:
    return RecordedEvent(
        position=1,
        stream_id=patient_id,
        version=1,
        event=ev.NoteAdded(note_id=uuid.uuid4(), text="x", author="a"),
        occurred_at=dt.datetime(2026, 11, 3, tzinfo=dt.UTC),
        recorded_at=dt.datetime(2026, 11, 3, tzinfo=dt.UTC),
    )
