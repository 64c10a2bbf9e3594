"""A batch of commands through execute_many: in order, each with its own metadata and time,
replayed by its keys, and all or nothing."""

from __future__ import annotations

import datetime as dt
import uuid

import pytest

from crm.domain import events as ev
from crm.domain.errors import CommandRefused
from crm.domain.state import PatientState
from crm.eventstore.fingerprints import fingerprint
from crm.handlers.base import execute_many
from crm.models import CommandRecord, Event, PatientProfile


def _note(text: str, author: str = "frontdesk.one") -> ev.NoteAdded:
    return ev.NoteAdded(note_id=uuid.uuid5(uuid.NAMESPACE_URL, text), text=text, author=author)


def _command(patient_id, actor, text, at, key=None, **more):  # type: ignore[no-untyped-def]
    spec = {
        "patient_id": patient_id,
        "actor": actor,
        "decide": lambda state: [_note(text)],
        "occurred_at": at,
        **more,
    }
    if key is not None:
        spec |= {"idempotency_key": key, "fingerprint": fingerprint("note", {"text": text})}
    return spec


@pytest.mark.django_db
def test_a_batch_appends_in_order_each_command_with_its_own_metadata_and_time(register, actor, now):
    first, second = register(), register(first_name="Avery", phone="(617) 555-0135")
    at = [now - dt.timedelta(days=d) for d in (30, 20, 10)]
    before = Event.objects.count()

    results = execute_many(
        [
            _command(first, actor, "Asked about parking", at[0], key="batch-1"),
            _command(second, actor, "Prefers mornings", at[1], key="batch-2"),
            _command(first, actor, "Called back", at[2], key="batch-3", provenance={"source": "t"}),
        ]
    )

    rows = list(Event.objects.order_by("position")[before:])
    assert [(r.stream_id, r.data["text"]) for r in rows] == [
        (first, "Asked about parking"),
        (second, "Prefers mornings"),
        (first, "Called back"),
    ]
    assert [r.occurred_at for r in rows] == at
    assert [r.metadata["idempotency_key"] for r in rows] == ["batch-1", "batch-2", "batch-3"]
    assert len({r.metadata["correlation_id"] for r in rows}) == 3
    assert rows[2].metadata["source"] == "t" and "source" not in rows[0].metadata
    assert [r.version for r in rows] == [
        results[0].version,
        results[1].version,
        rows[0].version + 1,
    ]
    assert [e.position for res in results for e in res.events] == [r.position for r in rows]
    assert PatientProfile.objects.get(patient_id=first).notes_count == 2
    assert PatientProfile.objects.get(patient_id=first).version == rows[2].version


@pytest.mark.django_db
def test_a_batch_sent_again_replays_every_command_and_appends_nothing(register, actor, now):
    patient = register()
    batch = [_command(patient, actor, f"Note {n}", now, key=f"again-{n}") for n in range(3)]
    first = execute_many(batch)
    count = Event.objects.count()

    again = execute_many(batch)

    assert Event.objects.count() == count
    assert all(result.duplicate for result in again)
    assert [r.events for r in again] == [r.events for r in first]


@pytest.mark.django_db
def test_a_refused_command_leaves_the_whole_batch_unwritten(register, actor, now):
    patient = register()
    count, keys = Event.objects.count(), CommandRecord.objects.count()

    def refuse(state: PatientState) -> list[ev.DomainEvent]:
        raise CommandRefused("not this one")

    with pytest.raises(CommandRefused):
        execute_many(
            [
                _command(patient, actor, "Kept?", now, key="all-or-nothing-1"),
                {
                    **_command(patient, actor, "Refused", now, key="all-or-nothing-2"),
                    "decide": refuse,
                },
            ]
        )

    assert Event.objects.count() == count
    assert CommandRecord.objects.count() == keys
    # The patient's state kept by the command path still stands where the log does.
    execute_many([_command(patient, actor, "After", now, key="all-or-nothing-3")])
    versions = list(Event.objects.filter(stream_id=patient).values_list("version", flat=True))
    assert versions == list(range(1, len(versions) + 1))
