"""Event catalogue v1: immutable facts, in the past tense, with a schema version each."""

from crm.domain.events.base import (
    DomainEvent,
    EventDataInvalid,
    deserialize,
    event_class,
    load_stored,
    registered_types,
    serialize,
)
from crm.domain.events.catalogue import *  # noqa: F403
from crm.domain.events.catalogue import __all__ as _catalogue
from crm.domain.events.messaging import *  # noqa: F403
from crm.domain.events.messaging import __all__ as _messaging
from crm.domain.events.suggestions import *  # noqa: F403
from crm.domain.events.suggestions import __all__ as _suggestions

__all__ = [
    "DomainEvent",
    "EventDataInvalid",
    "deserialize",
    "event_class",
    "load_stored",
    "registered_types",
    "serialize",
    *_catalogue,
    *_messaging,
    *_suggestions,
]
