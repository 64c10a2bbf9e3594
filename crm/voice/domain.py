"""What a call's callbacks say, as plain rules: the facts Twilio reports, the disposition
they add up to, and whether they are enough to log the call yet (no Django, no clock)."""

from __future__ import annotations

import enum
from dataclasses import dataclass, replace

from crm.domain.events import CallDisposition


class CallStatus(enum.StrEnum):
    """Twilio's CallStatus values."""

    QUEUED = "queued"
    INITIATED = "initiated"
    RINGING = "ringing"
    IN_PROGRESS = "in-progress"
    COMPLETED = "completed"
    BUSY = "busy"
    NO_ANSWER = "no-answer"
    FAILED = "failed"
    CANCELED = "canceled"


ENDED_STATUSES = frozenset(
    {
        CallStatus.COMPLETED,
        CallStatus.BUSY,
        CallStatus.NO_ANSWER,
        CallStatus.FAILED,
        CallStatus.CANCELED,
    }
)


class QueueResult(enum.StrEnum):
    """Twilio's QueueResult values: why a call left the <Enqueue> queue."""

    BRIDGED = "bridged"  # an agent dequeued it; sent once the two hung up
    BRIDGING = "bridging-in-process"  # Twilio is bridging it to the agent
    ERROR = "error"  # the TwiML (ours or the wait URL's) was wrong
    HANGUP = "hangup"  # the caller hung up while waiting
    LEAVE = "leave"  # the wait URL's <Leave> took it out
    REDIRECTED = "redirected"  # taken out of the queue through the REST API
    REDIRECTED_FROM_BRIDGED = "redirected-from-bridged"  # answered, then transferred out
    QUEUE_FULL = "queue-full"  # refused: the queue was full
    SYSTEM_ERROR = "system-error"  # Twilio failed, or the caller hung up before queued


_ANSWERED = {QueueResult.BRIDGED, QueueResult.BRIDGING, QueueResult.REDIRECTED_FROM_BRIDGED}
# The call ended without the caller reaching anybody, and not by their own choice in the
# queue: the clinic missed it (a callback is due).
_MISSED_IN_QUEUE = {
    QueueResult.ERROR,
    QueueResult.LEAVE,
    QueueResult.REDIRECTED,
    QueueResult.QUEUE_FULL,
    QueueResult.SYSTEM_ERROR,
}
_NOT_ANSWERED = {
    CallStatus.BUSY: CallDisposition.BUSY,
    CallStatus.NO_ANSWER: CallDisposition.NO_ANSWER,
    CallStatus.FAILED: CallDisposition.MISSED,
    CallStatus.CANCELED: CallDisposition.MISSED,
}
# The order a call's statuses come in: a retried or late status never moves a call back.
_PROGRESS = {status: rank for rank, status in enumerate(CallStatus)}


@dataclass(frozen=True, slots=True)
class CallFacts:
    """What Twilio has told us of one call so far, from any number of callbacks."""

    enqueued: bool = False  # we answered its incoming webhook with <Enqueue>
    status: CallStatus | None = None  # the furthest status heard
    sequence: int | None = None  # that status's SequenceNumber, when Twilio gave one
    duration_seconds: int | None = None  # CallDuration, once the call ended
    queue_result: QueueResult | None = None
    queue_seconds: int | None = None  # QueueTime

    def with_status(
        self, status: CallStatus, *, sequence: int | None, duration_seconds: int | None
    ) -> CallFacts:
        """These facts after a status callback: kept if it is older than what we know (a
        retry, or one overtaken by a later status), taken if it is newer."""
        if self.status is not None:
            if self.status in ENDED_STATUSES and status not in ENDED_STATUSES:
                return self
            if sequence is not None and self.sequence is not None and sequence < self.sequence:
                return self
            if sequence is None and _PROGRESS[status] < _PROGRESS[self.status]:
                return self
        duration = duration_seconds if duration_seconds is not None else self.duration_seconds
        return replace(self, status=status, sequence=sequence, duration_seconds=duration)

    def with_queue(self, result: QueueResult, queue_seconds: int | None) -> CallFacts:
        """These facts after the queue's action callback (Twilio sends one per call; a retry
        says the same)."""
        seconds = queue_seconds if queue_seconds is not None else self.queue_seconds
        return replace(self, enqueued=True, queue_result=result, queue_seconds=seconds)


@dataclass(frozen=True, slots=True)
class Outcome:
    """How a call ended, in the clinic's words, and its times in seconds."""

    disposition: CallDisposition
    duration_seconds: int  # from the first ring to the hang-up
    talk_seconds: int  # with an agent
    queue_seconds: int  # waiting in the queue


def outcome(facts: CallFacts) -> Outcome | None:
    """The call's outcome once the facts are enough to tell it, else None (wait for more).

    An ended status is always needed (it carries the call's length); an enqueued call also
    needs the queue's result, which alone tells an answered call from one abandoned in the
    queue. Either may come first."""
    if facts.status is None or facts.status not in ENDED_STATUSES:
        return None
    duration = facts.duration_seconds or 0
    queued = min(facts.queue_seconds or 0, duration) if duration else facts.queue_seconds or 0
    if facts.status in _NOT_ANSWERED and facts.queue_result is None:
        return Outcome(_NOT_ANSWERED[facts.status], duration, 0, queued)
    if facts.queue_result is None:
        if facts.enqueued:
            return None
        # Ended without ever reaching the queue (its incoming webhook never answered with
        # one): the clinic missed it, whatever the caller heard.
        return Outcome(CallDisposition.MISSED, duration, 0, 0)
    if facts.queue_result in _ANSWERED:
        return Outcome(CallDisposition.CONNECTED, duration, max(duration - queued, 0), queued)
    if facts.queue_result is QueueResult.HANGUP:
        return Outcome(CallDisposition.ABANDONED, duration, 0, queued)
    assert facts.queue_result in _MISSED_IN_QUEUE
    return Outcome(CallDisposition.MISSED, duration, 0, queued)


# Numbers that are not a caller's: Twilio's stand-ins for a withheld caller ID
# ("+266696687" spells ANONYMOUS on a keypad) and the words carriers send.
WITHHELD = frozenset({"+266696687", "266696687", "anonymous", "restricted", "unknown", "private"})


def caller_number(raw: str) -> str | None:
    """The caller's number as Twilio gave it when it can be a phone number; None when it is
    withheld or not a phone (a softphone's client:..., a SIP address)."""
    text = raw.strip()
    if not text or text.lower() in WITHHELD:
        return None
    if ":" in text or "@" in text:
        return None
    return text


@dataclass(frozen=True, slots=True)
class Routing:
    """Where a caller waits: a TaskRouter workflow with a task priority, or a named queue."""

    queue: str
    crisis_first: bool
    workflow_sid: str = ""
    priority: int = 0


def route(
    *, crisis: bool, queue: str, crisis_queue: str, workflow_sid: str, crisis_priority: int
) -> Routing:
    """A caller with an open crisis flag goes ahead of everyone else: with a TaskRouter
    workflow, as a task of higher priority; without one, in the crisis queue the desk answers
    first (a plain Twilio queue is first-in, first-out, and <Enqueue> cannot put a caller at
    its head). Only the patient's record decides it, never the number's area code."""
    if workflow_sid:
        return Routing(
            queue=queue,
            crisis_first=crisis,
            workflow_sid=workflow_sid,
            priority=crisis_priority if crisis else 0,
        )
    return Routing(queue=crisis_queue if crisis else queue, crisis_first=crisis)


@dataclass(frozen=True, slots=True)
class Stale:
    """A call whose callbacks stopped short: how it is logged from what is known, and why."""

    outcome: Outcome
    why: str


def stale_outcome(
    facts: CallFacts,
    *,
    age_seconds: int,
    quiet_seconds: int,
    wrapped_up: bool,
    grace_seconds: int,
    longest_seconds: int,
) -> Stale | None:
    """The outcome of a call still live `age_seconds` after it rang and `quiet_seconds` after
    anything was last heard of it, when waiting longer can no longer be right; else None.

    One callback missing, after `grace_seconds` of silence: an ended call without the queue's
    result, or the queue's result without the ended status (whose length is then the time
    from the ring to that result). Neither, once no call can still be going on (Twilio ends
    a call at `longest_seconds`). Nobody known to have answered: missed, not abandoned (the
    caller is not known to have hung up in the queue; the clinic did not reach them), so the
    callback is suggested. An agent's wrap-up says somebody did answer: connected."""
    if facts.queue_result is not None and (
        facts.status is None or facts.status not in ENDED_STATUSES
    ):
        if quiet_seconds < grace_seconds:
            return None
        if facts.queue_result is QueueResult.BRIDGING and age_seconds < longest_seconds:
            return None  # still being put through to an agent: the talk may go on for hours
        # The queue's result ends the call on our side (its answer is a hang-up): it lasted
        # from the ring to that callback, as far as we can tell.
        heard = max(age_seconds - quiet_seconds, 0)
        ended = replace(facts, status=CallStatus.COMPLETED, duration_seconds=heard)
        told = outcome(ended)
        assert told is not None
        return Stale(told, "no ended status came after the queue's result")
    ended_without_queue = facts.status in ENDED_STATUSES
    if ended_without_queue:
        if quiet_seconds < grace_seconds:
            return None
        why = "the queue's result never came"
    elif age_seconds < longest_seconds + grace_seconds:
        return None
    else:
        why = "neither its ended status nor the queue's result came"
    told = outcome(facts)
    if told is not None:  # enough after all (a call that never reached the queue)
        return Stale(told, why)
    duration = facts.duration_seconds if ended_without_queue else None
    duration = duration if duration is not None else max(age_seconds - quiet_seconds, 0)
    if wrapped_up:
        queued = min(facts.queue_seconds or 0, duration)
        return Stale(
            Outcome(CallDisposition.CONNECTED, duration, duration - queued, queued),
            why + "; an agent wrapped it up, so it was answered",
        )
    # An enqueued call nobody is known to have answered waited all its length.
    waited = duration if facts.enqueued else 0
    return Stale(Outcome(CallDisposition.MISSED, duration, 0, waited), why)
