"""The pushed screen pop, rendered for each agent when it is delivered: the lookup's own body
(crm.api.lookup) for the caller's number, plus the call's sid, place in line and crisis."""

from __future__ import annotations

from typing import Any

from django.utils import timezone

from crm.api.audit import AccessNote
from crm.api.lookup import caller_lookup
from crm.desk import feed

# What the access audit says of a pop an agent received, like a lookup's outcome.
OUTCOME = "screen_pop"
# What a pop adds to the lookup's body.
EXTRA = ("call_sid", "queue_position", "crisis_first")


@feed.renderer(feed.SCREEN_POP)
def render(data: dict[str, Any], user: Any) -> tuple[dict[str, Any], list[AccessNote]]:
    """The pop for `user` now: read from the profiles as they stand when it is delivered (a
    replayed pop shows today's record), restricted notes as the user's role allows."""
    found = caller_lookup(str(data.get("phone") or ""), picked=None, user=user, now=timezone.now())
    body = {
        **found.body,
        "call_sid": data.get("call_sid"),
        "queue_position": data.get("queue_position"),
        "crisis_first": bool(data.get("crisis")),
    }
    notes = [AccessNote(note.patient_id, OUTCOME, note.query_digest) for note in found.notes]
    return body, notes
