"""Decisions on a suggestion: pure functions from a patient's engagement state and `now`
to the events to record, or a refusal an agent can act on. No clock, no database."""

from __future__ import annotations

import datetime as dt

from crm.domain import decisions as crm_decisions
from crm.domain import events as ev
from crm.domain import moments
from crm.domain.errors import CommandRefused, DomainError, InvalidInput
from engagement.domain.config import RuleConfig
from engagement.domain.evaluate import evaluate
from engagement.domain.state import EngagementState
from engagement.domain.suggestions import (
    CRISIS_OUTCOMES,
    STOP_REVIEW_OUTCOMES,
    Kind,
    Status,
    Suggestion,
)

MAX_SNOOZE = dt.timedelta(days=90)


class SuggestionNotFound(DomainError):
    def __init__(self, suggestion_id: str) -> None:
        super().__init__(f"No suggestion {suggestion_id!r} for this patient.")
        self.suggestion_id = suggestion_id


class SuggestionHeld(CommandRefused):
    """Another agent holds an unexpired claim on the suggestion."""

    def __init__(self, suggestion: Suggestion, clinic_timezone: str) -> None:
        until = suggestion.claimed_until
        assert until is not None
        when = moments.moment(until, moments.zone_named(clinic_timezone))
        super().__init__(
            f"{suggestion.assignee} is working on this suggestion until {when}; "
            "leave it to them or wait until the claim runs out."
        )
        self.holder = suggestion.assignee
        self.until = until


def _current(
    state: EngagementState, suggestion_id: str, now: dt.datetime, config: RuleConfig
) -> Suggestion:
    patient = state.patient
    if patient.merged_into is not None:
        raise CommandRefused(
            f"This record was merged into patient {patient.merged_into}; use that record."
        )
    suggestion = evaluate(state, now, config).get(suggestion_id)
    if suggestion is None:
        raise SuggestionNotFound(suggestion_id)
    return suggestion


def _workable(suggestion: Suggestion, agent: str, doing: str, config: RuleConfig) -> None:
    """Open, or claimed by this agent (a claim that ran out reads as open)."""
    if suggestion.status is Status.CLAIMED and suggestion.assignee != agent:
        raise SuggestionHeld(suggestion, config.clinic_timezone)
    if suggestion.status in (Status.OPEN, Status.CLAIMED, Status.SNOOZED):
        if suggestion.paused_reason and doing != "dismiss":
            raise CommandRefused(f"Cannot {doing} this suggestion now. {suggestion.paused_reason}")
        return
    word = {
        Status.DONE: "is already done",
        Status.DISMISSED: "was dismissed",
        Status.EXPIRED: "is no longer needed",
    }[suggestion.status]
    raise CommandRefused(f"Cannot {doing} this suggestion: it {word} ({suggestion.closed_reason})")


def claim(
    state: EngagementState, *, suggestion_id: str, agent: str, now: dt.datetime, config: RuleConfig
) -> list[ev.DomainEvent]:
    suggestion = _current(state, suggestion_id, now, config)
    _workable(suggestion, agent, "claim", config)
    return [
        ev.SuggestionClaimed(
            suggestion_id=suggestion_id,
            kind=suggestion.kind.value,
            agent=agent,
            until=now + config.claim_expiry,
        )
    ]


def release(
    state: EngagementState, *, suggestion_id: str, agent: str, now: dt.datetime, config: RuleConfig
) -> list[ev.DomainEvent]:
    suggestion = _current(state, suggestion_id, now, config)
    if suggestion.status is not Status.CLAIMED:
        return []  # nothing held: releasing twice records once
    if suggestion.assignee != agent:
        raise SuggestionHeld(suggestion, config.clinic_timezone)
    return [
        ev.SuggestionReleased(suggestion_id=suggestion_id, kind=suggestion.kind.value, agent=agent)
    ]


def complete(
    state: EngagementState,
    *,
    suggestion_id: str,
    outcome: str,
    agent: str,
    now: dt.datetime,
    config: RuleConfig,
    consent_source: ev.ConsentSource = ev.ConsentSource.SMS_KEYWORD,
) -> list[ev.DomainEvent]:
    suggestion = _current(state, suggestion_id, now, config)
    _workable(suggestion, agent, "complete", config)
    outcome = outcome.strip()
    if not outcome:
        raise InvalidInput("outcome", "must say what was done.")
    allowed = {
        Kind.CRISIS_FOLLOW_UP: CRISIS_OUTCOMES,
        Kind.SMS_STOP_REVIEW: STOP_REVIEW_OUTCOMES,
    }.get(suggestion.kind)
    if allowed is not None and outcome not in allowed:
        raise InvalidInput("outcome", f"must be one of: {', '.join(allowed)}.")
    done: list[ev.DomainEvent] = [
        ev.SuggestionCompleted(
            suggestion_id=suggestion_id, kind=suggestion.kind.value, outcome=outcome, agent=agent
        )
    ]
    if suggestion.kind is Kind.SMS_STOP_REVIEW and outcome == "opted_out":
        if consent_source not in (ev.ConsentSource.VERBAL, ev.ConsentSource.SMS_KEYWORD):
            raise InvalidInput("consent_source", "must be verbal or sms_keyword.")
        done += crm_decisions.revoke_consent(
            state.patient, channel=ev.Channel.SMS, purpose=None, source=consent_source
        )
    return done


def dismiss(
    state: EngagementState,
    *,
    suggestion_id: str,
    reason: str,
    agent: str,
    now: dt.datetime,
    config: RuleConfig,
) -> list[ev.DomainEvent]:
    suggestion = _current(state, suggestion_id, now, config)
    if suggestion.kind is Kind.CRISIS_FOLLOW_UP:
        raise CommandRefused(
            "A crisis follow-up cannot be dismissed: it stays until the patient is reached. "
            "Record an attempt by completing it with outcome not_reached."
        )
    _workable(suggestion, agent, "dismiss", config)
    if not reason.strip():
        raise InvalidInput("reason", "must say why the suggestion is dismissed.")
    return [
        ev.SuggestionDismissed(
            suggestion_id=suggestion_id,
            kind=suggestion.kind.value,
            reason=reason.strip(),
            agent=agent,
        )
    ]


def snooze(
    state: EngagementState,
    *,
    suggestion_id: str,
    until: dt.datetime,
    agent: str,
    now: dt.datetime,
    config: RuleConfig,
) -> list[ev.DomainEvent]:
    suggestion = _current(state, suggestion_id, now, config)
    if suggestion.kind is Kind.CRISIS_FOLLOW_UP:
        raise CommandRefused(
            "A crisis follow-up is never put off: call until the patient is reached."
        )
    _workable(suggestion, agent, "snooze", config)
    if until <= now:
        raise InvalidInput("until", "must be in the future.")
    if until > now + MAX_SNOOZE:
        raise InvalidInput("until", f"must be within {MAX_SNOOZE.days} days.")
    return [
        ev.SuggestionSnoozed(
            suggestion_id=suggestion_id, kind=suggestion.kind.value, until=until, agent=agent
        )
    ]
