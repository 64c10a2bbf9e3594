"""The benchmark's COPY seeder stores what appending the same streams stores: the store and a
rebuild cannot tell the two logs apart (bench.copyseed)."""

from __future__ import annotations

import datetime as dt
import json
import random
import uuid

import pytest
from django.db import transaction

from bench import copyseed, streams
from bench.seed import append_stream
from crm import eventstore
from crm.eventstore import ConcurrencyConflict, NewEvent
from crm.models import Event, PatientProfile
from crm.projections import profile

pytestmark = [pytest.mark.postgres, pytest.mark.django_db]

NOW = dt.datetime(2026, 11, 3, 14, 0, tzinfo=dt.UTC)
LENGTHS = [20, 10, 15, 1, 13, 20, 11, 17]  # 1: a patient who only registered
STORED = ["version", "event_type", "schema_version", "data", "metadata", "occurred_at"]


def _seeded() -> tuple[list[uuid.UUID], list[uuid.UUID]]:
    """The same streams appended (as bench.seed does) and COPY-seeded, under other ids."""
    rng = random.Random(17)
    histories = [streams.patient_stream(rng, length=20, now=NOW) for _ in LENGTHS]
    metadata = [streams.metadata(rng) for _ in LENGTHS]
    appended = [uuid.uuid4() for _ in LENGTHS]
    copied = [uuid.uuid4() for _ in LENGTHS]
    with transaction.atomic():
        for patient, history, length, meta in zip(
            appended, histories, LENGTHS, metadata, strict=True
        ):
            append_stream(patient, history[:length], meta)
    batch = [
        copyseed.SeedStream(patient, copyseed.template(history), length, meta)
        for patient, history, length, meta in zip(copied, histories, LENGTHS, metadata, strict=True)
    ]
    with transaction.atomic():
        assert copyseed.copy_streams(batch) == sum(LENGTHS)
    return appended, copied


def _profile(patient: uuid.UUID) -> dict[str, object]:
    row = PatientProfile.objects.filter(patient_id=patient).values().get()
    return {k: v for k, v in row.items() if k not in ("patient_id", "updated_at")}


def _rows(stream: uuid.UUID) -> list[dict[str, object]]:
    return list(Event.objects.filter(stream_id=stream).order_by("version").values(*STORED))


def _renamed(copied: uuid.UUID, appended: uuid.UUID) -> dict[str, str]:
    """The copy's inner ids (visits, calls...) against the appended stream's, one for one."""
    found = [
        [name for row in _rows(stream) for name in copyseed.UUID.findall(json.dumps(row["data"]))]
        for stream in (copied, appended)
    ]
    pairs = set(zip(*found, strict=True))
    assert len(pairs) == len({new for new, _ in pairs}) == len({old for _, old in pairs})
    return dict(pairs)


def _translated(value: object, names: dict[str, str]) -> object:
    if isinstance(value, str):
        return copyseed.UUID.sub(lambda found: names[found.group()], value)
    if isinstance(value, dict):
        return {k: _translated(v, names) for k, v in value.items()}
    if isinstance(value, list):
        return [_translated(v, names) for v in value]
    return value


def test_a_copied_stream_reads_back_as_the_appended_one_with_its_own_inner_ids():
    appended, copied = _seeded()

    for a, c, length in zip(appended, copied, LENGTHS, strict=True):
        first, second = eventstore.read_stream(a), eventstore.read_stream(c)
        assert [e.version for e in second] == list(range(1, length + 1))
        assert [(e.event_type, e.occurred_at, e.metadata) for e in second] == [
            (e.event_type, e.occurred_at, e.metadata) for e in first
        ]
        assert len({e.recorded_at for e in second}) == 1  # one append
        names = _renamed(c, a)
        assert length == 1 or not set(names) & set(names.values())  # none shared
        renamed = [{**row, "data": _translated(row["data"], names)} for row in _rows(c)]
        assert renamed == _rows(a)


def test_the_copy_takes_positions_in_one_run_after_every_earlier_event_and_before_later_ones():
    appended, copied = _seeded()
    everything = eventstore.read_all(0, 10_000)
    positions = [e.position for e in everything]
    assert positions == sorted(set(positions))
    ours = [e for e in everything if e.stream_id in set(copied)]
    assert len(ours) == sum(LENGTHS)
    run = [e.position for e in ours]
    assert run == list(range(run[0], run[0] + len(run)))  # one COPY, under the append lock
    assert min(run) > max(e.position for e in everything if e.stream_id in set(appended))
    # ...in the order the streams were given, each stream's versions in order.
    assert [(e.stream_id, e.version) for e in ours] == [
        (patient, v)
        for patient, length in zip(copied, LENGTHS, strict=True)
        for v in range(1, length + 1)
    ]

    later = uuid.uuid4()
    with transaction.atomic():
        eventstore.append(later, [_note()], expected_version=0)
    assert eventstore.read_stream(later)[0].position > max(run)


def test_a_copied_stream_takes_the_next_append_and_refuses_a_stale_one():
    _, copied = _seeded()
    patient, length = copied[0], LENGTHS[0]

    with pytest.raises(ConcurrencyConflict), transaction.atomic():
        eventstore.append(patient, [_note()], expected_version=length - 1)
    with transaction.atomic():
        result = eventstore.append(patient, [_note()], expected_version=length)

    assert result.version == length + 1
    assert [e.version for e in eventstore.read_stream(patient)] == list(range(1, length + 2))


def test_copied_profiles_are_the_appended_ones_and_a_rebuild_writes_them_again():
    appended, copied = _seeded()
    for a, c in zip(appended, copied, strict=True):
        assert _translated(_profile(c), _renamed(c, a)) == _profile(a)
        last = eventstore.read_stream(c)[-1]
        assert PatientProfile.objects.get(patient_id=c).updated_at == last.recorded_at
    before = {p["patient_id"]: p for p in PatientProfile.objects.values()}
    assert set(before) == {*appended, *copied}

    assert profile.rebuild() == 2 * sum(LENGTHS)

    assert {p["patient_id"]: p for p in PatientProfile.objects.values()} == before


def _note() -> NewEvent:
    from crm.domain import events as ev

    return NewEvent(ev.NoteAdded(note_id=uuid.uuid4(), text="Called back", author="agent.ana"), NOW)
