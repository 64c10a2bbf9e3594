"""Events of the suggestion queue: an agent taking a suggestion, handing it back, completing,
dismissing or snoozing it (docs/engagement.md)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from crm.domain.events.base import DomainEvent, registered
from crm.domain.events.catalogue import Reason, Staff, SuggestionId, SuggestionKind

__all__ = [
    "SuggestionClaimed",
    "SuggestionCompleted",
    "SuggestionDismissed",
    "SuggestionReleased",
    "SuggestionSnoozed",
]


@registered("SuggestionClaimed")
@dataclass(frozen=True, kw_only=True, slots=True)
class SuggestionClaimed(DomainEvent):
    """`agent` works on the suggestion until `until`; after that anyone may take it."""

    suggestion_id: SuggestionId
    kind: SuggestionKind
    agent: Staff
    until: dt.datetime


@registered("SuggestionReleased")
@dataclass(frozen=True, kw_only=True, slots=True)
class SuggestionReleased(DomainEvent):
    """The agent who held the suggestion handed it back to the queue."""

    suggestion_id: SuggestionId
    kind: SuggestionKind
    agent: Staff


@registered("SuggestionCompleted")
@dataclass(frozen=True, kw_only=True, slots=True)
class SuggestionCompleted(DomainEvent):
    suggestion_id: SuggestionId
    kind: SuggestionKind
    outcome: Reason
    agent: Staff


@registered("SuggestionDismissed")
@dataclass(frozen=True, kw_only=True, slots=True)
class SuggestionDismissed(DomainEvent):
    suggestion_id: SuggestionId
    kind: SuggestionKind
    reason: Reason
    agent: Staff


@registered("SuggestionSnoozed")
@dataclass(frozen=True, kw_only=True, slots=True)
class SuggestionSnoozed(DomainEvent):
    suggestion_id: SuggestionId
    kind: SuggestionKind
    until: dt.datetime
    agent: Staff
