"""Command handlers of the suggestion queue: claim, release, complete, dismiss, snooze.

Each runs through `crm.handlers.base.execute` (the patient's lock, idempotency key,
If-Match, one durable transaction) and decides from a fold of the patient's stream and of
the records merged into it, read under that lock: a second agent is refused from the log
itself, even before the suggestions projection has caught up.
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Callable
from typing import Unpack

from django.utils import timezone

from crm.domain import events as ev
from crm.domain.state import PatientState
from crm.handlers.base import Actor, CommandOptions, CommandResult, command, execute
from engagement.conf import rule_config
from engagement.domain import decisions
from engagement.domain.config import RuleConfig
from engagement.domain.state import EngagementState, fold_engagement
from engagement.projection import history_of, load_streams

Decision = Callable[[EngagementState, RuleConfig], list[ev.DomainEvent]]


def _run(
    patient_id: uuid.UUID, decide: Decision, actor: Actor, options: CommandOptions
) -> CommandResult:
    config = rule_config()

    def with_history(state: PatientState) -> list[ev.DomainEvent]:
        # `state` is the patient's own fold; the rules also need the merged records'.
        streams = load_streams([patient_id])
        return decide(fold_engagement(patient_id, history_of(patient_id, streams)), config)

    return execute(patient_id=patient_id, decide=with_history, actor=actor, **options)


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
