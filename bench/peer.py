"""`commands`' peer: the same load-decide-save per command through the eventsourcing library
(its PostgreSQL recorder), an aggregate per patient, in a schema of its own."""

from __future__ import annotations

import datetime as dt
import random
import uuid
from collections.abc import Callable
from typing import Any
from urllib.parse import unquote, urlsplit

import psycopg

from bench import streams
from bench.database import conninfo
from crm.domain import events as ev

# The library's tables live in this schema of the benchmark's database, apart from ours;
# it is dropped and created again for every run, so its streams are as fresh as ours.
SCHEMA = "eventsourcing_peer"
# Our handlers re-decide a conflicting command this many times (CONFLICT_RETRIES).
RETRIES = 3
APPOINTMENT_TYPES = [t.value for t in ev.AppointmentType]


class Conflict(Exception):
    """A command whose aggregate another client saved first, `RETRIES` times in a row."""


def _classes() -> tuple[type[Any], type[Any], type[Exception]]:
    """The aggregate, the application and the library's conflict error, imported late: the
    library is a bench-only extra (`pip install -e '.[bench]'`)."""
    from eventsourcing.persistence import IntegrityError

    from bench.peer_model import Clinic, Patient

    return Patient, Clinic, IntegrityError


def environment(url: str, *, create_table: bool = False) -> dict[str, str]:
    """The library's settings (its POSTGRES_* keys) for the database `url` names: a pool of
    one connection and one spare per process, as each of our clients has one connection, and
    the aggregate cache with fast-forward (each get reads only the events after the cached
    version, as our handlers resume their kept state), no snapshots."""
    parts = urlsplit(url)
    return {
        "PERSISTENCE_MODULE": "eventsourcing.postgres",
        "POSTGRES_DBNAME": unquote(parts.path.lstrip("/")),
        "POSTGRES_HOST": parts.hostname or "127.0.0.1",
        "POSTGRES_PORT": str(parts.port or 5432),
        "POSTGRES_USER": unquote(parts.username or "postgres"),
        "POSTGRES_PASSWORD": unquote(parts.password or ""),
        "POSTGRES_SCHEMA": SCHEMA,
        "POSTGRES_POOL_SIZE": "1",
        "POSTGRES_MAX_OVERFLOW": "1",
        "AGGREGATE_CACHE_MAXSIZE": "100000",
        "AGGREGATE_CACHE_FASTFORWARD": "y",
        # The tables are created once, by `reset`: clients creating them at once collide.
        "CREATE_TABLE": "y" if create_table else "n",
    }


def application(url: str, *, create_table: bool = False) -> Any:
    _, clinic, _ = _classes()
    return clinic(env=environment(url, create_table=create_table))


def reset(url: str) -> None:
    """The library's schema, empty (its tables are created by the first application)."""
    with psycopg.connect(conninfo(url), autocommit=True) as conn:
        conn.execute(f"DROP SCHEMA IF EXISTS {SCHEMA} CASCADE")
        conn.execute(f"CREATE SCHEMA {SCHEMA}")
    application(url, create_table=True).close()


def seed(url: str, *, patients: int, min_length: int, max_length: int, rng_seed: int) -> list[str]:
    """`patients` aggregates, each registered then given min_length-1 to max_length-1 more
    events of the same kinds as the benchmark's commands; 25 aggregates per save."""
    patient_class, _, _ = _classes()
    app = application(url)
    rng = random.Random(rng_seed)
    now = dt.datetime.now(dt.UTC)
    ids: list[str] = []
    batch: list[Any] = []
    try:
        for n in range(patients):
            patient = patient_class(name=f"Peer Patient {n}", phone=f"+1555010{n % 100:02d}")
            for _ in range(rng.randint(min_length, max_length) - 1):
                _command(patient, rng, "agent.seed", now)
            batch.append(patient)
            ids.append(str(patient.id))
            if len(batch) == 25:
                app.save(*batch)
                batch = []
        if batch:
            app.save(*batch)
    finally:
        app.close()
    return ids


def _command(patient: Any, rng: random.Random, agent: str, now: dt.datetime) -> str:
    """The benchmark's mix with the same draws as bench.load's: 75% calls, 15% notes, 10%
    bookings."""
    roll = rng.random()
    if roll < 0.75:
        connected = rng.random() < 0.7
        duration = rng.randint(60, 900) if connected else rng.randint(0, 45)
        patient.log_call(
            direction=rng.choice(["inbound", "outbound"]),
            agent=agent,
            started_at=now - dt.timedelta(seconds=duration + rng.randint(5, 600)),
            duration_seconds=duration,
            disposition="connected" if connected else "voicemail",
            reason=rng.choice(streams.REASONS),
            resolved_first_contact=connected and rng.random() < 0.6,
            hold_seconds=min(duration, rng.randint(0, 120)),
            wrap_up_seconds=rng.randint(0, 90),
            now=now,
        )
        return "call_log"
    if roll < 0.90:
        patient.add_note(
            text=rng.choice(streams.NOTES), author=agent, restricted=rng.random() < 0.1
        )
        return "note_add"
    patient.schedule_appointment(
        appointment_type=rng.choice(APPOINTMENT_TYPES),
        starts_at=(now + dt.timedelta(days=rng.randint(1, 60))).replace(
            minute=0, second=0, microsecond=0
        ),
        duration_minutes=30,
        provider=rng.choice(streams.PROVIDERS),
        location=rng.choice(streams.LOCATIONS),
        now=now,
    )
    return "appointment_schedule"


def command_mix(
    url: str, client: int, own: tuple[str, ...], everyone: tuple[str, ...], overlap: float
) -> tuple[Callable[[], str], type[Exception]]:
    """A client's operation: per command, `repository.get` (a copy of the cached aggregate
    brought up to date by a SELECT of the events after its version), decide on it, and
    `save` (the library's own pipeline: BEGIN, then SET lock_timeout, LOCK TABLE ... IN
    EXCLUSIVE MODE, NOTIFY and the INSERT, then COMMIT; psycopg traces show 6 round trips
    with the SELECT). A version another client took first runs the same command again on a
    fresh aggregate, at most `RETRIES` times, then raises `Conflict`."""
    _, _, integrity_error = _classes()
    app = application(url)
    rng = random.Random(client)
    mine = [uuid.UUID(p) for p in own]
    anyone = [uuid.UUID(p) for p in everyone]
    agent = f"agent.bench{client}"

    def command() -> str:
        pool = anyone if rng.random() < overlap else mine
        patient_id = pool[rng.randrange(len(pool))]
        state = rng.getstate()
        for _ in range(RETRIES):
            rng.setstate(state)  # the same command again, on a fresh aggregate
            patient = app.repository.get(patient_id)
            kind = _command(patient, rng, agent, dt.datetime.now(dt.UTC))
            try:
                app.save(patient)
            except integrity_error:
                continue
            return kind
        raise Conflict(patient_id)

    return command, Conflict
