"""The TwiML the voice webhooks answer with (VoiceResponse): into the queue, or why it could
not take the caller. No patient is named: Twilio learns a queue and a priority, never why."""

from __future__ import annotations

import json

from twilio.twiml.voice_response import VoiceResponse  # type: ignore[import-untyped]

from crm.voice.domain import QueueResult, Routing

# Every task carries the same attributes: the workflow routes on its priority alone.
TASK_ATTRIBUTES = json.dumps({"type": "inbound_call"})
# Said when the queue let a caller go unanswered (full, an error, taken out of it).
SORRY = (
    "We are sorry, nobody could take your call just now. Please call again later. "
    "If you are in crisis, call or text 9 8 8. In an emergency, call 9 1 1."
)

_STILL_ON_THE_LINE = {
    QueueResult.QUEUE_FULL,
    QueueResult.LEAVE,
    QueueResult.ERROR,
    QueueResult.SYSTEM_ERROR,
}


def enqueue(routing: Routing, *, action: str, wait_url: str = "") -> str:
    """Put the caller in line: Twilio requests `action` when the call leaves the queue."""
    response = VoiceResponse()
    options = {"action": action, "method": "POST"}
    if wait_url:
        options.update(wait_url=wait_url, wait_url_method="POST")
    if routing.workflow_sid:
        queued = response.enqueue(None, workflow_sid=routing.workflow_sid, **options)
        queued.task(TASK_ATTRIBUTES, priority=routing.priority)
    else:
        response.enqueue(routing.queue, **options)
    return str(response)


def after_queue(result: QueueResult | None) -> str:
    """What the call does once it left the queue: done when it was answered or the caller
    hung up; otherwise the caller is still on the line and hears why before it ends."""
    response = VoiceResponse()
    if result in _STILL_ON_THE_LINE:
        response.say(SORRY)
    response.hangup()
    return str(response)


def empty() -> str:
    """The answer to a status callback: Twilio reads none, an empty document is polite."""
    return str(VoiceResponse())
