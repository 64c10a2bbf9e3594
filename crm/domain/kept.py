"""Folded states a process keeps between reads of the log (the command path's, the
suggestions follower's), and the one rule for when a kept state may be carried on."""

from __future__ import annotations

import datetime as dt
import threading
import uuid
from collections import OrderedDict
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Generic, NamedTuple, Protocol, TypeVar


class Place(Protocol):
    """Where an event stands: its version in its stream, its position in the log, and when
    the store committed it (a `RecordedEvent`, or a `Stored` read without the data)."""

    @property
    def version(self) -> int: ...

    @property
    def position(self) -> int: ...

    @property
    def recorded_at(self) -> dt.datetime: ...


class Stored(NamedTuple):
    version: int
    position: int
    recorded_at: dt.datetime


S = TypeVar("S")
E = TypeVar("E", bound=Place)


@dataclass(frozen=True, slots=True)
class Kept(Generic[S]):
    """`state` holds a stream's events up to `version`, the last of them stored at log
    `position` and committed at `recorded_at`."""

    state: S
    version: int
    position: int
    recorded_at: dt.datetime

    @classmethod
    def at(cls, state: S, last: Place) -> Kept[S]:
        return cls(state, last.version, last.position, last.recorded_at)

    def carried_on_by(self, stored: Place | None, events: Sequence[E]) -> list[E] | None:
        """The events that bring the kept state up to date, or None when it may not be
        carried on (the caller then folds the whole stream).

        `stored` is the event the log holds now at the kept version, `events` the stream's
        events the caller read after it (any at or before the kept version are skipped).
        The rule: the log still holds the very event the state was folded up to (same
        version, position and commit time), and what follows it comes without a gap.
        Events never change and versions have no gap (I1, I2), so a matching last event
        means a matching history; anything else (a rolled-back transaction, a database
        restored, another process having read events this one did not) is refused."""
        if stored is None or (stored.version, stored.position, stored.recorded_at) != (
            self.version,
            self.position,
            self.recorded_at,
        ):
            return None
        after = [e for e in events if e.version > self.version]
        if any(e.version != self.version + n for n, e in enumerate(after, start=1)):
            return None
        return after


class KeptStates(Generic[S]):
    """Kept states by stream, the least recently used let go past `capacity`; safe across
    threads. A reader takes a state out while it carries it on and keeps the result after,
    so a failed or concurrent reader never sees a half-applied one."""

    def __init__(self, capacity: int) -> None:
        self.capacity = capacity
        self._kept: OrderedDict[uuid.UUID, Kept[S]] = OrderedDict()
        self._lock = threading.Lock()

    def __contains__(self, stream_id: object) -> bool:
        return stream_id in self._kept

    def __len__(self) -> int:
        return len(self._kept)

    def take(self, stream_id: uuid.UUID) -> Kept[S] | None:
        with self._lock:
            return self._kept.pop(stream_id, None)

    def keep(self, stream_id: uuid.UUID, kept: Kept[S]) -> None:
        if self.capacity <= 0:
            return
        with self._lock:
            self._kept[stream_id] = kept
            self._kept.move_to_end(stream_id)
            while len(self._kept) > self.capacity:
                self._kept.popitem(last=False)

    def drop(self, stream_id: uuid.UUID) -> None:
        with self._lock:
            self._kept.pop(stream_id, None)

    def clear(self) -> None:
        with self._lock:
            self._kept.clear()
