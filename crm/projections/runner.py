"""Catch-up projections: followers of the global log with a checkpoint each.

A batch of events, the read-model rows it produces and the checkpoint move commit in one
transaction (I6): a crash anywhere in between rolls all three back, so the batch is
replayed, never skipped or applied twice. On PostgreSQL a transaction-scoped advisory lock
per projection lets any number of workers run this while exactly one advances each
checkpoint at a time.
"""

from __future__ import annotations

import abc
import zlib
from collections.abc import Callable, Sequence
from typing import ClassVar

from django.conf import settings
from django.db import connection, models, transaction

from crm import eventstore
from crm.domain.recorded import RecordedEvent
from crm.models import ProjectionCheckpoint


class CatchUpProjection(abc.ABC):
    name: ClassVar[str]
    read_models: ClassVar[tuple[type[models.Model], ...]]

    @abc.abstractmethod
    def handle(self, events: Sequence[RecordedEvent]) -> None:
        """Write the read-model rows for `events` (already in position order)."""

    def reset(self) -> None:
        for model in self.read_models:
            model._default_manager.all().delete()


_REGISTRY: dict[str, CatchUpProjection] = {}


def register(projection: CatchUpProjection) -> None:
    if projection.name in _REGISTRY or projection.name == "profile":
        raise ValueError(f"a projection named {projection.name!r} is already registered")
    _REGISTRY[projection.name] = projection


def registered() -> dict[str, CatchUpProjection]:
    return dict(_REGISTRY)


def checkpoint_of(name: str) -> int:
    row = ProjectionCheckpoint.objects.filter(name=name).values_list("position", flat=True)
    return row.first() or 0


def run_once(projection: CatchUpProjection, *, batch_size: int | None = None) -> int:
    """Process one batch. Returns how many events it handled: 0 when caught up, or when
    another worker holds this projection right now."""
    size = batch_size or settings.PROJECTION_BATCH_SIZE
    with transaction.atomic():
        if not try_lock(projection.name):
            return 0
        checkpoint, _ = ProjectionCheckpoint.objects.select_for_update().get_or_create(
            name=projection.name
        )
        events = eventstore.read_all(checkpoint.position, size)
        if not events:
            return 0
        projection.handle(events)
        checkpoint.position = events[-1].position
        checkpoint.save(update_fields=["position", "updated_at"])
        return len(events)


def catch_up(
    projection: CatchUpProjection,
    *,
    batch_size: int | None = None,
    progress: Callable[[int], object] | None = None,
) -> int:
    """Run batches until the projection has seen every committed event."""
    total = 0
    while handled := run_once(projection, batch_size=batch_size):
        total += handled
        if progress is not None:
            progress(handled)
    return total


def catch_up_all() -> dict[str, int]:
    return {name: catch_up(projection) for name, projection in _REGISTRY.items()}


def rebuild(
    projection: CatchUpProjection,
    *,
    batch_size: int | None = None,
    progress: Callable[[int], object] | None = None,
) -> int:
    """Drop the projection's rows and replay the whole log into them."""
    with transaction.atomic():
        lock(projection.name)
        projection.reset()
        set_checkpoint(projection.name, 0)
    return catch_up(projection, batch_size=batch_size, progress=progress)


def _lock_key(name: str) -> int:
    return zlib.crc32(f"crm.projection.{name}".encode())


def set_checkpoint(name: str, position: int) -> None:
    """Move `name`'s checkpoint; only inside the transaction that wrote its rows (I6)."""
    ProjectionCheckpoint.objects.update_or_create(name=name, defaults={"position": position})


def try_lock(name: str) -> bool:
    """Hold projection `name` until this transaction ends, unless another worker has it.

    Anything that writes a projection's rows outside `run_once` (a bulk pass, a job on
    the clock) takes it too, so only one writer at a time touches them."""
    if connection.vendor != "postgresql":
        return True  # SQLite serializes writers at BEGIN IMMEDIATE
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_try_advisory_xact_lock(%s)", [_lock_key(name)])
        row = cursor.fetchone()
    return bool(row and row[0])


def lock(name: str) -> None:
    """Hold projection `name` until this transaction ends, waiting for it if need be."""
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_xact_lock(%s)", [_lock_key(name)])
