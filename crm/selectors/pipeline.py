"""Reads of the pipeline's health: each projection's checkpoint, its lag behind the log,
and the streams it has parked (I11). No patient data beyond stream ids."""

from __future__ import annotations

import datetime as dt
import uuid
from dataclasses import dataclass

from django.conf import settings
from django.db.models import Count, Min, OuterRef, Subquery
from django.db.models.functions import Coalesce

from crm import eventstore
from crm.models import Event, ParkedStream, ProjectionCheckpoint
from crm.projections import profile, runner

# Lag is counted in events up to this many; past it the figure says "at least".
LAG_COUNT_CAP = 100_000


@dataclass(frozen=True, slots=True)
class Parked:
    projection: str
    stream_id: uuid.UUID
    position: int
    event_type: str
    error: str
    parked_at: dt.datetime
    attempts: int
    retried_at: dt.datetime | None
    waiting: int  # events of the stream held back, the failing one included


@dataclass(frozen=True, slots=True)
class ProjectionHealth:
    name: str
    inline: bool
    checkpoint: int
    log_position: int
    lag_events: int
    lag_seconds: float
    stalled_seconds: float  # how long it has not moved while events wait; 0 if none wait
    advanced_at: dt.datetime | None
    parked: list[Parked]

    @property
    def alert(self) -> bool:
        return bool(self.parked) or self.lag_seconds > settings.PIPELINE_LAG_ALERT_SECONDS

    @property
    def stalled(self) -> bool:
        return self.stalled_seconds > settings.READY_STALL_SECONDS


def pipeline(now: dt.datetime) -> list[ProjectionHealth]:
    """Every projection, the inline profile first, then the catch-up ones by name."""
    log_position = eventstore.last_position()
    parked = _parked()
    checkpoints = {row.name: row for row in ProjectionCheckpoint.objects.all()}
    found = [
        ProjectionHealth(
            name=profile.NAME,
            inline=True,
            checkpoint=log_position,
            log_position=log_position,
            lag_events=0,
            lag_seconds=0.0,
            stalled_seconds=0.0,
            advanced_at=None,
            parked=parked.get(profile.NAME, []),
        )
    ]
    for name in sorted(runner.registered()):
        row = checkpoints.get(name)
        position = row.position if row is not None else 0
        advanced_at = row.updated_at if row is not None else None
        # One query: the waiting events (up to the cap), how many and the oldest.
        waiting = (
            Event.objects.filter(position__gt=position)
            .order_by("position")
            .values("position", "recorded_at")[:LAG_COUNT_CAP]
            .aggregate(count=Count("position"), oldest=Min("recorded_at"))
        )
        oldest = waiting["oldest"]
        lag = (now - oldest).total_seconds() if oldest is not None else 0.0
        stalled = 0.0
        if oldest is not None:
            since = oldest if advanced_at is None else max(oldest, advanced_at)
            stalled = max((now - since).total_seconds(), 0.0)
        found.append(
            ProjectionHealth(
                name=name,
                inline=False,
                checkpoint=position,
                log_position=log_position,
                lag_events=waiting["count"],
                lag_seconds=max(lag, 0.0),
                stalled_seconds=stalled,
                advanced_at=advanced_at,
                parked=parked.get(name, []),
            )
        )
    return found


def _parked() -> dict[str, list[Parked]]:
    held_back = (
        Event.objects.filter(stream_id=OuterRef("stream_id"), position__gte=OuterRef("position"))
        .values("stream_id")
        .annotate(n=Count("*"))
        .values("n")
    )
    rows = ParkedStream.objects.annotate(waiting=Coalesce(Subquery(held_back), 0))
    by_projection: dict[str, list[Parked]] = {}
    for row in rows:
        by_projection.setdefault(row.projection, []).append(
            Parked(
                projection=row.projection,
                stream_id=row.stream_id,
                position=row.position,
                event_type=row.event_type,
                error=row.error,
                parked_at=row.parked_at,
                attempts=row.attempts,
                retried_at=row.retried_at,
                waiting=row.waiting,
            )
        )
    return by_projection
