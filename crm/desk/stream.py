"""GET /api/v1/desk/stream: the agent's Server-Sent Events stream, one logic served as a sync
generator under WSGI and as an async generator under ASGI (docs/desk.md)."""

from __future__ import annotations

import json
import logging
import threading
import time
from collections.abc import AsyncIterator, Iterator, Mapping
from typing import Any

from asgiref.sync import sync_to_async
from django.conf import settings
from django.core.handlers.asgi import ASGIRequest
from django.db import connection
from django.http import HttpResponse, StreamingHttpResponse
from django.http.response import HttpResponseBase
from django.utils import timezone
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import renderers, serializers
from rest_framework.request import Request

from crm.api import audit
from crm.api.audit import AccessNote
from crm.api.base import ApiView
from crm.api.problems import PROBLEM_BASE, InvalidRequest, Problem
from crm.desk import feed
from crm.desk.broadcast import BROADCASTER, Subscription
from crm.desk.feed import FeedEvent
from crm.models import AccessAction

logger = logging.getLogger(__name__)

EVENT_STREAM = "text/event-stream"
RETRY_MS = 2000
# Streams being opened at once in a process (each holds a connection meanwhile).
_OPENING = threading.BoundedSemaphore(8)
# Last-Event-ID is an id this server gave: a positive 64-bit integer.
_MAX_ID = 2**63 - 1


class EventStreamRenderer(renderers.BaseRenderer):
    """Lets content negotiation accept text/event-stream; the stream writes its own bytes
    (errors are problem+json whatever was asked, crm.api.problems)."""

    media_type = EVENT_STREAM
    format = "event-stream"
    charset = "utf-8"

    def render(
        self,
        data: Any,
        accepted_media_type: str | None = None,
        renderer_context: Mapping[str, Any] | None = None,
    ) -> bytes:
        return json.dumps(data).encode()


class StreamQuery(serializers.Serializer[Any]):
    last_event_id = serializers.IntegerField(
        required=False,
        min_value=0,
        max_value=_MAX_ID,
        help_text="The id of the last event received, for clients that cannot send the "
        "Last-Event-ID header.",
    )


def release_connection() -> None:
    """An idle stream holds no database connection (a test's transaction is left alone)."""
    if not connection.in_atomic_block:
        connection.close()


class DeskStream:
    """One open stream: what to send first, which events are due, how each is rendered and
    audited for this user, and when to send a comment to keep the line open."""

    def __init__(
        self,
        request: Request,
        user: Any,
        subscription: Subscription,
        *,
        replay: list[FeedEvent],
        position: int,
    ) -> None:
        self.request = request
        self.user = user
        self.subscription = subscription
        self.position = position
        self._replay = replay
        self._ends_at = time.monotonic() + settings.DESK_STREAM_MAX_SECONDS

    def opening(self) -> bytes:
        return f"retry: {RETRY_MS}\n: desk stream for {self.user.pk}\n\n".encode()

    @staticmethod
    def keep_alive() -> bytes:
        return b": keep-alive\n\n"

    def due(self) -> list[FeedEvent]:
        """Events to send now, each once: the replay first, then what the broadcaster
        offered after this stream's starting point."""
        events, self._replay = self._replay, []
        for event in self.subscription.take():
            if event.id > self.position:
                events.append(event)
        if events:
            self.position = max(self.position, max(event.id for event in events))
        return events

    def needs_database(self, events: list[FeedEvent]) -> bool:
        return any(feed.renderer_for(event.kind) is not None for event in events)

    def deliver(self, events: list[FeedEvent]) -> bytes:
        """The messages for `events`, rendered for this user; each renderer's notes go to
        the access audit. Leaves no database connection open behind it."""
        try:
            return b"".join(self._one(event) for event in events)
        finally:
            if self.needs_database(events):
                release_connection()

    def _one(self, event: FeedEvent) -> bytes:
        if event.message and feed.renderer_for(event.kind) is None:
            return event.message  # the same bytes for everyone, nothing to audit
        try:
            body, notes = feed.render(event, self.user)
        except Exception:
            # A record that cannot be read now must not end every agent's stream.
            logger.exception("desk stream: rendering %s %s failed", event.kind, event.id)
            return b""
        self._audit(notes)
        return feed.sse_message(event.id, event.kind, body)

    def _audit(self, notes: list[AccessNote]) -> None:
        audit.record(
            self.request, user=self.user, action=AccessAction.READ, status_code=200, notes=notes
        )

    def timeout(self) -> float:
        """Seconds to wait for an event before the next keep-alive (or the end)."""
        left = self._ends_at - time.monotonic()
        return max(0.0, min(float(settings.DESK_KEEPALIVE_SECONDS), left))

    def over(self) -> bool:
        # Past its lifetime, or too far behind: the desktop reconnects with Last-Event-ID.
        return self.subscription.overflowed or time.monotonic() >= self._ends_at

    def close(self) -> None:
        self.subscription.close()


def sync_messages(stream: DeskStream) -> Iterator[bytes]:
    """The stream under WSGI (runserver, gunicorn, the test server): a thread per stream."""
    try:
        release_connection()
        yield stream.opening()
        while True:
            events = stream.due()
            if events:
                chunk = stream.deliver(events)
                if chunk:
                    yield chunk
                continue
            if stream.over():
                return
            if not stream.subscription.wait(stream.timeout()) and not stream.over():
                yield stream.keep_alive()
    finally:
        stream.close()


async def async_messages(stream: DeskStream) -> AsyncIterator[bytes]:
    """The same stream under ASGI (uvicorn): a coroutine per stream; rendering and the
    audit run in the thread pool, one connection each, closed after."""
    try:
        yield stream.opening()
        while True:
            events = stream.due()
            if events:
                if stream.needs_database(events):
                    chunk = await sync_to_async(stream.deliver, thread_sensitive=False)(events)
                else:
                    chunk = stream.deliver(events)
                if chunk:
                    yield chunk
                continue
            if stream.over():
                return
            if not await stream.subscription.wait_async(stream.timeout()) and not stream.over():
                yield stream.keep_alive()
    finally:
        stream.close()


class StreamServedElsewhere(Problem):
    """The request reached gunicorn: its workers each serve one request at a time, so a
    stream open all day there would take a worker from the rest of the API for good."""

    status_code = 503
    problem_type = PROBLEM_BASE + "stream-served-elsewhere"
    title = "The desk's stream is not served by this server."


def _one_request_per_worker(request: Request) -> bool:
    """gunicorn (production's WSGI server), whose workers each hold an open stream whole;
    runserver and the tests' live server give each request a thread of their own."""
    software: str = request.META.get("SERVER_SOFTWARE", "")
    return software.startswith("gunicorn")


class DeskStreamApi(ApiView):
    """The agent's live desk: screen pops, ended calls and queue changes, pushed."""

    renderer_classes = [EventStreamRenderer]
    query_serializer_class = StreamQuery
    extra_problems = {
        400: "Last-Event-ID (or last_event_id) is not an event id.",
        406: "Only text/event-stream is available (send Accept: text/event-stream).",
        503: "Reached gunicorn: the stream is served by uvicorn (deploy/README.md).",
    }

    def dispatch(self, request: Any, *args: Any, **kwargs: Any) -> Any:
        # Opening a stream takes a database connection (credentials, replay, audit) and
        # gives it back at once; at most a few open together, so every desktop of a clinic
        # reconnecting at once (a restart) does not ask PostgreSQL for one each.
        with _OPENING:
            try:
                return super().dispatch(request, *args, **kwargs)
            finally:
                # Under WSGI this thread serves the stream from here on: it lets go. Under
                # ASGI every opening shares one thread (crm.desk.asgi), whose connection
                # Django closes as requests end.
                if not isinstance(request, ASGIRequest):
                    release_connection()

    @extend_schema(
        tags=["desk"],
        operation_id="desk_stream",
        summary="The desk's event stream (Server-Sent Events)",
        description="A text/event-stream that stays open. Each message has `id` (send it "
        "back as Last-Event-ID when reconnecting), `event` (screen_pop, call_ended, "
        "queue_changed) and `data` (one line of JSON). `retry: 2000` comes first and a "
        "`: keep-alive` comment every 15 seconds. Reconnecting with Last-Event-ID replays "
        "the events after it from the last 10 minutes. Every screen pop delivered is "
        "recorded in the access audit, like a lookup. See docs/desk.md.",
        parameters=[
            StreamQuery,
            OpenApiParameter(
                "Last-Event-ID",
                OpenApiTypes.INT64,
                OpenApiParameter.HEADER,
                description="The id of the last event received (EventSource sends it when "
                "it reconnects): the events after it from the last 10 minutes come first.",
            ),
        ],
        responses={
            (200, EVENT_STREAM): OpenApiResponse(
                OpenApiTypes.STR,
                description="Messages `id: <n>`, `event: <kind>`, `data: <JSON>`, each "
                "ended by a blank line, as long as the connection stays open.",
            )
        },
    )
    def get(self, request: Request) -> HttpResponseBase:
        if _one_request_per_worker(request):
            raise StreamServedElsewhere(
                "This server's workers serve the API; the desk's stream is served by uvicorn. "
                'Route /api/v1/desk/stream to it (deploy/README.md, "The desk\'s streams").'
            )
        after = self._last_event_id(request)
        if request.method == "HEAD":
            # What a GET would answer with, and no stream behind it that never ends.
            return HttpResponse(content_type=EVENT_STREAM)
        user = request.user
        user_id: int = user.pk  # type: ignore[assignment]  # signed in: the permission says so
        subscription = BROADCASTER.subscribe(user_id)
        try:
            # Read after subscribing: whatever commits from here on reaches the inbox.
            position = feed.last_id()
            replay = []
            if after is not None:
                replay = feed.replay_since(after, user_id=user_id, now=timezone.now())
                position = max([position, *(event.id for event in replay)])
        except BaseException:
            subscription.close()
            raise
        self.access_notes = [AccessNote(None, "stream_opened")]
        stream = DeskStream(request, user, subscription, replay=replay, position=position)
        content: Iterator[bytes] | AsyncIterator[bytes]
        if isinstance(request._request, ASGIRequest):
            content = async_messages(stream)
        else:
            content = sync_messages(stream)
        response = StreamingHttpResponse(content, content_type=EVENT_STREAM)
        # nginx and its kind must pass each message on as it comes.
        response["X-Accel-Buffering"] = "no"
        # A response closed before it was read (a client gone at once) still lets go.
        response._resource_closers.append(subscription.close)  # type: ignore[attr-defined]
        return response

    def _last_event_id(self, request: Request) -> int | None:
        query = self.validated_query(request)
        header = request.headers.get("Last-Event-ID")
        if header is None:
            found: int | None = query.get("last_event_id")
            return found
        value = header.strip()
        if not value.isdigit() or int(value) > _MAX_ID:
            raise InvalidRequest(
                {"Last-Event-ID": ["must be the id of an event this stream sent (digits)."]}
            )
        return int(value)
