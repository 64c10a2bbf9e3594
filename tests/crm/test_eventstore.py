"""The event store's contract: append-only (I1), optimistic concurrency (I2),
idempotency (I3) and what a reader gets back from the log."""

from __future__ import annotations

import datetime as dt
import json
import uuid

import pytest
from django.db import DatabaseError, connection, transaction
from django.test.utils import CaptureQueriesContext

from crm import eventstore, handlers
from crm.domain import events as ev
from crm.domain.errors import UnknownEventType
from crm.domain.state import fold
from crm.eventstore import ConcurrencyConflict, NewEvent, UnreadableEvent, postgres
from crm.models import Event, PatientProfile
from crm.projections.profile import save_profile
from tests.crm.parking import insert_raw

pytestmark = pytest.mark.django_db


def _note(text: str) -> NewEvent:
    return NewEvent(
        ev.NoteAdded(note_id=uuid.uuid4(), text=text, author="agent.one"),
        dt.datetime(2026, 11, 3, 14, 0, tzinfo=dt.UTC),
    )


def _append(stream: uuid.UUID, *texts: str, expected: int, **kwargs) -> eventstore.AppendResult:  # type: ignore[no-untyped-def]
    with transaction.atomic():
        return eventstore.append(
            stream, [_note(t) for t in texts], expected_version=expected, **kwargs
        )


# --- I1: append-only --------------------------------------------------------------------


@pytest.mark.parametrize(
    "statement",
    ["UPDATE crm_event SET event_type = 'PatientDeceased'", "DELETE FROM crm_event"],
)
def test_the_database_refuses_to_change_or_remove_a_recorded_event(statement, register):
    patient = register()
    before = list(Event.objects.values_list("position", "event_type", "data"))

    with (
        pytest.raises(DatabaseError, match="append-only"),
        transaction.atomic(),
        connection.cursor() as cursor,
    ):
        cursor.execute(statement)

    assert list(Event.objects.values_list("position", "event_type", "data")) == before
    assert PatientProfile.objects.get(patient_id=patient).first_name == "Rowan"


def test_the_orm_cannot_edit_an_event_either(register):
    register()
    event = Event.objects.get()
    event.event_type = "PatientDeceased"
    with pytest.raises(DatabaseError, match="append-only"), transaction.atomic():
        event.save()
    assert Event.objects.get().event_type == "PatientRegistered"


# --- I2: optimistic concurrency ----------------------------------------------------------


def test_versions_count_up_from_one_without_gaps():
    stream = uuid.uuid4()
    _append(stream, "first call", "second call", expected=0)
    result = _append(stream, "third call", expected=2)

    assert result.version == 3
    assert [e.version for e in eventstore.read_stream(stream)] == [1, 2, 3]


@pytest.mark.parametrize("stale", [0, 1, 5])
def test_an_append_at_a_stale_or_future_version_is_refused_and_writes_nothing(stale):
    stream = uuid.uuid4()
    _append(stream, "a", "b", expected=0)

    with pytest.raises(ConcurrencyConflict, match="expected at version"):
        _append(stream, "lost update", expected=stale)

    assert [e.event.text for e in eventstore.read_stream(stream)] == ["a", "b"]  # type: ignore[attr-defined]


def test_an_if_match_on_an_old_version_is_refused_by_the_handler(register, actor, now):
    patient = register()
    handlers.note_add(patient_id=patient, text="Called about refill", actor=actor)

    with pytest.raises(ConcurrencyConflict):
        handlers.note_add(patient_id=patient, text="Stale edit", actor=actor, expected_version=1)

    assert PatientProfile.objects.get(patient_id=patient).notes_count == 1
    assert eventstore.current_version(patient) == 2


# --- I3: idempotency ---------------------------------------------------------------------


def test_a_retried_command_returns_the_first_result_and_appends_nothing(register, actor, now):
    patient = register()
    start = now + dt.timedelta(days=7)
    first = handlers.appointment_schedule(
        patient_id=patient,
        appointment_type=ev.AppointmentType.THERAPY,
        starts_at=start,
        provider="Dr. Example",
        location="Main St clinic",
        actor=actor,
        now=now,
        idempotency_key="desk-42:book-therapy",
    )
    retry = handlers.appointment_schedule(
        patient_id=patient,
        appointment_type=ev.AppointmentType.THERAPY,
        starts_at=start,
        provider="Dr. Example",
        location="Main St clinic",
        actor=actor,
        now=now,
        idempotency_key="desk-42:book-therapy",
    )

    assert retry.duplicate and not first.duplicate
    assert retry.version == first.version == 2
    assert [e.event for e in retry.events] == [e.event for e in first.events]
    assert Event.objects.filter(stream_id=patient).count() == 2
    profile = PatientProfile.objects.get(patient_id=patient)
    assert len(profile.upcoming_appointments) == 1


def test_a_retried_registration_does_not_create_a_second_patient(actor, now):
    kwargs = dict(
        first_name="Sol",
        last_name="Example",
        date_of_birth=dt.date(1990, 2, 3),
        phone="212-555-0101",
        actor=actor,
        now=now,
        idempotency_key="desk-7:register-1",
    )
    first = handlers.patient_register(**kwargs)
    second = handlers.patient_register(**kwargs)

    assert second.patient_id == first.patient_id and second.duplicate
    assert PatientProfile.objects.count() == 1


def test_a_key_reused_for_another_patient_is_refused(register, actor):
    one, two = register(), register(first_name="Other")
    handlers.note_add(patient_id=one, text="a", actor=actor, idempotency_key="k-1")
    with pytest.raises(eventstore.IdempotencyKeyReused):
        handlers.note_add(patient_id=two, text="b", actor=actor, idempotency_key="k-1")
    assert PatientProfile.objects.get(patient_id=two).notes_count == 0


def test_a_command_that_records_nothing_is_still_remembered_by_its_key(register, actor):
    patient = register()
    consent = dict(
        patient_id=patient,
        channel=ev.Channel.SMS,
        purpose=ev.ConsentPurpose.APPOINTMENT_REMINDERS,
        source=ev.ConsentSource.VERBAL,
        actor=actor,
    )
    handlers.consent_record(**consent)
    again = handlers.consent_record(**consent, idempotency_key="consent-twice")
    retry = handlers.consent_record(**consent, idempotency_key="consent-twice")

    assert again.events == [] and retry.duplicate and retry.version == again.version == 2


# --- reading the log ---------------------------------------------------------------------


def _insert_as_older_code_did(
    stream: uuid.UUID, version: int, event_type: str, schema: int, data: dict[str, object]
) -> None:
    """Rows written by an earlier release of this code, before a schema change."""
    at = dt.datetime(2024, 1, 5, 15, 0, tzinfo=dt.UTC)
    with connection.cursor() as cursor:
        cursor.execute(
            "INSERT INTO crm_event (stream_id, version, event_type, schema_version, data, "
            "metadata, occurred_at, recorded_at) VALUES (%s, %s, %s, %s, %s, %s, %s, %s)",
            [
                Event._meta.get_field("stream_id").get_db_prep_value(stream, connection),
                version,
                event_type,
                schema,
                json.dumps(data),
                "{}",
                at,
                at,
            ],
        )


def test_an_old_consent_event_is_read_back_in_the_current_shape(register):
    patient = register()
    _insert_as_older_code_did(patient, 2, "ConsentRecorded", 1, {"channel": "sms"})

    consent = eventstore.read_stream(patient)[-1].event

    assert consent == ev.ConsentRecorded(
        channel=ev.Channel.SMS,
        purpose=ev.ConsentPurpose.APPOINTMENT_REMINDERS,
        source=ev.ConsentSource.UNKNOWN,
    )


def test_an_event_of_an_unknown_type_or_future_schema_fails_loudly(register):
    patient = register()
    _insert_as_older_code_did(patient, 2, "NoteAdded", 9, {"note_id": str(uuid.uuid4())})
    with pytest.raises(UnknownEventType, match="schema version 9"):
        eventstore.read_stream(patient)

    other = register(first_name="Other")
    _insert_as_older_code_did(other, 2, "PatientTeleported", 1, {})
    with pytest.raises(UnknownEventType, match="PatientTeleported"):
        eventstore.read_stream(other)


def test_read_all_pages_through_the_whole_log_in_position_order():
    streams = [uuid.uuid4() for _ in range(3)]
    for round_ in range(4):
        for stream in streams:
            _append(stream, f"note {round_}", expected=round_)

    seen, after = [], 0
    while page := eventstore.read_all(after, 5):
        seen.extend(e.position for e in page)
        after = page[-1].position

    assert seen == sorted(seen) and len(seen) == len(set(seen)) == 12


def test_a_rolled_back_append_leaves_a_hole_that_readers_step_over():
    stream = uuid.uuid4()
    _append(stream, "kept", expected=0)
    with pytest.raises(RuntimeError), transaction.atomic():
        eventstore.append(stream, [_note("rolled back")], expected_version=1)
        raise RuntimeError("the command failed after appending")
    _append(stream, "also kept", expected=1)

    texts = [e.event.text for e in eventstore.read_all(0, 10)]  # type: ignore[attr-defined]
    assert texts == ["kept", "also kept"]


def test_read_stream_as_of_a_moment_shows_only_what_was_recorded_by_then(register, actor):
    patient = register()
    first_recorded = eventstore.read_stream(patient)[0].recorded_at
    handlers.note_add(patient_id=patient, text="later", actor=actor)

    assert len(eventstore.read_stream(patient, recorded_until=first_recorded)) == 1
    assert len(eventstore.read_stream(patient)) == 2


@pytest.mark.django_db(transaction=True)
def test_nothing_is_appended_outside_a_transaction():
    with pytest.raises(RuntimeError, match=r"inside transaction\.atomic"):
        eventstore.append(uuid.uuid4(), [_note("x")], expected_version=0)
    assert not Event.objects.exists()


def test_a_writer_that_got_in_after_the_read_is_still_caught_without_the_re_read():
    stream = uuid.uuid4()
    _append(stream, "first", expected=0)
    _append(stream, "someone else's", expected=1)

    with pytest.raises(ConcurrencyConflict):
        _append(stream, "stale writer", expected=1, version_read_in_transaction=True)

    assert [e.version for e in eventstore.read_stream(stream)] == [1, 2]


# --- what a command writes and gets back ---------------------------------------------------


def test_the_events_a_command_gets_back_are_the_ones_the_log_holds():
    stream = uuid.uuid4()
    _append(stream, "first", expected=0)
    other = uuid.uuid4()
    _append(other, "someone else's call", expected=0)  # positions of two streams interleave

    result = _append(stream, "second", "third", "fourth", expected=1)

    assert result.events == eventstore.read_stream(stream)[1:]
    assert [e.version for e in result.events] == [2, 3, 4]
    positions = [e.position for e in result.events]
    assert (
        positions == sorted(positions) and positions[0] > eventstore.read_stream(other)[0].position
    )


def test_a_profile_written_before_a_refused_append_is_rolled_back_with_it(register, actor):
    patient = register()
    handlers.note_add(patient_id=patient, text="first note", actor=actor)
    state = fold(patient, eventstore.read_stream(patient)[:1])  # stale: at version 1

    with pytest.raises(ConcurrencyConflict), transaction.atomic():
        eventstore.append(
            patient,
            [_note("stale note")],
            expected_version=state.version,
            version_read_in_transaction=True,
            inline=lambda pending: save_profile(state.apply_all(pending)),
        )

    profile = PatientProfile.objects.get(patient_id=patient)
    assert (profile.version, profile.notes_count) == (2, 1)
    assert [e.version for e in eventstore.read_stream(patient)] == [1, 2]


def test_a_retried_command_writes_the_profile_only_once(register, actor):
    patient = register()
    for _ in range(3):
        handlers.note_add(
            patient_id=patient, text="Called back", actor=actor, idempotency_key="cb-1"
        )

    profile = PatientProfile.objects.get(patient_id=patient)
    assert (profile.version, profile.notes_count) == (2, 1)


def test_the_profile_records_when_its_last_event_was_stored(register, actor):
    patient = register()
    result = handlers.note_add(patient_id=patient, text="Asked about parking", actor=actor)

    profile = PatientProfile.objects.get(patient_id=patient)
    assert profile.updated_at == result.events[-1].recorded_at
    assert profile.updated_at == eventstore.read_stream(patient)[-1].recorded_at


# --- reading the whole log ----------------------------------------------------------------


def test_the_whole_log_comes_stream_by_stream_in_version_order_across_chunks(register):
    patients = sorted(register(first_name=f"P{n}") for n in range(5))
    for patient in patients:
        _append(patient, "a", "b", expected=1)

    events = list(eventstore.iter_by_stream(chunk_size=2))

    assert [(e.stream_id, e.version) for e in events] == [
        (patient, version) for patient in patients for version in (1, 2, 3)
    ]


def test_a_reader_that_stops_early_leaves_the_connection_usable(register):
    for n in range(4):
        register(first_name=f"P{n}")

    with transaction.atomic():
        reader = eventstore.iter_by_stream(chunk_size=1)
        first = next(reader)
        reader.close()
        assert eventstore.read_stream(first.stream_id)[0].version == 1


# --- the screen pop's read: the latest events and those of some types, in one query -------


def test_the_latest_and_the_named_types_come_back_in_one_query(monkeypatch):
    stream = uuid.uuid4()
    _append(stream, *[f"note {n}" for n in range(1, 13)], expected=0)
    # On PostgreSQL the read goes past Django's cursor (binary rows): count both ways in.
    direct: list[str] = []
    select_rows = postgres.select_rows
    monkeypatch.setattr(
        postgres, "select_rows", lambda sql, params: direct.append(sql) or select_rows(sql, params)
    )
    with CaptureQueriesContext(connection) as through_django:
        latest, typed = eventstore.read_latest_and_types(
            stream, up_to_version=10, limit=4, types=["NoteAdded"]
        )

    assert len(direct) + len(through_django) == 1
    assert [e.version for e in latest] == [10, 9, 8, 7]  # newest first, capped at 10
    assert [e.version for e in typed] == list(range(1, 11))  # oldest first, none above 10
    assert latest[0] is typed[-1]  # an event in both is decoded once


def test_only_the_named_types_come_back_from_before_the_latest(register, actor):
    patient = register()
    handlers.appointment_schedule(
        patient_id=patient,
        appointment_type=ev.AppointmentType.ANNUAL_WELLNESS,
        provider="Dr. Vega",
        location="Main St clinic",
        starts_at=dt.datetime.now(dt.UTC) + dt.timedelta(days=7),
        actor=actor,
    )
    for n in range(5):
        handlers.note_add(patient_id=patient, text=f"note {n}", actor=actor)
    version = len(eventstore.read_stream(patient))

    latest, typed = eventstore.read_latest_and_types(
        patient, up_to_version=version, limit=3, types=["AppointmentScheduled", "TestOrdered"]
    )

    assert [e.event.event_type for e in latest] == ["NoteAdded"] * 3
    assert [e.event.event_type for e in typed] == ["AppointmentScheduled"]  # type: ignore[union-attr]


def test_a_named_event_this_release_cannot_read_is_handed_back_not_raised(register):
    patient = register()
    insert_raw(patient, event_type="AppointmentScheduled", schema_version=9)
    for _ in range(3):
        insert_raw(patient, event_type="NoteAdded", data=_note("later").event.to_data())

    latest, typed = eventstore.read_latest_and_types(
        patient, up_to_version=5, limit=3, types=["AppointmentScheduled"]
    )

    assert [e.version for e in latest] == [5, 4, 3]
    assert isinstance(typed[0], UnreadableEvent) and typed[0].version == 2
    # One among the latest comes back in its place too, once, as what the timeline shows.
    latest, typed = eventstore.read_latest_and_types(
        patient, up_to_version=5, limit=4, types=["AppointmentScheduled"]
    )
    assert [e.version for e in latest] == [5, 4, 3, 2]
    assert isinstance(latest[3], UnreadableEvent) and latest[3].schema_version == 9
    assert typed == [latest[3]]
