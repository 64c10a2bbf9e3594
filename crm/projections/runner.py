"""Catch-up projections: followers of the global log with a checkpoint each, moved in the same
transaction as the batch's rows (I6); docs/event-store.md and docs/failure-model.md."""

from __future__ import annotations

import abc
import logging
import uuid
import zlib
from collections.abc import Callable, Sequence
from typing import ClassVar

from django.conf import settings
from django.db import (
    InterfaceError,
    OperationalError,
    ProgrammingError,
    connection,
    models,
    transaction,
)

from crm import eventstore
from crm.domain.recorded import RecordedEvent
from crm.eventstore import UnreadableEvent
from crm.models import ProjectionCheckpoint
from crm.projections import parking

logger = logging.getLogger(__name__)

# The database went away or a lock timed out: nothing is wrong with the events, so the
# batch is rolled back and tried again later rather than parking anything.
TRANSIENT_ERRORS = (OperationalError, InterfaceError)


def the_databases_trouble(exc: BaseException) -> bool:
    """Nothing the event did: the database went away, or its schema is not the one the
    code expects (a worker running before `migrate`: PostgreSQL's SQLSTATE class 42, which
    SQLite reports as an OperationalError). Such a failure stops the batch, parks no one."""
    if isinstance(exc, TRANSIENT_ERRORS):
        return True
    sqlstate = getattr(exc.__cause__, "sqlstate", None) or ""
    return isinstance(exc, ProgrammingError) and sqlstate.startswith("42")


class CatchUpProjection(abc.ABC):
    name: ClassVar[str]
    read_models: ClassVar[tuple[type[models.Model], ...]]

    @abc.abstractmethod
    def handle(self, events: Sequence[RecordedEvent]) -> None:
        """Write the read-model rows for `events` (already in position order)."""

    def reset(self) -> None:
        for model in self.read_models:
            model._default_manager.all().delete()

    def forget(self) -> None:  # noqa: B027  # most projections keep nothing
        """Drop what the projection keeps in memory between batches (after a rollback)."""


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
        batch = eventstore.read_for_followers(checkpoint.position, size)
        if not batch:
            return 0
        waiting = parking.parked_streams(projection.name)
        apply(projection, [e for e in batch if e.stream_id not in waiting], waiting)
        checkpoint.position = batch[-1].position
        checkpoint.save(update_fields=["position", "updated_at"])
        return len(batch)


def apply(
    projection: CatchUpProjection,
    batch: Sequence[RecordedEvent | UnreadableEvent],
    parked: set[uuid.UUID],
) -> None:
    """Hand `batch` to the projection; if that fails, go event by event in position order
    and park the stream of each event that fails, with every later event of it."""
    if not batch:
        return
    if not any(isinstance(e, UnreadableEvent) for e in batch):
        try:
            with transaction.atomic():
                projection.handle(batch)  # type: ignore[arg-type]  # all readable
            return
        except Exception as exc:
            if the_databases_trouble(exc):
                raise
            projection.forget()
            logger.warning("projection %s: a batch failed; isolating", projection.name)
    for item in batch:
        if item.stream_id in parked:
            continue
        if isinstance(item, UnreadableEvent):
            logger.error(
                "projection %s cannot read event #%s (%s) of stream %s; parking the stream: %s",
                projection.name,
                item.position,
                item.event_type,
                item.stream_id,
                item.error,
            )
            error: str | None = item.error
        else:
            error = _try(projection, item)
        if error is not None:
            parking.park(projection.name, item, error)
            parked.add(item.stream_id)


def _try(projection: CatchUpProjection, recorded: RecordedEvent) -> str | None:
    try:
        with transaction.atomic():
            projection.handle([recorded])
    except Exception as exc:
        if the_databases_trouble(exc):
            raise
        projection.forget()
        logger.exception(
            "projection %s cannot apply event #%s (%s) of stream %s; parking the stream",
            projection.name,
            recorded.position,
            recorded.event_type,
            recorded.stream_id,
        )
        return eventstore.records.describe(exc)
    return None


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


def catch_up_all(projections: Sequence[CatchUpProjection] | None = None) -> dict[str, int]:
    """Catch up every projection (or those given), a batch of each in turn until none has
    anything left: while clients append, a projection slower than their rate would never
    finish catching up, and one after another the rest (the queue of suggestions among
    them) would wait behind it for good. One that fails (the database went away under it)
    is logged and left out; the others still run, whatever their order."""
    chosen = list(_REGISTRY.values() if projections is None else projections)
    handled = {projection.name: 0 for projection in chosen}
    failed: list[str] = []
    while chosen:
        behind = []
        for projection in chosen:
            try:
                count = run_once(projection)
            except Exception:
                logger.exception("projection %s could not catch up", projection.name)
                failed.append(projection.name)
                continue
            handled[projection.name] += count
            if count:
                behind.append(projection)
        chosen = behind
    if failed:
        raise ProjectionsFailed(failed, {k: v for k, v in handled.items() if k not in failed})
    return handled


class ProjectionsFailed(Exception):
    def __init__(self, names: list[str], handled: dict[str, int]) -> None:
        super().__init__(f"projections that could not catch up: {', '.join(names)}")
        self.names = names
        self.handled = handled


def retry(projection: CatchUpProjection, stream_id: object) -> bool:
    """Replay a parked stream's waiting events (those the checkpoint has passed) and
    release it; the events after the checkpoint follow in the next batch as usual.
    Returns True when the stream is released, False when it fails again (still parked,
    with the new reason)."""
    with transaction.atomic():
        lock(projection.name)
        parked = parking.take(projection.name, stream_id)
        if parked is None:
            return True
        waiting = eventstore.read_stream_for_followers(
            parked.stream_id,
            from_position=parked.position,
            upto_position=checkpoint_of(projection.name),
        )
        projection.forget()
        still: set[uuid.UUID] = set()
        apply(projection, waiting, still)
        if still:
            parking.failed_again(parked)
            return False
        parking.release(parked)
        return True


def rebuild(
    projection: CatchUpProjection,
    *,
    batch_size: int | None = None,
    progress: Callable[[int], object] | None = None,
) -> int:
    """Drop the projection's rows (and its parked streams) and replay the whole log."""
    with transaction.atomic():
        lock(projection.name)
        projection.reset()
        parking.clear(projection.name)
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
