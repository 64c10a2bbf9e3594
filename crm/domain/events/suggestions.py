"""Events of the suggestion queue the catalogue does not already hold: an agent taking a
suggestion to work on it, and handing it back (docs/engagement.md)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from crm.domain.events.base import DomainEvent, registered
from crm.domain.events.catalogue import Staff, SuggestionId, SuggestionKind

__all__ = ["SuggestionClaimed", "SuggestionReleased"]


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
