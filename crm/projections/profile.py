"""The patient profile, projected inline in the transaction of every append to a stream; a row
is a pure function of the folded state, so a rebuild gives the very same row (I5)."""

from __future__ import annotations

import functools
import json
import uuid
from collections.abc import Callable, Iterable, Iterator
from typing import Any

import psycopg
from django.conf import settings
from django.db import connection, models, transaction

from crm import eventstore
from crm.domain.phones import timezone_for_phone
from crm.domain.recorded import RecordedEvent
from crm.domain.state import PatientState, fold
from crm.eventstore import UnreadableEvent
from crm.eventstore.records import describe
from crm.models import PatientProfile
from crm.projections import parking, runner

NAME = "profile"
_FIELDS = [f.name for f in PatientProfile._meta.concrete_fields if f.name != "patient_id"]
# PostgreSQL writes the row in plain SQL, one upsert inline, COPY in a rebuild: part of the
# hot-path work that took commands from 327 to 771/s at 8 clients (docs/benchmarks-notebook.md,
# 2026-11-23). Columns in the order of `_row`: patient_id, then `_FIELDS`.
_TABLE = PatientProfile._meta.db_table
_JSON = frozenset(
    name for name in _FIELDS if isinstance(PatientProfile._meta.get_field(name), models.JSONField)
)
_COLUMNS = ["patient_id", *_FIELDS]  # each field's column is its name
_UPSERT_SQL = (
    f"INSERT INTO {_TABLE} ({', '.join(_COLUMNS)}) VALUES ("
    + ", ".join("%s::jsonb" if name in _JSON else "%s" for name in _COLUMNS)
    + ") ON CONFLICT (patient_id) DO UPDATE SET "
    + ", ".join(f"{name} = EXCLUDED.{name}" for name in _FIELDS)
)
_COPY_SQL = f"COPY {_TABLE} ({', '.join(_COLUMNS)}) FROM STDIN"
assert all(PatientProfile._meta.get_field(name).column == name for name in _COLUMNS)  # type: ignore[union-attr]

# A pure function of the number, and parsing it is a good part of a profile's cost.
_timezone_for_phone = functools.lru_cache(maxsize=4096)(timezone_for_phone)


def profile_values(state: PatientState) -> dict[str, Any]:
    """The profile columns for a patient's state."""
    assert state.registered_at is not None and state.date_of_birth is not None
    assert state.last_recorded_at is not None
    timezone, timezone_source = _timezone(state)
    upcoming = state.open_appointments()
    crisis = state.last_crisis
    return {
        "version": state.version,
        "registered_at": state.registered_at,
        "updated_at": state.last_recorded_at,
        "first_name": state.first_name,
        "last_name": state.last_name,
        "preferred_name": state.preferred_name,
        "display_name": state.display_name,
        "search_name": " ".join(
            part.lower()
            for part in (state.first_name, state.preferred_name, state.last_name)
            if part
        ),
        "date_of_birth": state.date_of_birth,
        "language": state.language,
        "phone": state.phone,
        "email": state.email,
        "timezone": timezone,
        "timezone_source": timezone_source,
        "consents": {
            key: {"granted": c.granted, "at": c.at.isoformat(), "source": c.source}
            for key, c in sorted(state.consents.items())
        },
        "crisis_flag": state.crisis_open,
        "crisis_contacts": state.crisis_contacts,
        "last_crisis_at": crisis.at if crisis else None,
        "last_crisis": None
        if crisis is None
        else {
            "crisis_id": str(crisis.crisis_id),
            "risk_level": crisis.risk_level.value,
            "handoff": crisis.handoff.value,
            "safety_plan": crisis.safety_plan.value,
        },
        "deceased": state.deceased,
        "date_of_death": state.date_of_death,
        "merged_into": state.merged_into,
        "last_contact_at": state.last_contact_at,
        "last_visit_by_type": {
            kind: at.isoformat() for kind, at in sorted(state.last_visit_by_type.items())
        },
        "upcoming_appointments": [
            {
                "appointment_id": str(a.appointment_id),
                "appointment_type": a.appointment_type.value,
                "modality": a.modality.value,
                "starts_at": a.starts_at.isoformat(),
                "duration_minutes": a.duration_minutes,
                "provider": a.provider,
                "location": a.location,
                "confirmed": a.confirmed,
            }
            for a in upcoming
        ],
        "next_appointment_at": upcoming[0].starts_at if upcoming else None,
        "calls_count": state.calls,
        "no_show_count": state.no_shows,
        "notes_count": state.notes,
        "identifiers": [
            [system, value, kind] for (system, value), kind in state.identifiers.items()
        ],
    }


def _timezone(state: PatientState) -> tuple[str, str]:
    if state.timezone:
        return state.timezone, "explicit"
    if state.phone:
        zone = _timezone_for_phone(state.phone)
        if zone:
            return zone, "phone"
    return str(settings.TIME_ZONE), "clinic"


def save_profile(state: PatientState) -> None:
    """Insert or update one patient's profile in a single statement."""
    if not state.registered:
        return
    if connection.vendor == "postgresql":
        # Queued, not awaited, inside psycopg's pipeline mode (see eventstore.append).
        with connection.wrap_database_errors:
            psycopg.Cursor(eventstore.pg_connection()).execute(_UPSERT_SQL, _row(state))
        return
    PatientProfile.objects.bulk_create(
        [PatientProfile(patient_id=state.patient_id, **profile_values(state))],
        update_conflicts=True,
        unique_fields=["patient_id"],
        update_fields=_FIELDS,
    )


def rebuild(*, progress: Callable[[int], object] | None = None, batch_size: int = 1000) -> int:
    """Drop every profile and replay the whole log into fresh ones; returns events read.

    Runs in one transaction holding the append lock, so no command interleaves and
    readers see the old profiles until the new ones commit. Memory stays constant: the
    log is streamed stream by stream and profiles are written in batches.
    """
    count = 0
    write = _copy if connection.vendor == "postgresql" else _bulk_create
    with transaction.atomic():
        eventstore.take_append_lock()
        PatientProfile.objects.all().delete()
        parking.clear(NAME)
        batch: list[PatientState] = []
        for state, events_read in _states(eventstore.iter_by_stream(with_metadata=False)):
            count += events_read
            if progress is not None:
                progress(events_read)
            if state.registered:
                batch.append(state)
            if len(batch) >= batch_size:
                write(batch)
                batch.clear()
        write(batch)
    return count


def _row(state: PatientState) -> list[Any]:
    """The profile's columns in `_COLUMNS` order, JSON columns as text (NULL stays NULL)."""
    values = profile_values(state)
    row: list[Any] = [state.patient_id]
    for name in _FIELDS:
        value = values[name]
        row.append(json.dumps(value) if name in _JSON and value is not None else value)
    return row


def _copy(states: list[PatientState]) -> None:
    if not states:
        return
    with (
        connection.wrap_database_errors,
        psycopg.Cursor(eventstore.pg_connection()) as cursor,
        cursor.copy(_COPY_SQL) as copy,
    ):
        for state in states:
            copy.write_row(_row(state))


def _bulk_create(states: list[PatientState]) -> None:
    PatientProfile.objects.bulk_create(
        [PatientProfile(patient_id=s.patient_id, **profile_values(s)) for s in states]
    )


def _states(
    events: Iterable[RecordedEvent | UnreadableEvent],
) -> Iterator[tuple[PatientState, int]]:
    """Fold consecutive events of each stream; yield each state with its event count. A
    stream with an event that cannot be read or applied is parked (I11): its profile is
    what the events before that one made it."""
    current: uuid.UUID | None = None
    stream: list[RecordedEvent] = []
    failed: UnreadableEvent | RecordedEvent | None = None
    error = ""
    seen = 0
    for item in events:
        if item.stream_id != current:
            if current is not None:
                yield _folded(current, stream, failed, error), seen
            current, stream, failed, seen = item.stream_id, [], None, 0
        seen += 1
        if failed is not None:
            continue
        if isinstance(item, UnreadableEvent):
            failed, error = item, item.error
        else:
            stream.append(item)
    if current is not None:
        yield _folded(current, stream, failed, error), seen


def _folded(
    stream_id: uuid.UUID,
    stream: list[RecordedEvent],
    failed: UnreadableEvent | RecordedEvent | None,
    error: str,
) -> PatientState:
    state = PatientState(patient_id=stream_id)
    for index, recorded in enumerate(stream):
        try:
            state.apply(recorded)
        except Exception as exc:  # folded again below, without the half-applied event
            failed, error = recorded, describe(exc)
            stream = stream[:index]
            state = PatientState(patient_id=stream_id)
            state.apply_all(stream)
            break
    if failed is not None:
        parking.park(NAME, failed, error)
    return state


def retry(stream_id: uuid.UUID) -> bool:
    """Fold a stream the rebuild parked and write its profile; True when it is released."""
    with transaction.atomic():
        parked = parking.take(NAME, stream_id)
        if parked is None:
            return True
        try:
            with transaction.atomic():
                save_profile(fold(stream_id, eventstore.read_stream(stream_id)))
        except Exception as exc:
            if runner.the_databases_trouble(exc):
                raise
            parking.park_at(
                NAME,
                stream_id,
                position=parked.position,
                event_type=parked.event_type,
                error=describe(exc),
            )
            parking.failed_again(parked)
            return False
        parking.release(parked)
        return True
