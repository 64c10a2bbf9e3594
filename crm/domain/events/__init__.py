"""Event catalogue v1: immutable facts, in the past tense, with a schema version each."""

from crm.domain.events.base import (
    DomainEvent,
    EventDataInvalid,
    deserialize,
    event_class,
    registered_types,
    serialize,
)
from crm.domain.events.catalogue import *  # noqa: F403
from crm.domain.events.catalogue import __all__ as _catalogue

__all__ = [
    "DomainEvent",
    "EventDataInvalid",
    "deserialize",
    "event_class",
    "registered_types",
    "serialize",
    *_catalogue,
]
