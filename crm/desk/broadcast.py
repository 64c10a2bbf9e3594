"""One broadcaster per process: reads the desk feed's new rows once (LISTEN crm_desk and a
fallback poll on PostgreSQL, a poll on SQLite) and hands them to every open stream."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import threading
import time
from collections import deque
from collections.abc import Iterable

from django.conf import settings
from django.db import OperationalError, connections

from crm.desk import feed
from crm.desk.feed import FeedEvent
from crm.models import DeskEvent

logger = logging.getLogger(__name__)

# Rows read per query; a backlog larger than this is read in several.
BATCH = 500
# Events waiting for one stream; a desktop that falls this far behind is closed and
# catches up from the table with Last-Event-ID.
MAX_PENDING = 1000
# Seconds a LISTEN wait lasts before it looks at this process's own nudges.
_SLICE = 0.25


class Subscription:
    """One open stream's inbox: the broadcaster's thread offers, the stream takes. A sync
    stream waits on a threading.Event, an async one on an asyncio.Event set through its
    loop's call_soon_threadsafe."""

    def __init__(self, broadcaster: Broadcaster, user_id: int) -> None:
        self.user_id = user_id
        self.overflowed = False
        self.closed = False
        self._broadcaster = broadcaster
        self._pending: deque[FeedEvent] = deque()
        self._lock = threading.Lock()
        self._ready = threading.Event()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._async_ready: asyncio.Event | None = None

    def offer(self, event: FeedEvent) -> None:
        if self.closed or not event.is_for(self.user_id):
            return
        with self._lock:
            if len(self._pending) >= MAX_PENDING:
                self.overflowed = True
            else:
                self._pending.append(event)
            self._ready.set()
            loop, ready = self._loop, self._async_ready
        if loop is not None and ready is not None:
            with contextlib.suppress(RuntimeError):  # a closed loop: its stream is gone
                loop.call_soon_threadsafe(ready.set)

    def take(self) -> list[FeedEvent]:
        with self._lock:
            taken = list(self._pending)
            self._pending.clear()
            self._ready.clear()
        return taken

    def wait(self, timeout: float) -> bool:
        """Block until something was offered (True) or `timeout` seconds passed."""
        return self._ready.wait(timeout)

    async def wait_async(self, timeout: float) -> bool:
        """wait() for a stream served by an event loop."""
        if self._async_ready is None:
            ready = asyncio.Event()
            with self._lock:
                self._loop, self._async_ready = asyncio.get_running_loop(), ready
        assert self._async_ready is not None
        if self._ready.is_set():
            return True
        try:
            await asyncio.wait_for(self._async_ready.wait(), timeout)
        except TimeoutError:
            return False
        finally:
            self._async_ready.clear()
        return True

    def close(self) -> None:
        if not self.closed:
            self.closed = True
            self._broadcaster.unsubscribe(self)


class Broadcaster:
    """The process's reader of the feed. Its thread starts with the first stream and holds
    one database connection while any stream is open; with none open it closes it and
    sleeps until the next stream."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._subscribers: set[Subscription] = set()
        self._thread: threading.Thread | None = None
        self._nudge = threading.Event()
        self._stopping = False
        self._cursor = 0
        # Bumped whenever the cursor is set from outside the thread: a read that started
        # before is dropped, not fanned out.
        self._generation = 0
        self.reads = 0  # queries run, for tests and the benchmark
        self.listening = False

    # --- streams ----------------------------------------------------------------------

    def subscribe(self, user_id: int) -> Subscription:
        """A new stream's inbox. Call from a thread that may use the database: when no
        stream is open the cursor starts at the newest row, read here, before the caller
        reads its own starting point (so nothing falls between the two)."""
        subscription = Subscription(self, user_id)
        with self._lock:
            idle = not self._subscribers
        start = feed.last_id() if idle else None
        with self._lock:
            if start is not None and not self._subscribers:
                self._cursor = start
                self._generation += 1
            self._subscribers.add(subscription)
            self._stopping = False
            if self._thread is None or not self._thread.is_alive():
                self._thread = threading.Thread(
                    target=self._run, name="crm-desk-broadcaster", daemon=True
                )
                self._thread.start()
        self._nudge.set()
        return subscription

    def unsubscribe(self, subscription: Subscription) -> None:
        with self._lock:
            self._subscribers.discard(subscription)
        self._nudge.set()

    def nudge(self) -> None:
        """Look now (an event was just committed in this process)."""
        if self._thread is not None:
            self._nudge.set()

    def open_streams(self) -> int:
        with self._lock:
            return len(self._subscribers)

    def stop(self, timeout: float = 5.0) -> None:
        """End the thread and forget every stream (tests; a process exiting needs nothing:
        the thread is a daemon)."""
        with self._lock:
            self._stopping = True
            thread = self._thread
            for subscription in self._subscribers:
                subscription.closed = True
            self._subscribers.clear()
        self._nudge.set()
        if thread is not None:
            thread.join(timeout)
        with self._lock:
            self._thread = None

    # --- the thread ---------------------------------------------------------------------

    def _run(self) -> None:
        while not self._stopping:
            if not self._has_subscribers():
                self._release()
                self._nudge.wait(5.0)
                self._nudge.clear()
                continue
            try:
                self._serve()
            except OperationalError as exc:
                if _sqlite_busy(exc):
                    # SQLite's one writer holds the file (or the table): nothing is wrong,
                    # read again at the next poll.
                    logger.debug("desk broadcaster: SQLite busy; reading at the next poll")
                    time.sleep(settings.DESK_POLL_MS / 1000)
                    continue
                self._start_over()
            except Exception:
                self._start_over()
        self._release()

    def _start_over(self) -> None:
        """A dropped connection, a restarted database: start over, reading from the cursor
        again, so nothing committed meanwhile is lost."""
        logger.exception("desk broadcaster: reading the feed failed; retrying in 1 s")
        self._release()
        time.sleep(1.0)

    def _serve(self) -> None:
        connection = connections[DeskEvent.objects.db]
        postgres = connection.vendor == "postgresql"
        if postgres:
            connection.ensure_connection()
            raw = connection.connection
            raw.execute(f"LISTEN {feed.CHANNEL}")
            self.listening = True
        while not self._stopping and self._has_subscribers():
            self._read_and_fan_out()
            if postgres:
                self._wait_for_notification(connection.connection)
            else:
                self._nudge.wait(settings.DESK_POLL_MS / 1000)
                self._nudge.clear()

    def _wait_for_notification(self, raw: object) -> None:
        """Until a notification comes or the fallback interval ends. Waited in slices, so
        a nudge from this process, the last stream leaving or stop() are seen within one."""
        deadline = time.monotonic() + settings.DESK_FALLBACK_POLL_MS / 1000
        while not self._nudge.is_set() and not self._stopping and self._has_subscribers():
            left = deadline - time.monotonic()
            if left <= 0:
                return
            notified = raw.notifies(timeout=min(left, _SLICE), stop_after=1)  # type: ignore[attr-defined]
            if any(True for _ in notified):
                return
        self._nudge.clear()

    def _read_and_fan_out(self) -> None:
        while True:
            with self._lock:
                cursor, generation = self._cursor, self._generation
            rows = list(
                DeskEvent.objects.filter(id__gt=cursor)
                .order_by("id")
                .values_list(*feed.COLUMNS)[:BATCH]
            )
            self.reads += 1
            if not rows:
                return
            events = [feed.from_row(row) for row in rows]
            with self._lock:
                if generation != self._generation:
                    continue  # the cursor was reset while reading: read again from it
                self._cursor = events[-1].id
                subscribers = list(self._subscribers)
            self._fan_out(events, subscribers)
            if len(rows) < BATCH:
                return

    @staticmethod
    def _fan_out(events: Iterable[FeedEvent], subscribers: list[Subscription]) -> None:
        for event in events:
            for subscription in subscribers:
                subscription.offer(event)

    def _has_subscribers(self) -> bool:
        with self._lock:
            return bool(self._subscribers)

    def _release(self) -> None:
        self.listening = False
        try:
            connections[DeskEvent.objects.db].close()
        except Exception:
            logger.exception("desk broadcaster: closing its connection failed")


BROADCASTER = Broadcaster()


def _sqlite_busy(exc: OperationalError) -> bool:
    """SQLite refused for a moment because another connection is writing."""
    return connections[DeskEvent.objects.db].vendor == "sqlite" and "locked" in str(exc)
