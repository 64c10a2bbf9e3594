"""Patients' folded states kept between commands in this process, so a command reads only
the events appended since (usually none) instead of the whole stream.

A kept state is never trusted on its own: the command reads, under the patient's lock,
the stream from the kept version on, and uses the state only if the event stored at that
version is the very one it was folded up to (same position and time); anything else (a
rolled-back transaction, a database restored or rebuilt) reads the whole stream again.
Events are immutable and versions gap-free (I1, I2), so a matching last event means a
matching history. A command takes the state out while it works on it and puts it back
only after its transaction committed, so a failed or concurrent command never sees a
half-applied one.
"""

from __future__ import annotations

import datetime as dt
import threading
import uuid
from collections import OrderedDict
from dataclasses import dataclass

from crm.domain.recorded import RecordedEvent
from crm.domain.state import PatientState, fold


@dataclass(frozen=True, slots=True)
class Kept:
    state: PatientState
    position: int  # of the event at state.version
    recorded_at: dt.datetime

    def continues_into(self, events: list[RecordedEvent]) -> bool:
        """True when `events` (read from state.version on) start with the kept last event."""
        if not events:
            return False
        first = events[0]
        return (
            first.version == self.state.version
            and first.position == self.position
            and first.recorded_at == self.recorded_at
        )


class StateCache:
    """Least recently used states, at most `capacity`; safe across threads."""

    def __init__(self, capacity: int) -> None:
        self.capacity = capacity
        self._kept: OrderedDict[uuid.UUID, Kept] = OrderedDict()
        self._lock = threading.Lock()

    def __contains__(self, patient_id: object) -> bool:
        return patient_id in self._kept

    def take(self, patient_id: uuid.UUID) -> Kept | None:
        with self._lock:
            return self._kept.pop(patient_id, None)

    def put(self, state: PatientState, last: RecordedEvent) -> None:
        if self.capacity <= 0 or last.version != state.version:
            return
        kept = Kept(state=state, position=last.position, recorded_at=last.recorded_at)
        with self._lock:
            self._kept[state.patient_id] = kept
            self._kept.move_to_end(state.patient_id)
            while len(self._kept) > self.capacity:
                self._kept.popitem(last=False)

    def clear(self) -> None:
        with self._lock:
            self._kept.clear()


def resume(
    patient_id: uuid.UUID, kept: Kept | None, events: list[RecordedEvent]
) -> PatientState | None:
    """The current state from `kept` and the events read from its version on, or None
    when they do not continue it (the caller then folds the whole stream)."""
    if kept is None:
        return fold(patient_id, events)
    if not kept.continues_into(events):
        return None
    return kept.state.apply_all(events[1:])
