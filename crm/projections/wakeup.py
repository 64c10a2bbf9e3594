"""What wakes the catch-up follower when events are committed: PostgreSQL's LISTEN on the
append's NOTIFY, or on SQLite a poll of the log's last position (docs/event-store.md)."""

from __future__ import annotations

import logging
import time
from typing import Any, Protocol

import psycopg
from django.db import DatabaseError, connection

from crm import eventstore
from crm.eventstore.postgres import EVENTS_CHANNEL

logger = logging.getLogger(__name__)

# SQLite: how often the follower looks at the log's last position (an index's last entry,
# microseconds); what an append waits at most before its followers start.
SQLITE_POLL_SECONDS = 0.2
# PostgreSQL: how long a listener that lost its connection waits before connecting again.
RECONNECT_SECONDS = 1.0


class Wakeup(Protocol):
    def start(self) -> None:
        """Begin watching: anything committed from now on wakes the next `wait`. Called
        before the first catch-up, so nothing falls between that and the watching."""

    def wait(self, timeout: float) -> bool:
        """Block until events may have been committed since the last call (True), or until
        `timeout` seconds have passed (False). A wake-up is a hint, never a promise."""

    def close(self) -> None: ...


def for_this_database(*, channel: str = EVENTS_CHANNEL) -> Wakeup:
    """The wake-up that fits the configured database."""
    if connection.vendor == "postgresql":
        return Listener(channel=channel)
    return LastPositionPoll()


class Listener:
    """`LISTEN crm_events` on a connection of its own (Django's is busy with the batches).

    Each append NOTIFYs in its transaction, so a notification arrives only once its events
    are committed, and never for a rolled-back append. A storm (hundreds of commits while a
    batch ran) is drained whole: one wake-up, then one catch-up. While the connection is
    lost, notifications are lost too: the listener connects again, and says so by waking
    the follower (which re-reads from its checkpoints), so nothing is missed for long.
    """

    def __init__(self, *, channel: str = EVENTS_CHANNEL) -> None:
        self.channel = channel
        self._conn: psycopg.Connection[Any] | None = None

    def wait(self, timeout: float) -> bool:
        deadline = time.monotonic() + timeout
        if self._conn is None:
            if not self._connect():
                time.sleep(max(0.0, min(RECONNECT_SECONDS, deadline - time.monotonic())))
                return False
            return True  # whatever was committed while we were away was not announced
        try:
            # Read to the end: the rest of the packet the first one came in is taken too.
            woken = sum(1 for _ in self._conn.notifies(timeout=timeout, stop_after=1)) > 0
            if woken:
                self.drain()
            else:
                self._conn.execute("SELECT 1")  # a quiet connection may be a dead one
            return woken
        except psycopg.Error as exc:
            logger.warning("the wake-up connection was lost (%s); connecting again", exc)
            self.close()
            return True

    def start(self) -> None:
        if self._conn is None:
            self._connect()

    def drain(self) -> int:
        """Take every notification already received; how many there were."""
        assert self._conn is not None
        return sum(1 for _ in self._conn.notifies(timeout=0))

    def _connect(self) -> bool:
        params = {"connect_timeout": 10, **connection.get_connection_params()}
        try:
            conn = psycopg.connect(**params, autocommit=True)
            conn.execute(f"LISTEN {self.channel}")
        except psycopg.Error as exc:
            logger.warning("cannot listen for new events (%s); polling until it can", exc)
            return False
        self._conn = conn
        return True

    def close(self) -> None:
        if self._conn is not None:
            try:
                self._conn.close()
            finally:
                self._conn = None


class LastPositionPoll:
    """SQLite has no server to push from: every process opens the same file. Reading the
    log's last position is one step down the primary key's index, cheap enough to do five
    times a second, and it moves only when events are committed (rolled back appends leave
    nothing, and other tables' writes do not count)."""

    def __init__(self, *, every: float = SQLITE_POLL_SECONDS) -> None:
        self.every = every
        self._seen: int | None = None

    def start(self) -> None:
        self._seen = self._last(self._seen)

    def wait(self, timeout: float) -> bool:
        deadline = time.monotonic() + timeout
        while True:
            last = self._last(self._seen)
            if self._seen is None:
                self._seen = last
            elif last != self._seen:
                self._seen = last
                return True
            left = deadline - time.monotonic()
            if left <= 0:
                return False
            time.sleep(min(self.every, left))

    def _last(self, otherwise: int | None) -> int | None:
        try:
            return eventstore.last_position()
        except DatabaseError as exc:  # the follower's catch-up reports it in full
            logger.warning("cannot read the log's last position: %s", exc)
            return otherwise

    def close(self) -> None:
        self._seen = None


class Deaf:
    """No wake-up at all: the follower catches up every `interval` only (`run_projections
    --follow --no-wakeup`, the benchmark's baseline)."""

    def start(self) -> None:
        return None

    def wait(self, timeout: float) -> bool:
        time.sleep(timeout)
        return False

    def close(self) -> None:
        return None
