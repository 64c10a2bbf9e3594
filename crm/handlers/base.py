"""The one path every command takes to the log: lock and read, decide, append, project inline,
in the store's transaction (`eventstore.command_transaction`); side effects after commit."""

from __future__ import annotations

import datetime as dt
import functools
import logging
import uuid
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, ParamSpec, TypedDict

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from crm import eventstore
from crm.domain import times
from crm.domain.errors import UnknownEventType
from crm.domain.events import DomainEvent
from crm.domain.kept import Kept
from crm.domain.recorded import RecordedEvent
from crm.domain.state import PatientState, fold
from crm.eventstore import ConcurrencyConflict, NewEvent, StreamAppend
from crm.eventstore.fingerprints import fingerprint
from crm.handlers import states
from crm.projections.profile import save_profile

# Commands without an explicit expected version re-decide on a fresh state this many times
# when another writer moved the stream in between; with one (If-Match) they never retry.
CONFLICT_RETRIES = 3

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class Stream:
    """A stream as a command read it under its lock: its events and their fold."""

    stream_id: uuid.UUID
    events: list[RecordedEvent]
    state: PatientState


Decide = Callable[[PatientState], list[DomainEvent]]
DecideStreams = Callable[[dict[uuid.UUID, Stream]], dict[uuid.UUID, list[DomainEvent]]]

# Folded states this process keeps between commands (crm.handlers.states).
kept_states = states.StateCache(settings.COMMAND_STATE_CACHE_SIZE)


class CommandOptions(TypedDict, total=False):
    """What every handler accepts besides its own arguments."""

    expected_version: int | None  # If-Match: refuse unless the stream is at this version
    idempotency_key: str | None  # a retry with the same key returns the first result
    occurred_at: dt.datetime | None  # when it happened in the clinic (default: now)
    correlation_id: str | None
    causation_id: str | None
    fingerprint: str | None  # set by @command: what the idempotency key is bound to
    # Where the command comes from when another system said it (the EHR import: source
    # fhir, the resource's type, id and version): kept in every event's metadata.
    provenance: Mapping[str, str] | None


# What a command's fingerprint leaves out: who asks and when (the same user retries, later)
# and the options, which say how to run the command rather than what it does.
_NOT_THE_COMMAND = frozenset({"actor", "now", *CommandOptions.__annotations__})

P = ParamSpec("P")


def command(handler: Callable[P, CommandResult]) -> Callable[P, CommandResult]:
    """Bind the handler's idempotency key to what it is asked to do: its name and its
    arguments. The key then replays this same command only; another command that comes
    with it is refused (`IdempotencyKeyReused`), whichever door it came through."""
    operation = handler.__name__

    @functools.wraps(handler)
    def run(*args: P.args, **kwargs: P.kwargs) -> CommandResult:
        if kwargs.get("idempotency_key") is not None:
            arguments = {k: v for k, v in kwargs.items() if k not in _NOT_THE_COMMAND}
            kwargs["fingerprint"] = fingerprint(operation, arguments)
        return handler(*args, **kwargs)

    return run


@dataclass(frozen=True, slots=True)
class Actor:
    """Who issued a command, and through which door."""

    name: str
    channel: str = "system"  # api, admin, sms, job, fixture, system
    user_id: int | None = None
    role: str = ""

    @classmethod
    def system(cls, job: str) -> Actor:
        return cls(name=f"system:{job}", channel="system")


@dataclass(frozen=True, slots=True)
class CommandResult:
    patient_id: uuid.UUID
    version: int
    events: list[RecordedEvent] = field(default_factory=list)
    duplicate: bool = False


def event_metadata(
    actor: Actor,
    *,
    correlation_id: str | None = None,
    causation_id: str | None = None,
    idempotency_key: str | None = None,
    provenance: Mapping[str, str] | None = None,
) -> dict[str, Any]:
    """What every event records about the command that appended it: one shape, every door."""
    metadata: dict[str, Any] = {
        "actor": actor.name,
        "actor_id": actor.user_id,
        "role": actor.role,
        "channel": actor.channel,
        "correlation_id": correlation_id or str(uuid.uuid4()),
        "causation_id": causation_id,
    }
    if idempotency_key is not None:
        metadata["idempotency_key"] = idempotency_key
    if provenance:
        metadata.update({key: value for key, value in provenance.items() if key not in metadata})
    return metadata


def execute(
    *,
    patient_id: uuid.UUID,
    actor: Actor,
    decide: Decide | None = None,
    decide_streams: DecideStreams | None = None,
    also: Sequence[uuid.UUID] = (),
    facts: Sequence[DomainEvent] | None = None,
    in_transaction: Callable[[], object] | None = None,
    in_callers_transaction: bool = False,
    occurred_at: dt.datetime | None = None,
    expected_version: int | None = None,
    idempotency_key: str | None = None,
    correlation_id: str | None = None,
    causation_id: str | None = None,
    fingerprint: str | None = None,
    provenance: Mapping[str, str] | None = None,
) -> CommandResult:
    """Run one command on `patient_id`'s stream (the one its key, If-Match and result are
    about). Say what to record with exactly one of:

    - `decide(state)`: from the patient's folded state (most commands);
    - `decide_streams(streams)`: from the events and states of the stream and of `also`,
      further streams locked and read with it, returning the events for each (a merge);
    - `facts`: what happened outside whatever the state (a provider's answer), recorded
      even on a stream this release cannot read, after its last event.

    `in_transaction` runs after the decision, in the command's transaction (not on a
    replay). `in_callers_transaction=True` runs the command inside the caller's atomic
    block, which commits it (crm.eventstore.command_transaction says who commits).
    """
    run = _command(
        patient_id=patient_id,
        actor=actor,
        decide=decide,
        decide_streams=decide_streams,
        also=also,
        facts=facts,
        in_transaction=in_transaction,
        in_callers_transaction=in_callers_transaction,
        occurred_at=occurred_at,
        expected_version=expected_version,
        idempotency_key=idempotency_key,
        correlation_id=correlation_id,
        causation_id=causation_id,
        fingerprint=fingerprint,
        provenance=provenance,
    )
    # A conflict inside the caller's transaction dooms it: only the caller can start over.
    retry = expected_version is None and not in_callers_transaction
    attempts = CONFLICT_RETRIES if retry else 1
    for attempt in range(1, attempts + 1):
        try:
            return _execute_once(run)
        except ConcurrencyConflict:
            if attempt == attempts:
                raise
    raise AssertionError("unreachable")


def execute_many(
    commands: Sequence[Mapping[str, Any]], *, before_append: Callable[[], object] | None = None
) -> list[CommandResult]:
    """Run several commands in one transaction of the store, each given as `execute`'s
    arguments (`patient_id`, `actor`, `decide`, and `in_transaction`, `occurred_at`,
    `expected_version` and the key and metadata options), and return their results.

    Their streams are locked and read and their keys looked up at once; each command then
    decides in order on its patient's state as the batch's earlier commands left it (its
    `in_transaction` right after; `before_append` once they all have), and everything
    decided is appended at once in that order
    (`CommandTransaction.append_many`: one INSERT, each patient's profile saved once, one
    round trip). A key used before replays its command, as in `execute`. Anything refused
    (a decision, a conflict, the database) rolls the whole batch back and raises: the
    caller may then run the commands one by one.
    """
    runs = []
    for spec in commands:
        if not _NOT_IN_A_BATCH.isdisjoint(spec):
            raise TypeError(f"execute_many() commands take none of {sorted(_NOT_IN_A_BATCH)}")
        runs.append(_command(**spec))
    if not runs:
        return []
    ids = list(dict.fromkeys(run.patient_id for run in runs))
    kept = {pid: kept_states.take(pid) for pid in ids}
    with eventstore.command_transaction() as tx:
        read, priors = eventstore.lock_and_read_many(
            {pid: k.state.version if k is not None else 1 for pid, k in kept.items()},
            [
                (run.idempotency_key, run.fingerprint or "", run.patient_id)
                for run in runs
                if run.idempotency_key is not None
            ],
        )
        folded: dict[uuid.UUID, PatientState] = {}
        for pid in ids:
            folded[pid] = _resume(pid, kept[pid], read[pid])
        recorded_at = timezone.now()
        appends, results = _decide_batch(runs, folded, priors, recorded_at)
        if before_append is not None:
            before_append()
        touched = list(dict.fromkeys(a.stream_id for a in appends if a.events))

        def project() -> None:
            # Each patient's profile once, as the whole batch leaves it.
            for pid in touched:
                save_profile(folded[pid])

        appended = tx.append_many(appends, recorded_at=recorded_at, inline=project)
    # Committed: each state now stands at its stream's last event, appended or read.
    last: dict[uuid.UUID, RecordedEvent] = {pid: read[pid][-1] for pid in ids if read[pid]}
    for result in appended:
        if result.events:
            last[result.stream_id] = result.events[-1]
    for pid, event in last.items():
        kept_states.put(folded[pid], event)
    return [
        r if isinstance(r, CommandResult) else _result(appended[r[0]], replay=r[1]) for r in results
    ]


def _decide_batch(
    runs: list[_Command],
    folded: dict[uuid.UUID, PatientState],
    priors: dict[str, eventstore.AppendResult],
    recorded_at: dt.datetime,
) -> tuple[list[StreamAppend], list[CommandResult | tuple[int, bool]]]:
    """Each command decided in order, its patient's state carried on by what it decided:
    the appends, and each command's result (a replay) or the index of its append (and
    whether it replays an earlier command of the batch)."""
    results: list[CommandResult | tuple[int, bool]] = []
    appends: list[StreamAppend] = []
    claimed: dict[str, tuple[int, str | None]] = {}
    for run in runs:
        key = run.idempotency_key
        if key is not None and key in priors:
            results.append(_result(priors[key]))
            continue
        if key is not None and key in claimed:
            index, bound_to = claimed[key]
            if bound_to != run.fingerprint:
                raise eventstore.IdempotencyKeyReused(
                    f"Idempotency key {key!r} came twice in one batch with different commands."
                )
            results.append((index, True))
            continue
        state = folded[run.patient_id]
        if run.expected_version is not None and run.expected_version != state.version:
            raise ConcurrencyConflict(run.patient_id, run.expected_version, state.version)
        decided = _decide(run, {run.patient_id: Stream(run.patient_id, [], state)})
        if run.in_transaction is not None:
            run.in_transaction()
        at = _occurred_at(run)
        events = tuple(NewEvent(event, at) for event in decided[run.patient_id])
        appends.append(
            StreamAppend(
                run.patient_id,
                events,
                state.version,
                run.metadata,
                idempotency_key=key,
                fingerprint=run.fingerprint if key is not None else None,
            )
        )
        if key is not None:
            claimed[key] = (len(appends) - 1, run.fingerprint)
        results.append((len(appends) - 1, False))
        state.apply_all(
            RecordedEvent(0, run.patient_id, version, new.event, at, recorded_at, run.metadata)
            for version, new in enumerate(events, start=state.version + 1)
        )
    return appends, results


# What only `execute` takes: a batch decides each command from its own patient's state.
_NOT_IN_A_BATCH = frozenset({"decide_streams", "also", "facts", "in_callers_transaction"})


def _command(
    *,
    patient_id: uuid.UUID,
    actor: Actor,
    decide: Decide | None = None,
    decide_streams: DecideStreams | None = None,
    also: Sequence[uuid.UUID] = (),
    facts: Sequence[DomainEvent] | None = None,
    in_transaction: Callable[[], object] | None = None,
    in_callers_transaction: bool = False,
    occurred_at: dt.datetime | None = None,
    expected_version: int | None = None,
    idempotency_key: str | None = None,
    correlation_id: str | None = None,
    causation_id: str | None = None,
    fingerprint: str | None = None,
    provenance: Mapping[str, str] | None = None,
) -> _Command:
    if (decide is None) + (decide_streams is None) + (facts is None) != 2:
        raise TypeError("execute() takes exactly one of decide, decide_streams and facts")
    return _Command(
        patient_id=patient_id,
        decide=decide,
        decide_streams=decide_streams,
        also=tuple(dict.fromkeys(sid for sid in also if sid != patient_id)),
        facts=facts,
        in_transaction=in_transaction,
        in_callers_transaction=in_callers_transaction,
        occurred_at=occurred_at,
        expected_version=expected_version,
        idempotency_key=idempotency_key,
        fingerprint=fingerprint,
        metadata=event_metadata(
            actor,
            correlation_id=correlation_id,
            causation_id=causation_id,
            idempotency_key=idempotency_key,
            provenance=provenance,
        ),
    )


def _resume(
    patient_id: uuid.UUID, kept: Kept[PatientState] | None, events: list[RecordedEvent]
) -> PatientState:
    state = states.resume(patient_id, kept, events)
    if state is None:  # the kept state does not match the log: start over
        state = fold(patient_id, eventstore.read_stream(patient_id))
    return state


@dataclass(frozen=True, slots=True)
class _Command:
    patient_id: uuid.UUID
    decide: Decide | None
    decide_streams: DecideStreams | None
    also: tuple[uuid.UUID, ...]
    facts: Sequence[DomainEvent] | None
    in_transaction: Callable[[], object] | None
    in_callers_transaction: bool
    occurred_at: dt.datetime | None
    expected_version: int | None
    idempotency_key: str | None
    fingerprint: str | None
    metadata: dict[str, Any]

    @property
    def needs_events(self) -> bool:
        return self.decide_streams is not None


def _execute_once(run: _Command) -> CommandResult:
    kept = None if run.needs_events else kept_states.take(run.patient_id)
    with eventstore.command_transaction(in_callers=run.in_callers_transaction) as tx:
        # Queue behind other commands on these streams, then read (only what came after
        # the kept state, if any): one round trip. A key used for another command raises.
        try:
            locked = eventstore.lock_and_read(
                run.patient_id,
                idempotency_key=run.idempotency_key,
                fingerprint=run.fingerprint,
                from_version=kept.state.version if kept is not None else 1,
                also_lock=run.also,
            )
        except UnknownEventType:
            if run.facts is None:
                raise
            return _record_unread(tx, run)
        if locked.prior is not None:
            return _result(locked.prior)
        state = states.resume(run.patient_id, kept, locked.events)
        if state is None:  # the kept state does not match the log: start over
            state = fold(run.patient_id, eventstore.read_stream(run.patient_id))
        if run.expected_version is not None and run.expected_version != state.version:
            raise ConcurrencyConflict(run.patient_id, run.expected_version, state.version)
        streams = {run.patient_id: Stream(run.patient_id, locked.events, state)}
        for sid, events in eventstore.read_streams(run.also).items():
            streams[sid] = Stream(sid, events, fold(sid, events))
        for sid in run.also:
            streams.setdefault(sid, Stream(sid, [], PatientState(patient_id=sid)))
        decided = _decide(run, streams)
        if run.in_transaction is not None:
            run.in_transaction()
        appended = _append_all(tx, run, streams, decided)
    # Committed (or, in the caller's transaction, once it commits): `state` now stands at
    # the appended events (the inline projection applied them), or at what was read.
    seen = appended.events or locked.events
    if seen:
        keep = functools.partial(kept_states.put, state, seen[-1])
        if run.in_callers_transaction:
            transaction.on_commit(keep)
        else:
            keep()
    return _result(appended)


def _decide(run: _Command, streams: dict[uuid.UUID, Stream]) -> dict[uuid.UUID, list[DomainEvent]]:
    if run.decide is not None:
        return {run.patient_id: run.decide(streams[run.patient_id].state)}
    if run.decide_streams is not None:
        decided = run.decide_streams(streams)
        if not decided.keys() <= streams.keys():
            raise ValueError("a command can only append to the streams it locked and read")
        return decided
    return {run.patient_id: list(run.facts or ())}


def _append_all(
    tx: eventstore.CommandTransaction,
    run: _Command,
    streams: dict[uuid.UUID, Stream],
    decided: dict[uuid.UUID, list[DomainEvent]],
) -> eventstore.AppendResult:
    """Append what was decided, the command's own stream first (it claims the key, even
    when it records nothing); the profiles are saved inline. Returns its result."""
    at = _occurred_at(run)
    order = [run.patient_id, *(sid for sid in run.also if decided.get(sid))]
    results: dict[uuid.UUID, eventstore.AppendResult] = {}
    for sid in order:
        state = streams[sid].state

        def project(pending: list[RecordedEvent], state: PatientState = state) -> None:
            # The profile is written before the append lock is taken (it needs versions
            # and times, not positions), so the serialized section stays INSERT + COMMIT.
            save_profile(state.apply_all(pending))

        results[sid] = tx.append(
            sid,
            [NewEvent(event, at) for event in decided.get(sid, [])],
            expected_version=state.version,
            metadata=run.metadata,
            idempotency_key=run.idempotency_key if sid == run.patient_id else None,
            fingerprint=run.fingerprint if sid == run.patient_id else None,
            inline=project,
            last=sid == order[-1],
        )
    return results[run.patient_id]


def _record_unread(tx: eventstore.CommandTransaction, run: _Command) -> CommandResult:
    """`facts` on a stream holding an event this release cannot read (a newer release wrote
    it): appended after it, where the projections wait for the release
    (docs/failure-model.md); the profile is left to them."""
    version = eventstore.current_version(run.patient_id)
    log.error("Recorded on stream %s, which this release cannot read", run.patient_id)
    appended = tx.append(
        run.patient_id,
        [NewEvent(event, _occurred_at(run)) for event in run.facts or ()],
        expected_version=version,
        metadata=run.metadata,
        idempotency_key=run.idempotency_key,
        fingerprint=run.fingerprint,
        last=True,
    )
    return _result(appended)


def _occurred_at(run: _Command) -> dt.datetime:
    if run.occurred_at is None:
        return timezone.now()
    # Whichever door gave it, after the decision named its own fields: a time every
    # reader can show. Whether it may be ahead of the wall clock is the decision's to
    # say, from the `now` it was given (I7).
    times.check_in_range("occurred_at", run.occurred_at)
    return run.occurred_at


def _result(appended: eventstore.AppendResult, *, replay: bool = False) -> CommandResult:
    return CommandResult(
        patient_id=appended.stream_id,
        version=appended.version,
        events=appended.events,
        duplicate=appended.duplicate or replay,
    )
