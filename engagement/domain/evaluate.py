"""From needs to suggestions: what the rules found, read against `now`, what agents did, a
death on record and an open crisis; `evaluate(state, now, config)` is behind every reader."""

from __future__ import annotations

import datetime as dt
from dataclasses import replace

from engagement.domain.config import RuleConfig
from engagement.domain.rules import RULES, Words
from engagement.domain.state import EngagementState, LedgerEntry
from engagement.domain.suggestions import (
    LABEL,
    PRIORITY,
    ROUTINE,
    Evaluation,
    Kind,
    Need,
    Status,
    Suggestion,
)

# How a suggestion ended: when, as what, by whom ("rule" or "agent"), why, outcome, agent.
_Ending = tuple[dt.datetime, Status, str, str, str, str]


def evaluate(state: EngagementState, now: dt.datetime, config: RuleConfig) -> Evaluation:
    patient = state.patient
    if not patient.registered or patient.merged_into is not None:
        # A merged-away record has no suggestions: its history counts for the survivor.
        return Evaluation(patient.patient_id, now, [], None)
    words = Words.of(patient.timezone, patient.phone, config.clinic_timezone)
    wakes: list[dt.datetime] = []
    suggestions: list[Suggestion] = []
    for rule in RULES:
        for need in rule(state, config, words):
            suggestion = _lifecycle(need, state, now, config, words, wakes)
            if suggestion is not None:
                suggestions.append(suggestion)
    suggestions.sort(key=lambda s: (s.priority, s.due_at, s.suggestion_id))
    future = [moment for moment in wakes if moment > now]
    return Evaluation(patient.patient_id, now, suggestions, min(future) if future else None)


def _lifecycle(
    need: Need,
    state: EngagementState,
    now: dt.datetime,
    config: RuleConfig,
    words: Words,
    wakes: list[dt.datetime],
) -> Suggestion | None:
    deceased_at = state.deceased_at
    if deceased_at is not None and deceased_at <= need.opened_at:
        return None  # nothing is suggested for someone who has died
    if need.opened_at > now:
        wakes.append(need.opened_at)
        return None
    if need.met_at is not None and need.met_at <= need.opened_at:
        return None  # met before it ever arose: never a suggestion

    # Entries under an older id come first: since the id changed, none are recorded there.
    entries = [
        entry for sid in (*need.aliases, need.suggestion_id) for entry in state.ledger.get(sid, [])
    ]
    base = Suggestion(
        suggestion_id=need.suggestion_id,
        patient_id=state.patient_id,
        kind=need.kind,
        priority=need.priority or PRIORITY[need.kind],
        status=Status.OPEN,
        opened_at=need.opened_at,
        due_at=need.due_at,
        reason=need.reason,
        evidence=tuple(need.evidence),
        payload={"label": LABEL[need.kind], **need.payload},
    )
    for at, status, by, why, outcome, agent in _endings(need, entries, deceased_at):
        if at <= now:
            forgotten = at + config.history
            if forgotten <= now:
                return None  # closed long ago: the timeline keeps the story
            wakes.append(forgotten)
            return replace(
                base,
                status=status,
                closed_at=at,
                closed_by=by,
                closed_reason=why,
                outcome=outcome,
                assignee=agent,
            )
        if by == "rule":
            wakes.append(at)

    if need.kind in ROUTINE and state.patient.crisis_open:
        since = state.crises[-1].at if state.crises else need.opened_at
        return replace(
            base,
            status=Status.SNOOZED,
            paused_reason=(
                f"Paused: crisis flag open since {words.day(since)}; routine outreach waits "
                "until a clinician clears it."
            ),
        )
    holder = _holder(entries)
    if holder is not None and holder.until is not None and holder.until > now:
        wakes.append(holder.until)
        if holder.action == "snoozed":
            return replace(base, status=Status.SNOOZED, snoozed_until=holder.until)
        return replace(
            base, status=Status.CLAIMED, assignee=holder.agent, claimed_until=holder.until
        )
    return replace(base, status=Status.OPEN)


def _endings(
    need: Need, entries: list[LedgerEntry], deceased_at: dt.datetime | None
) -> list[_Ending]:
    """Candidates for how a need ended, by a rule or by an agent, earliest first."""
    endings: list[_Ending] = []
    if need.met_at is not None:
        endings.append((need.met_at, Status.DONE, "rule", need.met_reason, "", ""))
    if need.lapses_at is not None:
        endings.append((need.lapses_at, Status.EXPIRED, "rule", need.lapse_reason, "", ""))
    if deceased_at is not None:
        reason = "The patient is recorded as deceased."
        endings.append((deceased_at, Status.EXPIRED, "rule", reason, "", ""))
    for entry in entries:
        ending = _agent_ending(need.kind, entry)
        if ending is not None:
            endings.append(ending)
    endings.sort(key=lambda e: (e[0], e[1] != Status.DONE))
    return endings


def _agent_ending(kind: Kind, entry: LedgerEntry) -> _Ending | None:
    if entry.action == "completed":
        if kind is Kind.CRISIS_FOLLOW_UP and entry.outcome == "not_reached":
            return None  # an attempt: the follow-up goes on until the patient is reached
        why = f"Completed by {entry.agent}: {entry.outcome}."
        return (entry.at, Status.DONE, "agent", why, entry.outcome, entry.agent)
    if entry.action == "dismissed":
        why = f"Dismissed by {entry.agent}: {entry.reason}"
        return (entry.at, Status.DISMISSED, "agent", why, "", entry.agent)
    return None


def _holder(entries: list[LedgerEntry]) -> LedgerEntry | None:
    """The latest claim or snooze still standing (a release or a later one replaces it)."""
    current: LedgerEntry | None = None
    for entry in entries:
        if entry.action in ("claimed", "snoozed"):
            current = entry
        elif entry.action == "released":
            current = None
    return current
