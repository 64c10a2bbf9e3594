"""Real concurrent connections against PostgreSQL: I2, I3 and the gap-free global order (I4).

Each writer is a thread with its own database connection, so transactions really do
interleave and commit in an order of their own.
"""

from __future__ import annotations

import datetime as dt
import logging
import random
import threading
import time
import uuid

import psycopg
import pytest
from django.db import connection, transaction
from psycopg.pq import Trace

from crm import eventstore, handlers
from crm.domain import events as ev
from crm.eventstore import NewEvent, postgres
from crm.handlers.base import kept_states
from crm.models import Event, PatientProfile
from tests.threads import together

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


def _note(text: str) -> NewEvent:
    return NewEvent(
        ev.NoteAdded(note_id=uuid.uuid4(), text=text, author="agent"),
        dt.datetime(2026, 11, 3, 14, 0, tzinfo=dt.UTC),
    )


def test_two_writers_at_the_same_version_one_wins_and_the_other_gets_a_conflict():
    stream = uuid.uuid4()
    with transaction.atomic():
        eventstore.append(stream, [_note("registered")], expected_version=0)
    both_read = threading.Barrier(2)

    def write(i: int) -> int:
        with transaction.atomic():
            version = eventstore.current_version(stream)
            both_read.wait()
            return eventstore.append(
                stream, [_note(f"writer {i}")], expected_version=version
            ).version

    outcomes = together(2, write)

    assert sorted(type(o).__name__ for o in outcomes) == ["ConcurrencyConflict", "int"]
    assert [e.version for e in eventstore.read_stream(stream)] == [1, 2]


def test_concurrent_retries_with_one_idempotency_key_append_once(register, actor):
    patient = register()

    def retry(i: int) -> handlers.CommandResult:
        return handlers.note_add(
            patient_id=patient, text="Asked for a callback", actor=actor, idempotency_key="dup-1"
        )

    results = together(6, retry)

    assert all(isinstance(r, handlers.CommandResult) for r in results), results
    assert sum(not r.duplicate for r in results) == 1  # type: ignore[union-attr]
    assert {r.version for r in results} == {2}  # type: ignore[union-attr]
    assert PatientProfile.objects.get(patient_id=patient).notes_count == 1


def test_many_agents_writing_to_one_patient_lose_nothing(register, actor):
    patient = register()

    def log_calls(i: int) -> int:
        for n in range(10):
            handlers.note_add(patient_id=patient, text=f"agent {i} note {n}", actor=actor)
        return i

    outcomes = together(6, log_calls)

    assert not [o for o in outcomes if isinstance(o, Exception)], outcomes
    versions = list(Event.objects.filter(stream_id=patient).values_list("version", flat=True))
    assert versions == list(range(1, 62))
    assert PatientProfile.objects.get(patient_id=patient).notes_count == 60


# --- I4: a subscriber tailing the log sees every event once, in order ---------------------


def _tail_while_writing(writers: int, appends_each: int) -> tuple[list[int], list[int]]:
    """Writers append (with a pause between INSERT and COMMIT, so commits land out of
    order); a subscriber tails read_all() from its checkpoint meanwhile.
    Returns (positions the subscriber saw, positions in the table)."""
    done = threading.Event()
    seen: list[int] = []

    def subscribe() -> None:
        checkpoint = 0
        try:
            while True:
                finished = done.is_set()
                page = eventstore.read_all(checkpoint, 50)
                seen.extend(e.position for e in page)
                if page:
                    checkpoint = page[-1].position
                elif finished:
                    return
        finally:
            connection.close()

    def write(i: int) -> None:
        rng = random.Random(i)
        stream = uuid.uuid4()
        for version in range(appends_each):
            with transaction.atomic():
                batch = [_note(f"w{i} a{version} e{k}") for k in range(rng.randint(1, 3))]
                eventstore.append(
                    stream, batch, expected_version=eventstore.current_version(stream)
                )
                time.sleep(rng.random() * 0.002)

    subscriber = threading.Thread(target=subscribe)
    subscriber.start()
    errors = [o for o in together(writers, write) if isinstance(o, Exception)]
    done.set()
    subscriber.join(timeout=120)
    assert not errors, errors
    return seen, list(Event.objects.order_by("position").values_list("position", flat=True))


def test_a_subscriber_sees_every_committed_event_exactly_once_in_order():
    seen, stored = _tail_while_writing(writers=8, appends_each=40)

    assert len(stored) >= 8 * 40
    assert seen == stored  # every event, once each, in position order


def test_without_the_append_lock_the_same_subscriber_loses_events(monkeypatch):
    """The control: proves the test above would catch the bigserial trap."""
    monkeypatch.setattr(eventstore.postgres, "take_append_lock", lambda: None)
    monkeypatch.setattr(eventstore.postgres, "APPEND_LOCK", "NULL")  # the INSERT's own lock
    for _ in range(5):
        seen, stored = _tail_while_writing(writers=8, appends_each=40)
        if set(seen) != set(stored):
            break
        with connection.cursor() as cursor:
            cursor.execute("TRUNCATE crm_event")
    assert set(seen) < set(stored), "out-of-order commits should have hidden some events"


# --- a command commits with its INSERT ------------------------------------------------------


def test_a_command_is_committed_and_lets_go_of_the_append_lock_when_it_returns(register, actor):
    patient = register()
    handlers.note_add(patient_id=patient, text="Asked for a callback", actor=actor)

    def look_from_another_connection(i: int) -> tuple[bool, list[int], int]:
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute("SELECT pg_try_advisory_xact_lock(%s)", [eventstore.APPEND_LOCK_KEY])
            free = cursor.fetchone()[0]
            versions = [e.version for e in eventstore.read_stream(patient)]
            return free, versions, PatientProfile.objects.get(patient_id=patient).notes_count

    assert together(1, look_from_another_connection) == [(True, [1, 2], 1)]
    assert not connection.in_atomic_block


def test_a_command_that_decided_on_a_stale_stream_is_refused_by_the_log_and_retried(
    register, actor, monkeypatch
):
    """A writer that skipped the patient lock got in between the read and the INSERT: the
    unique index refuses the INSERT sent with its COMMIT, and the handler decides again."""
    patient = register()
    handlers.note_add(patient_id=patient, text="first", actor=actor)
    kept_states.clear()  # so the command reads (and is misled about) the whole stream
    real = eventstore.lock_and_read
    reads: list[int] = []

    def stale_once(stream_id: uuid.UUID, **kwargs: object) -> eventstore.LockedStream:
        locked: eventstore.LockedStream = real(stream_id, **kwargs)  # type: ignore[arg-type]
        reads.append(len(locked.events))
        if len(reads) == 1:
            return eventstore.LockedStream(events=locked.events[:-1])
        return locked

    monkeypatch.setattr(eventstore, "lock_and_read", stale_once)
    result = handlers.note_add(patient_id=patient, text="second", actor=actor)

    assert reads == [2, 2] and result.version == 3
    assert [e.version for e in eventstore.read_stream(patient)] == [1, 2, 3]
    profile = PatientProfile.objects.get(patient_id=patient)
    assert (profile.version, profile.notes_count) == (3, 2)


def _look_from_another_connection(stream: uuid.UUID) -> tuple[bool, list[int]]:
    """(is the append lock free, the stream's versions) as another connection sees them."""

    def look(i: int) -> tuple[bool, list[int]]:
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute("SELECT pg_try_advisory_xact_lock(%s)", [eventstore.APPEND_LOCK_KEY])
            free = cursor.fetchone()[0]
            return free, [e.version for e in eventstore.read_stream(stream)]

    seen: list[tuple[bool, list[int]]] = together(1, look)
    return seen[0]


def test_an_append_that_ends_the_transaction_commits_before_its_block_exits():
    """A command's last append in the transaction the store owns: COMMIT travels with the
    INSERT, so other commands see the events and take the append lock while this caller is
    still busy."""
    stream = uuid.uuid4()

    with eventstore.command_transaction() as command:
        command.append(
            stream, [_note("Asked for a callback")], expected_version=0, metadata={}, last=True
        )
        seen_meanwhile = _look_from_another_connection(stream)

    assert seen_meanwhile == (True, [1])
    assert [e.version for e in eventstore.read_stream(stream)] == [1]


def test_an_append_inside_an_enclosing_block_leaves_the_commit_to_that_block():
    stream = uuid.uuid4()

    with pytest.raises(RuntimeError, match="form was abandoned"), transaction.atomic():
        with eventstore.command_transaction(in_callers=True) as command:
            command.append(
                stream, [_note("Draft note")], expected_version=0, metadata={}, last=True
            )
        assert _look_from_another_connection(stream) == (False, [])
        raise RuntimeError("the form was abandoned")

    assert eventstore.read_stream(stream) == []


# --- a command's BEGIN travels with its first statements -------------------------------------


def _client_messages(tmp_path, run):  # type: ignore[no-untyped-def]
    """The protocol messages this connection sent while `run` ran (libpq's trace)."""
    connection.ensure_connection()
    pgconn = connection.connection.pgconn
    trace = tmp_path / "trace.txt"
    with trace.open("w") as out:
        pgconn.trace(out.fileno())
        pgconn.set_trace_flags(Trace.SUPPRESS_TIMESTAMPS)
        try:
            run()
        finally:
            pgconn.untrace()
    return [line.split("\t") for line in trace.read_text().splitlines() if line.startswith("F")]


def test_a_command_sends_its_begin_with_its_first_statements(register, actor, tmp_path):
    patient = register()
    handlers.note_add(patient_id=patient, text="Kept state", actor=actor)

    sent = _client_messages(
        tmp_path, lambda: handlers.note_add(patient_id=patient, text="Called", actor=actor)
    )

    kinds = [message[2] for message in sent]
    statements = [m[3] for m in sent if m[2] == "Parse"]
    # Two round trips: [BEGIN, lock, read] then [profile, INSERT (append lock, wake-up),
    # COMMIT]: six statements.
    assert kinds.count("Sync") == 2
    assert len(statements) == 6
    assert statements[0] == ' "" "BEGIN" 0'
    assert "pg_advisory_xact_lock" in statements[1]
    assert "pg_advisory_xact_lock" in statements[4] and "pg_notify" in statements[4]
    assert kinds.index("Sync") > kinds.index("Parse") + 4  # BEGIN did not go alone
    assert [e.version for e in eventstore.read_stream(patient)][-1] == 3
    assert PatientProfile.objects.get(patient_id=patient).notes_count == 2
    assert connection.connection.autocommit and not connection.in_atomic_block


def test_a_command_refused_after_its_first_round_trip_rolls_back_and_leaves_it_idle(
    register, actor
):
    from psycopg.pq import TransactionStatus

    from crm.domain.errors import InvalidInput

    patient = register()
    with pytest.raises(InvalidInput):
        handlers.note_add(patient_id=patient, text="   ", actor=actor)

    status = connection.connection.pgconn.transaction_status
    assert status == TransactionStatus.IDLE and connection.connection.autocommit
    # The stream's lock went with the rollback: another connection takes it at once.
    key = int.from_bytes(patient.bytes[:4], "big", signed=True)

    def try_the_stream_lock(i: int) -> bool:
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute(
                "SELECT pg_try_advisory_xact_lock(%s, %s)", [postgres.PATIENT_LOCK_CLASS, key]
            )
            return bool(cursor.fetchone()[0])

    assert together(1, try_the_stream_lock) == [True]
    handlers.note_add(patient_id=patient, text="Called", actor=actor)
    assert [e.version for e in eventstore.read_stream(patient)] == [1, 2]


def test_an_error_inside_a_pipeline_is_raised_and_its_echo_not_logged(caplog):
    """A statement that fails while the pipeline is still being filled (an INSERT whose
    version another writer has already committed fails at once): the error is raised to
    the caller, and psycopg's "pipeline aborted" on leaving the block, its echo, is not
    logged as a warning of its own."""
    conn = postgres.pg_connection()
    caplog.set_level(logging.WARNING, logger="psycopg")
    for _ in range(3):  # measured: the echo comes from the second run on, not the first
        with pytest.raises(psycopg.errors.DivisionByZero), conn.pipeline():
            psycopg.Cursor(conn).execute("BEGIN")
            psycopg.Cursor(conn).execute("SELECT 1 / 0")
            time.sleep(0.1)  # its error is back before the next statement is queued
            psycopg.Cursor(conn).execute("COMMIT")
        conn.rollback()

    assert [r for r in caplog.records if r.name == "psycopg"] == []
    # Any other error psycopg ignores on leaving a pipeline is still logged.
    logging.getLogger("psycopg").warning("error ignored terminating %r: %s", conn, "other")
    logged = [r.getMessage() for r in caplog.records if r.name == "psycopg"]
    assert logged == [f"error ignored terminating {conn!r}: other"]


def test_several_streams_are_locked_by_one_statement_until_the_transaction_ends():
    streams = [uuid.uuid4() for _ in range(5)]
    keys = [int.from_bytes(s.bytes[:4], "big", signed=True) for s in streams]

    def try_the_locks(i: int) -> list[bool]:
        with transaction.atomic(), connection.cursor() as cursor:
            taken = []
            for key in keys:
                cursor.execute(
                    "SELECT pg_try_advisory_xact_lock(%s, %s)", [postgres.PATIENT_LOCK_CLASS, key]
                )
                taken.append(bool(cursor.fetchone()[0]))
            return taken

    with transaction.atomic(), connection.cursor() as cursor:
        eventstore.lock_streams(*streams, streams[0])
        cursor.execute(
            "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND pid = pg_backend_pid()"
        )
        assert cursor.fetchone()[0] == 5
        assert together(1, try_the_locks) == [[False] * 5]
    assert together(1, try_the_locks) == [[True] * 5]
