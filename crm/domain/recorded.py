"""An event as stored: the domain event plus its place in the log and its two times."""

from __future__ import annotations

import datetime as dt
import uuid
from dataclasses import dataclass, field
from typing import Any

from crm.domain.events import DomainEvent


@dataclass(frozen=True, slots=True)
class RecordedEvent:
    position: int
    stream_id: uuid.UUID
    version: int
    event: DomainEvent
    occurred_at: dt.datetime  # when it happened in the clinic
    recorded_at: dt.datetime  # when the store committed it
    metadata: dict[str, Any] = field(default_factory=dict)

    @property
    def event_type(self) -> str:
        return self.event.event_type

    @property
    def imported(self) -> bool:
        """Recorded from another system's history (the EHR import sets metadata "source"),
        not done through this CRM: nothing is sent or opened for it after the fact."""
        return bool(self.metadata.get("source"))
