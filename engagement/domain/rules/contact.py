"""The contact rules: call back a missed call, act on a text the patient sent, try another channel
after failed attempts."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable

from crm.domain import events as ev
from engagement.domain.config import RuleConfig
from engagement.domain.rules.words import Words, window_passed
from engagement.domain.state import EngagementState, Text
from engagement.domain.suggestions import Kind, Need, shared_suggestion_id, suggestion_id

_MISSED_INBOUND = {
    ev.CallDisposition.MISSED,
    ev.CallDisposition.ABANDONED,
    ev.CallDisposition.VOICEMAIL,
}


def callbacks(s: EngagementState, c: RuleConfig, w: Words) -> list[Need]:
    """A patient's call we missed (missed, abandoned in the queue, or a voicemail they
    left): call back. Met by the next live conversation."""
    missed = [
        call
        for call in s.calls
        if call.direction is ev.CallDirection.INBOUND and call.disposition in _MISSED_INBOUND
    ]
    missed.sort(key=lambda call: call.at)
    needs: list[Need] = []
    for index, call in enumerate(missed):
        what = {
            ev.CallDisposition.MISSED: "Missed call",
            ev.CallDisposition.ABANDONED: "Call abandoned in the queue",
            ev.CallDisposition.VOICEMAIL: "Voicemail left",
        }[call.disposition]
        need = Need(
            shared_suggestion_id(Kind.CALLBACK, call.call_id, call.evidence),
            Kind.CALLBACK,
            opened_at=call.at,
            due_at=call.at + c.callback_due,
            reason=f"{what} {w.time(call.at)}; no conversation since. Call back.",
            evidence=[call.evidence],
            payload={"call_id": str(call.call_id)},
            aliases=(suggestion_id(Kind.CALLBACK, call.call_id),),
        )
        _met_by_conversation(need, s, w)
        if index + 1 < len(missed):
            nxt = missed[index + 1]
            need.lapses(nxt.at, f"The patient called again {w.time(nxt.at)}; call back once.")
        need.lapses(call.at + c.callback_window, window_passed(c.callback_window))
        needs.append(need)
    return needs


def _met_by_conversation(need: Need, s: EngagementState, w: Words) -> None:
    reached = s.reached_after(need.opened_at)
    if reached is not None:
        need.met(
            reached.at, f"Spoke with the patient ({reached.channel.value}) {w.time(reached.at)}."
        )


def texts(s: EngagementState, c: RuleConfig, w: Words) -> list[Need]:
    """Inbound texts an agent must act on, as the SMS webhook read them."""
    needs: list[Need] = []
    by_intent: dict[ev.SmsIntent, list[Text]] = {}
    for text in s.texts:
        by_intent.setdefault(text.intent, []).append(text)
    for text in by_intent.get(ev.SmsIntent.STOP_REQUEST, []):
        need = Need(
            shared_suggestion_id(Kind.SMS_STOP_REVIEW, text.message_id, text.evidence),
            Kind.SMS_STOP_REVIEW,
            opened_at=text.at,
            due_at=text.at + c.callback_due,
            reason=(
                f"Text {w.time(text.at)} reads as a request to stop texting. Review it: "
                "complete with opted_out to stop all texts, or keeps_texts. No text goes to "
                "this number until then."
            ),
            evidence=[text.evidence],
            payload={"message_id": str(text.message_id)},
            aliases=(suggestion_id(Kind.SMS_STOP_REVIEW, text.message_id),),
        )
        revoked = [at for at in s.sms_revoked_at if at >= text.at]
        if revoked:
            need.met(min(revoked), f"Text messages were stopped {w.time(min(revoked))}.")
        needs.append(need)
    for intent, kind, asks in (
        (ev.SmsIntent.RESCHEDULE, Kind.RESCHEDULE_REQUEST, "asked to reschedule"),
        (ev.SmsIntent.FREE_TEXT, Kind.SMS_CALLBACK, "wrote to us"),
    ):
        received = by_intent.get(intent, [])
        for index, text in enumerate(received):
            action = "find a new time" if kind is Kind.RESCHEDULE_REQUEST else "call back"
            need = Need(
                shared_suggestion_id(kind, text.message_id, text.evidence),
                kind,
                opened_at=text.at,
                due_at=text.at + c.callback_due,
                reason=f"The patient {asks} by text {w.time(text.at)}; {action}.",
                evidence=[text.evidence],
                payload={"message_id": str(text.message_id)},
                aliases=(suggestion_id(kind, text.message_id),),
            )
            if kind is Kind.RESCHEDULE_REQUEST:
                _met_by_booking_change(need, s, w)
            else:
                _met_by_conversation(need, s, w)
            if index + 1 < len(received):
                nxt = received[index + 1]
                need.lapses(nxt.at, f"Superseded by the patient's text {w.time(nxt.at)}.")
            need.lapses(text.at + c.callback_window, window_passed(c.callback_window))
            needs.append(need)
    return needs


def _met_by_booking_change(need: Need, s: EngagementState, w: Words) -> None:
    after = need.opened_at
    for booking in s.bookings.values():
        for moved in booking.moved_at:
            if moved > after:
                need.met(moved, f"Appointment moved {w.time(moved)}.")
        if booking.scheduled_at > after:
            need.met(booking.scheduled_at, f"Appointment booked {w.time(booking.scheduled_at)}.")
        closed = booking.closed_evidence
        cancelled = closed is not None and closed.event_type == "AppointmentCancelled"
        if closed is not None and cancelled and closed.occurred_at > after:
            need.met(closed.occurred_at, f"Appointment cancelled {w.time(closed.occurred_at)}.")


def unreachable(s: EngagementState, c: RuleConfig, w: Words) -> list[Need]:
    """After N failed attempts on one channel with no contact in between, try another."""
    needs: list[Need] = []
    contacts = sorted(at for at, _ in s.contacts)
    streaks: dict[ev.Channel, list[tuple[dt.datetime, str]]] = {}
    last_reset: dt.datetime | None = None
    for attempt in sorted(s.failed_attempts, key=lambda a: a.at):
        reset = [
            at for at in contacts if at < attempt.at and (last_reset is None or at > last_reset)
        ]
        if reset:
            streaks.clear()
            last_reset = reset[-1]
        streak = streaks.setdefault(attempt.channel, [])
        streak.append((attempt.at, attempt.what))
        if len(streak) != c.unreachable_attempts:
            continue
        others = _other_channels(s, attempt.channel)
        channel = (
            "calls" if attempt.channel is ev.Channel.VOICE else f"{attempt.channel.value} attempts"
        )
        tries = f"try {_list(others)}" if others else "no other channel is on file: ask for one"
        need = Need(
            shared_suggestion_id(Kind.TRY_OTHER_CHANNEL, attempt.attempt_id, attempt.evidence),
            Kind.TRY_OTHER_CHANNEL,
            opened_at=attempt.at,
            due_at=attempt.at,
            reason=(
                f"{len(streak)} {channel} without reaching the patient since "
                f"{w.day(streak[0][0])} ({', '.join(what for _, what in streak)}); {tries}."
            ),
            evidence=[attempt.evidence],
            payload={"channel": attempt.channel.value, "try": others},
            aliases=(suggestion_id(Kind.TRY_OTHER_CHANNEL, attempt.attempt_id),),
        )
        contact = s.contact_after(attempt.at)
        if contact is not None:
            need.met(contact[0], f"In touch again ({contact[1]}) {w.time(contact[0])}.")
        for call in s.calls:
            if call.at > attempt.at and call.channel is not attempt.channel:
                need.met(call.at, f"Tried by {call.channel.value} {w.time(call.at)}.")
        need.lapses(attempt.at + c.callback_window, window_passed(c.callback_window))
        needs.append(need)
    return needs


def _other_channels(s: EngagementState, failed: ev.Channel) -> list[str]:
    patient = s.patient
    texts_allowed = any(
        patient.has_consent(ev.Channel.SMS, purpose)
        for purpose in (ev.ConsentPurpose.CARE_MESSAGES, ev.ConsentPurpose.APPOINTMENT_REMINDERS)
    )
    channels = {
        ev.Channel.VOICE: patient.phone is not None,
        ev.Channel.SMS: patient.phone is not None and texts_allowed,
        ev.Channel.EMAIL: bool(patient.email),
    }
    return [ch.value for ch, available in channels.items() if available and ch is not failed]


def _list(items: Iterable[str]) -> str:
    words = list(items)
    if len(words) <= 1:
        return "".join(words)
    return ", ".join(words[:-1]) + " or " + words[-1]
