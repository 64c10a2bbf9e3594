"""`commands`' floor: a command's own SQL statements alone through psycopg, nothing decided in
Python, on scratch copies of the tables: the most any Python client issuing them could do."""

from __future__ import annotations

import datetime as dt
import random
import re
import uuid
from typing import Any

import psycopg

from bench.database import conninfo

# Scratch copies of the log and the profiles, made for every run (`prepare`), so the floor's
# appends (always the same call, its profile row unchanged but for the version) never reach
# the product's tables, which the other benchmarks read.
EVENTS = "bench_floor_event"
PROFILES = "bench_floor_profile"
_TABLES = {"crm_event": EVENTS, "crm_patient_profile": PROFILES}


def scratch(statement: str) -> str:
    """The product's statement on the scratch tables (the wake-up's channel, `crm_events`,
    is another word and stays)."""
    return re.sub(r"\b(crm_event|crm_patient_profile)\b", lambda m: _TABLES[m[1]], statement)


def prepare(url: str, patients: list[str]) -> None:
    """The scratch tables, indexed as the product's, holding `patients`' events and profiles."""
    ids = [uuid.UUID(p) for p in patients]
    with psycopg.connect(conninfo(url), autocommit=True) as conn:
        for source, copy in _TABLES.items():
            conn.execute(f"DROP TABLE IF EXISTS {copy}")
            conn.execute(f"CREATE TABLE {copy} (LIKE {source} INCLUDING ALL)")
        conn.execute(
            f"INSERT INTO {EVENTS} SELECT * FROM crm_event WHERE stream_id = ANY(%s)", [ids]
        )
        conn.execute(
            f"INSERT INTO {PROFILES} SELECT * FROM crm_patient_profile WHERE patient_id = ANY(%s)",
            [ids],
        )
        # The copied rows kept their positions; new ones draw theirs after the highest.
        conn.execute(
            f"SELECT setval(pg_get_serial_sequence('{EVENTS}', 'position'), "
            f"(SELECT max(position) FROM {EVENTS}))"
        )
        conn.execute(f"ANALYZE {EVENTS}")
        conn.execute(f"ANALYZE {PROFILES}")


def drop(url: str) -> None:
    with psycopg.connect(conninfo(url), autocommit=True) as conn:
        for copy in _TABLES.values():
            conn.execute(f"DROP TABLE IF EXISTS {copy}")


def statements(url: str, own: tuple[str, ...]) -> Any:
    """A command's round trips as the handlers send them, on one of the client's own patients
    at random: [BEGIN, lock the stream, read the events after the version it holds], then
    [profile upsert, INSERT (taking the append lock, queueing the wake-up), COMMIT]. The
    parameters are made ahead: the patient's profile row as stored, and one recorded call.
    Django must be set up (for the statements' text and the connection's settings)."""
    from django.conf import settings

    from crm.eventstore import postgres
    from crm.projections import profile

    ids = [uuid.UUID(p) for p in own]
    conn = psycopg.connect(
        conninfo(url),
        autocommit=True,
        prepare_threshold=settings.DATABASES["default"]["OPTIONS"].get("prepare_threshold", 5),
    )
    conn.adapters.register_loader("jsonb", postgres._JsonbLoader)
    columns = ", ".join(
        f"{name}::text" if name in profile._JSON else name for name in profile._COLUMNS
    )
    rows = {
        row[0]: list(row)
        for row in conn.execute(
            f"SELECT {columns} FROM {PROFILES} WHERE patient_id = ANY(%s)", [ids]
        ).fetchall()
    }
    versions: dict[uuid.UUID, int] = dict(
        conn.execute(
            f"SELECT stream_id, max(version) FROM {EVENTS} WHERE stream_id = ANY(%s) "
            "GROUP BY stream_id",
            [ids],
        ).fetchall()
    )
    call = conn.execute(
        f"SELECT event_type, schema_version, data::text, metadata::text FROM {EVENTS} "
        "WHERE event_type = 'CallLogged' LIMIT 1"
    ).fetchone()
    if call is None or set(rows) != set(ids):
        raise RuntimeError("the floor's patients have no call or no profile to start from")
    lock, read = scratch(postgres.LOCK_SQL), scratch(postgres.STREAM_FROM_SQL)
    upsert = scratch(profile._UPSERT_SQL)
    insert = scratch(postgres._insert_sql(1, postgres.APPEND_LOCK))
    version_at = profile._COLUMNS.index("version")
    rng = random.Random(len(own))

    def command() -> str:
        patient_id = ids[rng.randrange(len(ids))]
        version = versions[patient_id] + 1
        key = int.from_bytes(patient_id.bytes[:4], "big", signed=True)
        row = rows[patient_id]
        row[version_at] = version
        with psycopg.Cursor(conn) as stream, psycopg.Cursor(conn) as appended:
            with conn.pipeline():
                conn.execute("BEGIN")
                conn.execute(lock, [postgres.PATIENT_LOCK_CLASS, key])
                stream.execute(read, [patient_id, version], binary=True)
            stream.fetchall()
            now = dt.datetime.now(dt.UTC)
            with conn.pipeline():
                conn.execute(upsert, row)
                appended.execute(insert, [patient_id, version, *call, now, now])
                conn.execute("COMMIT")
            appended.fetchall()
        versions[patient_id] = version
        return "call_log"

    return command
