"""A batch's plan (each resource decided on its patient's state as the batch leaves it) and its
application: one command per resource (crm.handlers.ehr), the batch's in one transaction."""

from __future__ import annotations

import datetime as dt
import uuid
from collections import OrderedDict
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

from django.db import DatabaseError, transaction

from crm import eventstore
from crm.domain import events as ev
from crm.domain.errors import DomainError
from crm.domain.events.base import build
from crm.domain.recorded import RecordedEvent
from crm.domain.state import PatientState, fold
from crm.eventstore import ConcurrencyConflict, IdempotencyKeyReused
from crm.fhir import decide, mapping
from crm.fhir.reading import Entry
from crm.fhir.resources import Refused, Skipped
from crm.handlers.base import Actor, CommandResult
from crm.handlers.ehr import call_import, import_many, patient_import, visit_import
from crm.models import CommandRecord

Record = mapping.PatientRecord | mapping.VisitRecord | mapping.CallRecord
# Patients' folded states kept between batches, the most recently planned. A state holds the
# patient's whole history (about 9 kB with eight visits, bench fhir), so this bounds the
# import's memory in the export's size; a patient met again later (the next pass, a file
# further on) is read again from its stream, with the rest of its batch. A dry run keeps all:
# its states are the only record of what it would have written.
_STATES_KEPT = 4_000


@dataclass(slots=True)
class Work:
    """One resource ready to record: its patient, what it says, the command's options."""

    entry: Entry
    patient_id: uuid.UUID
    record: Record
    options: dict[str, Any]

    @property
    def key(self) -> str:
        return str(self.options["idempotency_key"])


@dataclass(frozen=True, slots=True)
class Outcome:
    work: Work
    events: tuple[str, ...] = ()  # event types appended (or, in a dry run, to append)
    unchanged: bool = False
    skipped: str = ""
    refused: str = ""


class Planner:
    """The patients' states as the import leaves them, so each resource is decided (and a
    refusal found) before any command runs: a refused resource never opens a command."""

    def __init__(self, *, now: dt.datetime, actor: Actor, keep_all: bool) -> None:
        self.now, self.actor, self.keep_all = now, actor, keep_all
        self.states: OrderedDict[uuid.UUID, PatientState] = OrderedDict()

    def plan(
        self, works: list[Work]
    ) -> tuple[list[Outcome], list[tuple[Work, list[ev.DomainEvent]]]]:
        """(what needs no command, the commands to run with the events each should append)."""
        done = set(
            CommandRecord.objects.filter(key__in=[w.key for w in works]).values_list(
                "key", flat=True
            )
        )
        self._load({w.patient_id for w in works})
        settled: list[Outcome] = []
        planned: list[tuple[Work, list[ev.DomainEvent]]] = []
        for work in works:
            if work.key in done:  # this version was imported before
                settled.append(Outcome(work, unchanged=True))
                continue
            try:
                events = decision(self.states[work.patient_id], work.record, self.now, self.actor)
                for event in events:
                    build(type(event), ev.serialize(event))  # what an append checks
            except Skipped as exc:
                settled.append(Outcome(work, skipped=exc.reason))
                continue
            except Refused as exc:
                settled.append(Outcome(work, refused=exc.reason))
                continue
            except (DomainError, ev.EventDataInvalid) as exc:
                settled.append(Outcome(work, refused=str(exc)))
                continue
            if not events:
                settled.append(Outcome(work, unchanged=True))
                continue
            done.add(work.key)
            self.advance(work.patient_id, events, work.options["occurred_at"])
            planned.append((work, events))
        return settled, planned

    def advance(
        self, patient_id: uuid.UUID, events: Iterable[ev.DomainEvent], at: dt.datetime
    ) -> None:
        state = self.states[patient_id]
        for event in events:
            state.apply(RecordedEvent(0, patient_id, state.version + 1, event, at, self.now))

    def forget(self, patient_ids: Iterable[uuid.UUID]) -> None:
        for patient_id in patient_ids:
            self.states.pop(patient_id, None)

    def _load(self, patient_ids: set[uuid.UUID]) -> None:
        missing = [pid for pid in patient_ids if pid not in self.states]
        streams = eventstore.read_streams(missing) if missing else {}
        for pid in missing:
            self.states[pid] = fold(pid, streams.get(pid, []))
        for pid in patient_ids:
            self.states.move_to_end(pid)
        while not self.keep_all and len(self.states) > max(_STATES_KEPT, len(patient_ids)):
            self.states.popitem(last=False)


def apply(
    planned: list[tuple[Work, list[ev.DomainEvent]]],
    *,
    actor: Actor,
    now: dt.datetime,
    batched: bool,
    planner: Planner,
) -> list[Outcome]:
    """Run the planned commands: batched, all in one transaction of the store
    (`import_many`: their streams read at once, their events in one INSERT; a command that
    fails there, which the plan makes rare, rolls the batch back and it runs again resource
    by resource, each in a savepoint); else each command in its own transaction."""
    if not planned:
        return []
    if batched:
        try:
            results = import_many(
                [(work.patient_id, work.record, work.options) for work, _ in planned],
                actor=actor,
                now=now,
            )
            outcomes = [
                _outcome(work, result) for (work, _), result in zip(planned, results, strict=True)
            ]
        except (
            Refused,
            Skipped,
            DomainError,
            ev.EventDataInvalid,
            IdempotencyKeyReused,
            ConcurrencyConflict,
            DatabaseError,
        ):
            planner.forget(w.patient_id for w, _ in planned)
            with transaction.atomic():
                return [
                    _guarded(work, lambda w: _run(w, actor, now, in_callers=True), savepoint=True)
                    for work, _ in planned
                ]
        _settle(planner, planned, outcomes)
        return outcomes
    outcomes = [
        _guarded(work, lambda w: _run(w, actor, now, in_callers=False), savepoint=False)
        for work, _ in planned
    ]
    planner.forget(w.patient_id for w, _ in planned)
    return outcomes


def _settle(
    planner: Planner, planned: list[tuple[Work, list[ev.DomainEvent]]], outcomes: list[Outcome]
) -> None:
    """Keep the planned states only where the commands appended what was planned."""
    for (work, events), outcome in zip(planned, outcomes, strict=True):
        if outcome.events != tuple(e.event_type for e in events):
            planner.forget([work.patient_id])


def _guarded(work: Work, run: Callable[[Work], CommandResult], *, savepoint: bool) -> Outcome:
    try:
        if savepoint:
            with transaction.atomic():
                return _outcome(work, run(work))
        return _outcome(work, run(work))
    except Skipped as exc:
        return Outcome(work, skipped=exc.reason)
    except Refused as exc:
        return Outcome(work, refused=exc.reason)
    except IdempotencyKeyReused:
        return Outcome(work, refused="this version was imported before with other content")
    except ConcurrencyConflict:
        return Outcome(work, refused="the patient's record changed while importing; import again")
    except (DomainError, ev.EventDataInvalid) as exc:
        return Outcome(work, refused=str(exc))
    except DatabaseError as exc:
        # Its savepoint (or its own transaction) rolled back: the others go on.
        return Outcome(work, refused=f"the database refused it: {str(exc).splitlines()[0][:200]}")


def _outcome(work: Work, result: CommandResult) -> Outcome:
    if result.duplicate or not result.events:
        return Outcome(work, unchanged=True)
    return Outcome(work, events=tuple(e.event_type for e in result.events))


def _run(work: Work, actor: Actor, now: dt.datetime, *, in_callers: bool) -> CommandResult:
    handler: Callable[..., CommandResult] = visit_import
    if isinstance(work.record, mapping.PatientRecord):
        handler = patient_import
    elif isinstance(work.record, mapping.CallRecord):
        handler = call_import
    return handler(
        patient_id=work.patient_id,
        record=work.record,
        actor=actor,
        now=now,
        in_callers_transaction=in_callers,
        **work.options,
    )


def decision(
    state: PatientState, record: Record, now: dt.datetime, actor: Actor
) -> list[ev.DomainEvent]:
    if isinstance(record, mapping.PatientRecord):
        return decide.patient(state, record, recorded_by=actor.name, now=now)
    if isinstance(record, mapping.CallRecord):
        return decide.call(state, record, now=now)
    return decide.visit(state, record, now=now)
