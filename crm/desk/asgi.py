"""Django's ASGI handler, with the desk's streams served without a thread of their own: an
open stream is a coroutine, not a parked thread (docs/desk.md, measured)."""

from __future__ import annotations

import functools
from typing import Any

from django.core.handlers.asgi import ASGIHandler
from django.urls import reverse


@functools.cache
def _stream_path() -> str:
    return reverse("desk-stream")


class ClinicASGIHandler(ASGIHandler):
    """Django gives each request a thread for its sync parts (the views, the middleware),
    kept until the response has been sent: a stream open for an hour would hold one for an
    hour. A stream's sync part (credentials, replay, audit) takes milliseconds, so streams
    share asgiref's one thread for it instead, and the rest is the event loop's."""

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] == "http" and scope.get("path") == _stream_path():
            await self.handle(scope, receive, send)
            return
        await super().__call__(scope, receive, send)
