"""Patients' folded states kept between commands (crm.domain.kept), so a command reads only
the events appended since, under the patient's lock, instead of the whole stream."""

from __future__ import annotations

import uuid

from crm.domain.kept import Kept, KeptStates
from crm.domain.recorded import RecordedEvent
from crm.domain.state import PatientState, fold


class StateCache(KeptStates[PatientState]):
    """The command path's states. One is put back only after its command committed."""

    def put(self, state: PatientState, last: RecordedEvent) -> None:
        if last.version == state.version:
            self.keep(state.patient_id, Kept.at(state, last))


def resume(
    patient_id: uuid.UUID, kept: Kept[PatientState] | None, events: list[RecordedEvent]
) -> PatientState | None:
    """The current state from `kept` and the events read from its version on (the first is
    the one the log holds there), or None when they do not carry it on (the caller then
    folds the whole stream)."""
    if kept is None:
        return fold(patient_id, events)
    after = kept.carried_on_by(events[0] if events else None, events[1:])
    return None if after is None else kept.state.apply_all(after)
