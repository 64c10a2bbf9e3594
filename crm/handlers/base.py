"""The one path every command takes: load the stream, decide, append, project inline.

All of it runs in one durable transaction; anything that leaves the process must be
queued with `transaction.on_commit` by the caller.
"""

from __future__ import annotations

import datetime as dt
import functools
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, ParamSpec, TypedDict

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from crm import eventstore
from crm.domain import times
from crm.domain.events import DomainEvent
from crm.domain.recorded import RecordedEvent
from crm.domain.state import PatientState, fold
from crm.eventstore import ConcurrencyConflict, NewEvent
from crm.eventstore.fingerprints import fingerprint
from crm.handlers import states
from crm.projections.profile import save_profile

# Commands without an explicit expected version re-decide on a fresh state this many times
# when another writer moved the stream in between; with one (If-Match) they never retry.
CONFLICT_RETRIES = 3

Decide = Callable[[PatientState], list[DomainEvent]]

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


def execute(
    *,
    patient_id: uuid.UUID,
    decide: Decide,
    actor: Actor,
    occurred_at: dt.datetime | None = None,
    expected_version: int | None = None,
    idempotency_key: str | None = None,
    correlation_id: str | None = None,
    causation_id: str | None = None,
    fingerprint: str | None = None,
) -> CommandResult:
    metadata: dict[str, Any] = {
        "actor": actor.name,
        "actor_id": actor.user_id,
        "role": actor.role,
        "channel": actor.channel,
        "correlation_id": correlation_id or str(uuid.uuid4()),
        "causation_id": causation_id,
    }
    attempts = 1 if expected_version is not None else CONFLICT_RETRIES
    for attempt in range(1, attempts + 1):
        try:
            return _execute_once(
                patient_id=patient_id,
                decide=decide,
                metadata=metadata,
                occurred_at=occurred_at,
                expected_version=expected_version,
                idempotency_key=idempotency_key,
                fingerprint=fingerprint,
            )
        except ConcurrencyConflict:
            if attempt == attempts:
                raise
    raise AssertionError("unreachable")


def _execute_once(
    *,
    patient_id: uuid.UUID,
    decide: Decide,
    metadata: dict[str, Any],
    occurred_at: dt.datetime | None,
    expected_version: int | None,
    idempotency_key: str | None,
    fingerprint: str | None,
) -> CommandResult:
    kept = kept_states.take(patient_id)
    with transaction.atomic(durable=True):
        # Queue behind other commands on this patient, then read (only what came after
        # the kept state, if any): one round trip. A key used for another command raises.
        locked = eventstore.lock_and_read(
            patient_id,
            idempotency_key=idempotency_key,
            fingerprint=fingerprint,
            from_version=kept.state.version if kept is not None else 1,
        )
        if locked.prior is not None:
            return _result(locked.prior)
        state = states.resume(patient_id, kept, locked.events)
        if state is None:  # the kept state does not match the log: start over
            state = fold(patient_id, eventstore.read_stream(patient_id))
        if expected_version is not None and expected_version != state.version:
            raise ConcurrencyConflict(patient_id, expected_version, state.version)
        new_events = decide(state)
        at = occurred_at or timezone.now()
        if occurred_at is not None:
            # Whichever door gave it, after the decision named its own fields: a time
            # every reader can show. Whether it may be ahead of the wall clock is the
            # decision's to say, from the `now` it was given (I7).
            times.check_in_range("occurred_at", occurred_at)

        def project(pending: list[RecordedEvent]) -> None:
            # The profile is written before the append lock is taken (it needs versions
            # and times, not positions), so the serialized section stays INSERT + COMMIT.
            save_profile(state.apply_all(pending))

        appended = eventstore.append(
            patient_id,
            [NewEvent(event, at) for event in new_events],
            expected_version=state.version,
            idempotency_key=idempotency_key,
            fingerprint=fingerprint,
            metadata=metadata,
            version_read_in_transaction=True,
            inline=project,
            commit=True,  # nothing follows the append in this transaction
        )
    # Committed: `state` now stands at the appended events (the inline projection
    # applied them), or, if the command decided nothing, at what was read.
    seen = appended.events or locked.events
    if seen:
        kept_states.put(state, seen[-1])
    return _result(appended)


def _result(appended: eventstore.AppendResult) -> CommandResult:
    return CommandResult(
        patient_id=appended.stream_id,
        version=appended.version,
        events=appended.events,
        duplicate=appended.duplicate,
    )
