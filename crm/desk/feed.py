"""Publishing to the desk: one row per pushed event, in the caller's transaction, and the
renderers that turn an event into what one agent may see (docs/desk.md)."""

from __future__ import annotations

import datetime as dt
import json
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from django.conf import settings
from django.core.serializers.json import DjangoJSONEncoder
from django.db import connection, transaction
from django.db.models import Q
from django.utils import timezone

from crm.api.audit import AccessNote
from crm.models import DeskEvent

SCREEN_POP = "screen_pop"
CALL_ENDED = "call_ended"
QUEUE_CHANGED = "queue_changed"
KINDS = frozenset({SCREEN_POP, CALL_ENDED, QUEUE_CHANGED})

# PostgreSQL's channel: a wake-up only, the broadcaster re-reads the table (I4's trap).
CHANNEL = "crm_desk"
# One-key advisory lock ("crm_desk" in ASCII), apart from the event store's own keys.
_ORDER_LOCK = 0x63726D5F6465736B
# A body is a few hundred bytes (ids, a phone number, flags); bigger is a bug.
MAX_BODY_BYTES = 64 * 1024

Renderer = Callable[[dict[str, Any], Any], tuple[dict[str, Any], list[AccessNote]]]
_RENDERERS: dict[str, Renderer] = {}


@dataclass(frozen=True, slots=True)
class FeedEvent:
    """A row of the feed as the broadcaster hands it around (no model across threads)."""

    id: int
    kind: str
    data: dict[str, Any]
    user_id: int | None
    created_at: dt.datetime
    patient_ids: tuple[str, ...] = field(default=())
    # The SSE message as stored, encoded once for every stream that sends it unrendered.
    message: bytes = b""

    def is_for(self, user_id: int) -> bool:
        return self.user_id is None or self.user_id == user_id


COLUMNS = ("id", "kind", "data", "user_id", "created_at", "patient_ids")


def from_row(row: Sequence[Any]) -> FeedEvent:
    """A FeedEvent from a values_list row of COLUMNS."""
    ident, kind, data, user_id, created_at, patient_ids = row
    message = b"" if kind in _RENDERERS else sse_message(ident, kind, data)
    return FeedEvent(
        ident, kind, dict(data), user_id, created_at, tuple(patient_ids or ()), message
    )


def sse_message(event_id: int, kind: str, body: dict[str, Any]) -> bytes:
    """One Server-Sent Events message; the body is one line of JSON, so no newline can
    end its data field early."""
    data = json.dumps(body, separators=(",", ":"), ensure_ascii=False)
    return f"id: {event_id}\nevent: {kind}\ndata: {data}\n\n".encode()


def publish(
    kind: str,
    data: dict[str, Any],
    *,
    user_id: int | None = None,
    patient_ids: Sequence[uuid.UUID] = (),
) -> int:
    """Record an event for the desk in the caller's transaction; agents' streams receive it
    once that commits. Returns its id (the stream's event id).

    On PostgreSQL this takes a lock held to the end of the caller's transaction, so ids
    become visible in the order they were given and a reader after id N skips none: call
    it last in a transaction, after any other lock (as the event store's append does).
    """
    if kind not in KINDS:
        raise ValueError(f"Unknown desk event kind {kind!r}; one of {sorted(KINDS)}.")
    body = json.loads(json.dumps(data, cls=DjangoJSONEncoder))
    if len(json.dumps(body)) > MAX_BODY_BYTES:
        raise ValueError(f"A desk event's body must stay under {MAX_BODY_BYTES} bytes.")
    with transaction.atomic():
        postgres = connection.vendor == "postgresql"
        if postgres:
            with connection.cursor() as cursor:
                cursor.execute("SELECT pg_advisory_xact_lock(%s)", [_ORDER_LOCK])
        event = DeskEvent.objects.create(
            kind=kind,
            data=body,
            user_id=user_id,
            patient_ids=[str(pid) for pid in patient_ids],
            created_at=timezone.now(),
        )
        if postgres:
            with connection.cursor() as cursor:
                cursor.execute("SELECT pg_notify(%s, %s)", [CHANNEL, str(event.id)])
    # This process's own streams need not wait for the next poll (SQLite, runserver).
    transaction.on_commit(_nudge_broadcaster)
    return event.id


def _nudge_broadcaster() -> None:
    from crm.desk import broadcast

    broadcast.BROADCASTER.nudge()


def register_renderer(kind: str, fn: Renderer) -> None:
    """fn(data, user) -> (body for that user, AccessNotes for the audit), called when the
    event is delivered to each recipient. Kinds without one are sent as stored."""
    if kind not in KINDS:
        raise ValueError(f"Unknown desk event kind {kind!r}; one of {sorted(KINDS)}.")
    _RENDERERS[kind] = fn


def renderer(kind: str) -> Callable[[Renderer], Renderer]:
    """Decorator form of register_renderer."""

    def register(fn: Renderer) -> Renderer:
        register_renderer(kind, fn)
        return fn

    return register


def renderer_for(kind: str) -> Renderer | None:
    return _RENDERERS.get(kind)


def render(event: FeedEvent, user: Any) -> tuple[dict[str, Any], list[AccessNote]]:
    """The body `user` receives for `event`, and what the audit records of it."""
    fn = _RENDERERS.get(event.kind)
    if fn is None:
        return event.data, []
    return fn(dict(event.data), user)


def replay_since(
    last_event_id: int, *, user_id: int, now: dt.datetime, limit: int = 1000
) -> list[FeedEvent]:
    """What a desktop reconnecting after `last_event_id` missed: the events for it created
    in the last DESK_REPLAY_SECONDS, oldest first, at most `limit`."""
    since = now - dt.timedelta(seconds=settings.DESK_REPLAY_SECONDS)
    rows = (
        DeskEvent.objects.filter(id__gt=last_event_id, created_at__gte=since)
        .filter(Q(user_id__isnull=True) | Q(user_id=user_id))
        .order_by("id")
        .values_list(*COLUMNS)[:limit]
    )
    return [from_row(row) for row in rows]


def last_id() -> int:
    """The newest event's id (0 for none): a new stream delivers only what comes after."""
    found = DeskEvent.objects.order_by("-id").values_list("id", flat=True).first()
    return found or 0


def prune(*, now: dt.datetime | None = None) -> int:
    """Delete the feed's rows older than DESK_KEEP_HOURS; returns how many went."""
    moment = now or timezone.now()
    cutoff = moment - dt.timedelta(hours=settings.DESK_KEEP_HOURS)
    deleted, _ = DeskEvent.objects.filter(created_at__lt=cutoff).delete()
    return deleted
