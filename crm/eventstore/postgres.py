"""The event store's PostgreSQL statements, as plain SQL on Django's own psycopg connection
(same session, same transaction), pipelined where several travel together, rows in binary."""

from __future__ import annotations

import contextlib
import functools
import json
import logging
import queue
import threading
import uuid
from collections.abc import Callable, Iterator, Sequence
from typing import Any

import psycopg
from django.db import IntegrityError, connection
from psycopg.abc import Buffer
from psycopg.adapt import Loader
from psycopg.pq import Format, TransactionStatus

from crm.domain.recorded import RecordedEvent
from crm.eventstore.records import (
    COLUMNS,
    ConcurrencyConflict,
    InlineProjection,
    UnreadableEvent,
    recorded,
    recorded_or_unreadable,
)

# Any fixed 64-bit number works; it only has to differ from other advisory locks we take.
APPEND_LOCK_KEY = 0x63726D5F617070  # "crm_app"
# Two-key advisory locks live in their own key space, apart from the one-key append lock.
PATIENT_LOCK_CLASS = 0x63726D  # "crm"


def pg_connection() -> psycopg.Connection[Any]:
    """Django's own psycopg connection (same session, same transaction), for what Django's
    cursor cannot do: pipeline mode, binary rows, COPY. PostgreSQL only."""
    connection.ensure_connection()
    conn: psycopg.Connection[Any] = connection.connection
    if conn.adapters.get_loader(_JSONB_OID, Format.BINARY) is not _JsonbLoader:
        # Only binary rows use it, and only this module asks for binary rows.
        conn.adapters.register_loader(_JSONB_OID, _JsonbLoader)
    return conn


SELECT = f"SELECT {', '.join(COLUMNS)} FROM crm_event"
STREAM_FROM_SQL = f"{SELECT} WHERE stream_id = %s AND version >= %s ORDER BY version"
STREAMS_SQL = f"{SELECT} WHERE stream_id = ANY(%s) ORDER BY stream_id, version"
STREAMS_UNTIL_SQL = (
    f"{SELECT} WHERE stream_id = ANY(%s) AND position <= %s ORDER BY stream_id, version"
)
# Several streams, each from its own version on (`lock_and_read_many`).
STREAMS_FROM_SQL = (
    f"{SELECT} JOIN unnest(%s::uuid[], %s::int[]) AS wanted(sid, v) "
    "ON stream_id = wanted.sid AND version >= wanted.v ORDER BY stream_id, version"
)
STREAM_UNTIL_SQL = f"{SELECT} WHERE stream_id = %s AND recorded_at <= %s ORDER BY version"
# The events above a version, and below it those of some types (`read_latest_and_types`).
LATEST_AND_TYPES_SQL = (
    f"{SELECT} WHERE stream_id = %s AND version <= %s AND (version > %s OR event_type = ANY(%s)) "
    "ORDER BY version"
)
ALL_SQL = f"{SELECT} WHERE position > %s ORDER BY position LIMIT %s"
STREAM_BETWEEN_SQL = (
    f"{SELECT} WHERE stream_id = %s AND position >= %s AND position <= %s ORDER BY position"
)
BY_STREAM_SQL = f"{SELECT} ORDER BY stream_id, version"
BY_STREAM_NO_META_SQL = BY_STREAM_SQL.replace("metadata", "'{}'::jsonb AS metadata", 1)
RECORD_SQL = (
    "SELECT key, stream_id, first_version, last_version, recorded_at, fingerprint "
    "FROM crm_command_record WHERE key = %s"
)
LOCK_SQL = "SELECT pg_advisory_xact_lock(%s, %s)"
# Several streams' locks in one statement, taken in the array's order: PostgreSQL evaluates
# a volatile target list after ORDER BY, so row by row in that order.
LOCKS_SQL = (
    "SELECT pg_advisory_xact_lock(%s, u.key) FROM unnest(%s::int[]) WITH ORDINALITY "
    "AS u(key, n) ORDER BY u.n"
)
# The channel a committed append wakes the followers on (crm.projections.wakeup). PostgreSQL
# delivers it at COMMIT and drops it on ROLLBACK; the notifications of one transaction with
# the same payload fold into one, so a merge's two appends wake a listener once.
EVENTS_CHANNEL = "crm_events"
APPEND_LOCK_SQL = "SELECT pg_advisory_xact_lock(%s)"
APPEND_LOCK = f"pg_advisory_xact_lock({APPEND_LOCK_KEY})"
# A command's INSERT takes the append lock and queues the wake-up itself: the CTE is
# materialized (and volatile), and every row the INSERT writes comes out of a join with
# its one row, so the lock is held before the first row draws its position. One statement
# where three went, on the path every command takes while others wait on the lock.
_APPENDING = (
    "WITH appending AS MATERIALIZED (SELECT {lock} AS locked, "
    f"pg_notify('{EVENTS_CHANNEL}', '') AS woken) "
)
_ROW_TYPES = ("uuid", "int", "text", "int", "jsonb", "jsonb", "timestamptz", "timestamptz")
_EVENT_COLUMNS = (
    "stream_id, version, event_type, schema_version, data, metadata, occurred_at, recorded_at"
)


_JSONB_OID = 3802


class _JsonbLoader(Loader):
    """jsonb in binary format: a version byte, then the JSON text. Decoding the text to
    `str` before `json.loads` spares it guessing the encoding of bytes, row after row."""

    format = Format.BINARY

    def load(self, data: Buffer) -> Any:
        if data[:1] != b"\x01":
            raise psycopg.DataError("unknown jsonb binary format")
        return json.loads(str(data[1:], "utf-8"))


@contextlib.contextmanager
def first_pipeline(conn: psycopg.Connection[Any]) -> Iterator[None]:
    """`conn.pipeline()` for a command's first statements, with its transaction's BEGIN.

    Inside Django's atomic block psycopg sends BEGIN before the first statement, alone: a
    round trip of its own (in pipeline mode too, as it syncs after it). When this pipeline
    opens the transaction, psycopg is put in autocommit and BEGIN travels first in the
    pipeline instead, so the server holds the same transaction from the same statement on.
    psycopg's commit and rollback go by the server's transaction status, not by
    autocommit, so Django's atomic block still ends it (COMMIT, ROLLBACK) as it would; it
    sets autocommit back when it closes."""
    begin = (
        connection.in_atomic_block
        and not conn.autocommit
        and conn.pgconn.transaction_status == TransactionStatus.IDLE
        # psycopg's BEGIN would name these; Django leaves them unset unless configured.
        and conn.isolation_level is None
        and conn.read_only is None
        and conn.deferrable is None
    )
    if begin:
        conn.autocommit = True  # allowed: idle, and outside the pipeline (no sync needed)
    with conn.pipeline():
        if begin:
            psycopg.Cursor(conn).execute("BEGIN")
        yield


class PipelineAbortedEcho(logging.Filter):
    """Drops psycopg's warning that leaving a pipeline failed with "pipeline aborted" while
    an error raised inside it was already on its way out. That error (a conflict, say) is
    raised and handled; the aborted pipeline is only its echo, logged once per conflict."""

    def filter(self, record: logging.LogRecord) -> bool:
        args = record.args if isinstance(record.args, tuple) else ()
        return not (
            record.msg == "error ignored terminating %r: %s"
            and len(args) == 2
            and isinstance(args[1], psycopg.errors.PipelineAborted)
        )


def take_append_lock() -> None:
    """Hold off every other append until this transaction ends (I4)."""
    execute(APPEND_LOCK_SQL, [APPEND_LOCK_KEY])


def execute(query: str, params: Sequence[Any]) -> None:
    """Run a statement whose result nobody reads (queued when in pipeline mode)."""
    with connection.wrap_database_errors:
        psycopg.Cursor(pg_connection()).execute(query, params)


def lock_streams(stream_ids: Sequence[uuid.UUID]) -> None:
    """Each stream's lock, in the streams' order (so two commands locking several of the
    same streams cannot deadlock): one statement, whatever their number."""
    keys = [int.from_bytes(sid.bytes[:4], "big", signed=True) for sid in sorted(set(stream_ids))]
    if len(keys) == 1:
        execute(LOCK_SQL, [PATIENT_LOCK_CLASS, keys[0]])
    elif keys:
        execute(LOCKS_SQL, [PATIENT_LOCK_CLASS, keys])


def select(query: str, params: Sequence[Any]) -> list[RecordedEvent]:
    return [recorded(row) for row in select_rows(query, params)]


def select_rows(query: str, params: Sequence[Any]) -> list[tuple[Any, ...]]:
    # A plain psycopg cursor binds on the server and reads binary rows: uuid, timestamptz
    # and jsonb come back decoded by psycopg's C loaders, not Django's text converters.
    with connection.wrap_database_errors, psycopg.Cursor(pg_connection()) as cursor:
        cursor.execute(query, params, binary=True)
        return cursor.fetchall()


def iter_by_stream(
    chunk_size: int, with_metadata: bool
) -> Iterator[RecordedEvent | UnreadableEvent]:
    """The whole log through a server-side cursor. A helper thread fetches the next chunk
    while the caller works through this one, so PostgreSQL reading the log and Python
    folding it overlap instead of taking turns (docs/benchmarks.md, "rebuild")."""
    conn = pg_connection()
    cursor = psycopg.ServerCursor(conn, "crm_iter_by_stream", withhold=conn.autocommit)
    chunks: queue.Queue[list[Any] | BaseException] = queue.Queue(maxsize=2)
    stop = threading.Event()

    def fetch() -> None:
        # psycopg serializes the connection's use, so the caller may write (COPY) on it
        # meanwhile; Django's `connection` is per thread and is not touched here.
        try:
            while not stop.is_set():
                rows = cursor.fetchmany(chunk_size)
                chunks.put(rows)
                if not rows:
                    return
        except BaseException as error:  # handed to the caller, raised there
            chunks.put(error)

    with connection.wrap_database_errors:
        cursor.execute(BY_STREAM_SQL if with_metadata else BY_STREAM_NO_META_SQL, binary=True)
    fetcher = threading.Thread(target=fetch, name="crm-iter-by-stream", daemon=True)
    fetcher.start()
    try:
        while True:
            chunk = chunks.get()
            if isinstance(chunk, BaseException):
                with connection.wrap_database_errors:
                    raise chunk
            if not chunk:
                return
            for row in chunk:
                yield recorded_or_unreadable(row)
    finally:
        stop.set()
        while fetcher.is_alive():  # unblock a fetcher waiting for room in the queue
            with contextlib.suppress(queue.Empty):
                chunks.get(timeout=0.1)
        fetcher.join()
        cursor.close()


@functools.lru_cache(maxsize=32)
def _insert_sql(rows: int, lock: str) -> str:
    row = "(" + ", ".join(f"%s::{kind}" for kind in _ROW_TYPES) + ")"
    return (
        f"{_APPENDING.format(lock=lock)}INSERT INTO crm_event ({_EVENT_COLUMNS}) "
        f"SELECT v.* FROM appending, (VALUES {', '.join([row] * rows)}) "
        f"AS v({_EVENT_COLUMNS}) RETURNING version, position"
    )


def insert(
    pending: list[RecordedEvent],
    data: list[dict[str, Any]],
    inline: InlineProjection | None,
    *,
    commit: bool,
) -> dict[int, int]:
    """The inline projection, one multi-row INSERT that takes the append lock and queues
    the followers' wake-up (`pg_notify`, delivered only if the transaction commits) and,
    with `commit`, COMMIT: sent together, in one round trip. Returns each version's
    position.
    """
    params: list[Any] = []
    meta = json.dumps(pending[0].metadata)
    for e, values in zip(pending, data, strict=True):
        params += [e.stream_id, e.version, e.event_type, e.event.schema_version]
        params += [json.dumps(values), meta, e.occurred_at, e.recorded_at]
    conn = pg_connection()
    try:
        with connection.wrap_database_errors, psycopg.Cursor(conn) as cursor:
            with conn.pipeline():
                if inline is not None:
                    inline(pending)
                # From the INSERT to COMMIT every append in the database waits on us.
                cursor.execute(_insert_sql(len(pending), APPEND_LOCK), params)
                if commit:
                    psycopg.Cursor(conn).execute("COMMIT")
            rows = cursor.fetchall()
    except IntegrityError:
        # No savepoint: the transaction is doomed either way, and the caller's atomic
        # block rolls it back as this exception passes through it.
        raise ConcurrencyConflict(pending[0].stream_id, pending[0].version - 1, None) from None
    return dict(rows)


# A batch's rows as arrays, one per column, sent binary (%b: text arrays would be escaped
# element by element): one statement (and one prepared plan) whatever the batch's size;
# `unnest` yields them in order, so positions follow the appends' order.
@functools.lru_cache(maxsize=2)
def _insert_many_sql(lock: str) -> str:
    arrays = ", ".join(f"%b::{kind}[]" for kind in _ROW_TYPES)
    return (
        f"{_APPENDING.format(lock=lock)}INSERT INTO crm_event ({_EVENT_COLUMNS}) "
        f"SELECT u.* FROM appending, unnest({arrays}) AS u({_EVENT_COLUMNS}) "
        "RETURNING stream_id, version, position"
    )


# No ON CONFLICT: the batch looked its keys up under its locks, so a key taken since is
# another writer's, and the unique violation rolls the batch back (ConcurrencyConflict).
_CLAIM_MANY_SQL = (
    "INSERT INTO crm_command_record "
    "(key, stream_id, first_version, last_version, recorded_at, fingerprint) "
    "SELECT * FROM unnest(%b::text[], %b::uuid[], %b::int[], %b::int[], "
    "%b::timestamptz[], %b::text[])"
)
RECORDS_SQL = (
    "SELECT key, stream_id, first_version, last_version, recorded_at, fingerprint "
    "FROM crm_command_record WHERE key = ANY(%s)"
)


def insert_many(
    pending: list[RecordedEvent],
    data: list[dict[str, Any]],
    claims: list[tuple[Any, ...]],
    inline: Callable[[], object] | None,
    *,
    commit: bool,
) -> dict[tuple[uuid.UUID, int], int]:
    """A batch of commands' appends (`CommandTransaction.append_many`): their keys claimed,
    the inline projection, one INSERT of every event in order (taking the append lock and
    queueing the wake-up) and, with `commit`, COMMIT, in one round trip. Returns each
    (stream, version)'s position."""
    conn = pg_connection()
    columns: list[list[Any]] = [[] for _ in range(8)]
    metadata: dict[int, str] = {}
    for e, values in zip(pending, data, strict=True):
        meta = metadata.get(id(e.metadata))
        if meta is None:
            meta = metadata[id(e.metadata)] = json.dumps(e.metadata)
        row = (e.stream_id, e.version, e.event_type, e.event.schema_version, json.dumps(values))
        for column, value in zip(columns, (*row, meta, e.occurred_at, e.recorded_at), strict=True):
            column.append(value)
    try:
        with connection.wrap_database_errors, psycopg.Cursor(conn) as cursor:
            with conn.pipeline():
                if claims:
                    psycopg.Cursor(conn).execute(
                        _CLAIM_MANY_SQL, [list(c) for c in zip(*claims, strict=True)], binary=True
                    )
                if inline is not None:
                    inline()
                if pending:
                    # From the INSERT to COMMIT every append in the database waits on us.
                    cursor.execute(_insert_many_sql(APPEND_LOCK), columns, binary=True)
                if commit:
                    psycopg.Cursor(conn).execute("COMMIT")
            rows = cursor.fetchall() if pending else []
    except IntegrityError:
        first = pending[0] if pending else None
        stream = first.stream_id if first else claims[0][1]
        raise ConcurrencyConflict(stream, first.version - 1 if first else 0, None) from None
    return {(stream_id, version): position for stream_id, version, position in rows}
