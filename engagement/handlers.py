"""Command handlers of the suggestion queue (claim, release, complete, dismiss, snooze), each
decided from a fold of the patient's stream under the patient's lock (docs/engagement.md)."""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Callable
from typing import Unpack

from django.utils import timezone

from crm import eventstore
from crm.domain import events as ev
from crm.domain.recorded import RecordedEvent
from crm.handlers.base import Actor, CommandOptions, CommandResult, Stream, command, execute
from engagement.conf import rule_config
from engagement.domain import decisions
from engagement.domain.config import RuleConfig
from engagement.domain.state import EngagementState, fold_engagement

Decision = Callable[[EngagementState, RuleConfig], list[ev.DomainEvent]]


def _run(
    patient_id: uuid.UUID, decide: Decision, actor: Actor, options: CommandOptions
) -> CommandResult:
    config = rule_config()

    def with_history(streams: dict[uuid.UUID, Stream]) -> dict[uuid.UUID, list[ev.DomainEvent]]:
        history = _with_merged_records(streams[patient_id].events)
        return {patient_id: decide(fold_engagement(patient_id, history), config)}

    return execute(patient_id=patient_id, decide_streams=with_history, actor=actor, **options)


def _with_merged_records(own: list[RecordedEvent]) -> list[RecordedEvent]:
    """The patient's events and those of every record merged into them (and into those),
    read through the store; the fold puts them in log order."""
    history = list(own)
    seen: set[uuid.UUID] = {r.stream_id for r in own}
    merged = _merged_into(own) - seen
    while merged:
        seen |= merged
        found = [r for stream in eventstore.read_streams(merged).values() for r in stream]
        history += found
        merged = _merged_into(found) - seen
    return history


def _merged_into(events: list[RecordedEvent]) -> set[uuid.UUID]:
    return {r.event.merged_patient_id for r in events if isinstance(r.event, ev.PatientsMerged)}


@command
def suggestion_claim(
    *,
    patient_id: uuid.UUID,
    suggestion_id: str,
    actor: Actor,
    now: dt.datetime | None = None,
    **options: Unpack[CommandOptions],
) -> CommandResult:
    moment = now or timezone.now()
    return _run(
        patient_id,
        lambda state, config: decisions.claim(
            state, suggestion_id=suggestion_id, agent=actor.name, now=moment, config=config
        ),
        actor,
        options,
    )


@command
def suggestion_release(
    *,
    patient_id: uuid.UUID,
    suggestion_id: str,
    actor: Actor,
    now: dt.datetime | None = None,
    **options: Unpack[CommandOptions],
) -> CommandResult:
    moment = now or timezone.now()
    return _run(
        patient_id,
        lambda state, config: decisions.release(
            state, suggestion_id=suggestion_id, agent=actor.name, now=moment, config=config
        ),
        actor,
        options,
    )


@command
def suggestion_complete(
    *,
    patient_id: uuid.UUID,
    suggestion_id: str,
    outcome: str,
    actor: Actor,
    consent_source: ev.ConsentSource = ev.ConsentSource.SMS_KEYWORD,
    now: dt.datetime | None = None,
    **options: Unpack[CommandOptions],
) -> CommandResult:
    moment = now or timezone.now()
    return _run(
        patient_id,
        lambda state, config: decisions.complete(
            state,
            suggestion_id=suggestion_id,
            outcome=outcome,
            agent=actor.name,
            now=moment,
            config=config,
            consent_source=consent_source,
        ),
        actor,
        options,
    )


@command
def suggestion_dismiss(
    *,
    patient_id: uuid.UUID,
    suggestion_id: str,
    reason: str,
    actor: Actor,
    now: dt.datetime | None = None,
    **options: Unpack[CommandOptions],
) -> CommandResult:
    moment = now or timezone.now()
    return _run(
        patient_id,
        lambda state, config: decisions.dismiss(
            state,
            suggestion_id=suggestion_id,
            reason=reason,
            agent=actor.name,
            now=moment,
            config=config,
        ),
        actor,
        options,
    )


@command
def suggestion_snooze(
    *,
    patient_id: uuid.UUID,
    suggestion_id: str,
    until: dt.datetime,
    actor: Actor,
    now: dt.datetime | None = None,
    **options: Unpack[CommandOptions],
) -> CommandResult:
    moment = now or timezone.now()
    return _run(
        patient_id,
        lambda state, config: decisions.snooze(
            state,
            suggestion_id=suggestion_id,
            until=until,
            agent=actor.name,
            now=moment,
            config=config,
        ),
        actor,
        options,
    )
