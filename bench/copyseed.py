"""Seeding large logs with COPY: bench.streams' patient streams, stored as the rows and
profiles `crm.eventstore.append` and the inline projection write (tests/bench/test_copyseed.py)."""

from __future__ import annotations

import datetime as dt
import json
import random
import re
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from multiprocessing.sharedctypes import Synchronized
from typing import TYPE_CHECKING, Any

import psycopg

from bench import streams

if TYPE_CHECKING:
    from bench.seed import SeedJob

# Genuine streams each seeding process generates, then stores again and again under fresh
# patient ids (and fresh ids for its visits, calls, notes...), cut to the planned lengths:
# generating and serializing a stream costs ~30x storing its rows.
POOL = 2000
# ~7,500 events: a COPY holds the append lock for a fraction of a second, as a large
# batch of appends would, and one process's generating overlaps the other's COPY.
STREAMS_PER_COPY = 500
UUID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")
COPY_EVENTS_SQL = (
    "COPY crm_event (stream_id, version, event_type, schema_version, data, metadata, "
    "occurred_at, recorded_at) FROM STDIN"
)


@dataclass(frozen=True, slots=True)
class Template:
    """A stream's events as stored (type, schema version, JSON data, occurred_at) and, for
    each length it may be cut to, its profile row with patient_id and updated_at left to fill."""

    events: list[tuple[str, int, str, dt.datetime]]
    profiles: dict[int, list[Any]]

    def renewed(self, length: int) -> tuple[list[tuple[str, int, str, dt.datetime]], list[Any]]:
        """The first `length` events and their profile row, each id they carry (visits,
        calls, crises...) a fresh one, so no two copies share a visit or a suggestion."""
        fresh: dict[str, str] = {}

        def renew(found: re.Match[str]) -> str:
            old = found.group()
            new = fresh.get(old)
            if new is None:
                new = fresh[old] = str(uuid.uuid4())
            return new

        events = [
            (kind, schema, UUID.sub(renew, data), at)
            for kind, schema, data, at in self.events[:length]
        ]
        row = [
            UUID.sub(renew, c) if isinstance(c, str) else c for c in self.profiles.get(length, ())
        ]
        return events, row


@dataclass(frozen=True, slots=True)
class SeedStream:
    """One new patient: the first `length` events of `template`, with its append's metadata."""

    patient_id: uuid.UUID
    template: Template
    length: int
    metadata: dict[str, Any]


def template(history: list[streams.Happened], *, min_length: int = 1) -> Template:
    """Serialize a generated stream once: its rows, and its profile at every length from
    `min_length` on, folded as the inline projection folds it."""
    from crm.domain.recorded import RecordedEvent
    from crm.domain.state import PatientState
    from crm.projections import profile

    placeholder = uuid.UUID(int=0)
    unset = dt.datetime.min.replace(tzinfo=dt.UTC)  # recorded_at: the COPY's own
    state = PatientState(patient_id=placeholder)
    rows, profiles = [], {}
    for version, (event, at) in enumerate(history, start=1):
        rows.append((event.event_type, event.schema_version, json.dumps(event.to_data()), at))
        state.apply(RecordedEvent(0, placeholder, version, event, at, unset))
        if version >= min_length and state.registered:
            profiles[version] = profile._row(state)
    return Template(rows, profiles)


def copy_streams(batch: Sequence[SeedStream]) -> int:
    """Store new streams in the caller's transaction (Django's connection), as appends at
    expected version 0 with their profiles projected inline would; returns events stored.

    The same columns and values as `crm.eventstore.postgres.insert`: versions from 1,
    `to_data()` as JSON, one `recorded_at` per append; positions from the event table's
    own sequence, taken under the store's append lock held to COMMIT, so each COPY's
    positions are contiguous and commit in position order, as appends' are (I4).
    """
    from django.db import connection
    from django.utils import timezone

    from crm import eventstore
    from crm.projections import profile

    if not connection.in_atomic_block:
        raise RuntimeError("copy_streams() must run inside transaction.atomic()")
    conn = eventstore.pg_connection()
    recorded_at = timezone.now()
    updated_at = 1 + profile._FIELDS.index("updated_at")  # the state's last recorded_at
    stored = 0
    renewed = [item.template.renewed(item.length) for item in batch]
    with connection.wrap_database_errors, psycopg.Cursor(conn) as cursor:
        # The inline projection's rows first, as an append writes them before its lock.
        with cursor.copy(profile._COPY_SQL) as copy:
            for item, (_, row) in zip(batch, renewed, strict=True):
                if row:
                    row[0], row[updated_at] = item.patient_id, recorded_at
                    copy.write_row(row)
        eventstore.take_append_lock()
        with cursor.copy(COPY_EVENTS_SQL) as copy:
            for item, (events, _) in zip(batch, renewed, strict=True):
                meta = json.dumps(item.metadata)
                for version, (event_type, schema, data, at) in enumerate(events, start=1):
                    copy.write_row(
                        (item.patient_id, version, event_type, schema, data, meta, at, recorded_at)
                    )
                stored += item.length
    return stored


def seed_by_copy(job: SeedJob, progress: Synchronized[int]) -> list[uuid.UUID]:
    """bench.seed's worker, COPY path: `POOL` streams generated, then stored under fresh
    patient ids at the planned lengths, `STREAMS_PER_COPY` a transaction."""
    from bench.database import setup_django
    from bench.seed import lengths

    setup_django(job.url)
    from django.db import connection, transaction
    from django.utils import timezone

    rng = random.Random()  # fresh entropy: a top-up run must not reuse earlier stream ids
    now = timezone.now()
    pool = [
        template(
            streams.patient_stream(
                rng,
                length=job.max_length,
                now=now,
                phone=rng.choice(job.phones) if job.phones else None,
            ),
        )
        for _ in range(POOL)
    ]
    planned = lengths(
        rng,
        min_length=job.min_length,
        max_length=job.max_length,
        patients=job.patients,
        events=job.events,
    )
    ids: list[uuid.UUID] = []
    batch: list[SeedStream] = []
    for length in [*planned, 0]:
        if length:
            patient_id = uuid.UUID(int=rng.getrandbits(128), version=4)
            batch.append(SeedStream(patient_id, rng.choice(pool), length, streams.metadata(rng)))
        if batch and (len(batch) == STREAMS_PER_COPY or not length):
            with transaction.atomic(durable=True):
                stored = copy_streams(batch)
            ids += [item.patient_id for item in batch]
            with progress.get_lock():
                progress.value += stored if job.events is not None else len(batch)
            batch = []
    connection.close()
    return ids
