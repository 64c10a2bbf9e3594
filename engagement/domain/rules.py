"""The rules: pure functions from a patient's engagement state and the configuration to the
needs they see, over the whole history they can see (docs/engagement.md, Rules)."""

from __future__ import annotations

import datetime as dt
import functools
from collections.abc import Callable, Iterable

from crm.domain import events as ev
from crm.domain import moments
from crm.domain.phones import timezone_for_phone
from crm.domain.state import AppointmentState, AppointmentStatus
from engagement.domain.config import RuleConfig
from engagement.domain.state import LIVE_CHANNELS, Crisis, EngagementState, Text
from engagement.domain.suggestions import Kind, Need, shared_suggestion_id, suggestion_id

Rule = Callable[[EngagementState, RuleConfig, "Words"], list[Need]]

_MISSED_INBOUND = {
    ev.CallDisposition.MISSED,
    ev.CallDisposition.ABANDONED,
    ev.CallDisposition.VOICEMAIL,
}


# A number's zone, parsed once per number: the bulk re-evaluation meets each many times.
_number_zone = functools.lru_cache(maxsize=4096)(timezone_for_phone)


class Words:
    """Dates and times in the patient's zone, as a reason writes them: a moment labelled
    with the zone's abbreviation and the clinic's clock beside it when the two differ
    ("Tue Nov 17, 2026, 12:00 PM CST (clinic: 1:00 PM EST)"), a day without its time
    ("Tue Nov 17, 2026"). crm.domain.moments writes both, as on every other screen; an
    unknown or empty zone reads as the clinic's."""

    def __init__(self, zone_name: str | None, clinic_zone_name: str = "") -> None:
        self.clinic = moments.zone_named(clinic_zone_name)
        self.zone = moments.zone_named(zone_name, clinic_zone_name)

    @classmethod
    def of(cls, timezone: str, phone: str | None, clinic_zone_name: str) -> Words:
        """In the zone the profile shows the patient in: theirs, their number's, or the
        clinic's."""
        zone = timezone or (_number_zone(phone) if phone else None) or clinic_zone_name
        return cls(zone, clinic_zone_name)

    def day(self, moment: dt.datetime) -> str:
        return moments.local_day(moment, self.zone)

    def time(self, moment: dt.datetime) -> str:
        return moments.moment(moment, self.zone, clinic=self.clinic)

    def local_date(self, moment: dt.datetime) -> dt.date:
        return moment.astimezone(self.zone).date()

    def start_of_day_after(self, day: dt.date) -> dt.datetime:
        following = day + dt.timedelta(days=1)
        return dt.datetime.combine(following, dt.time(0), tzinfo=self.zone).astimezone(dt.UTC)

    def business_day_after(self, moment: dt.datetime) -> dt.datetime:
        """The same time one working day later (Saturdays and Sundays skipped)."""
        local = moment.astimezone(self.zone) + dt.timedelta(days=1)
        while local.weekday() >= 5:
            local += dt.timedelta(days=1)
        return local.astimezone(dt.UTC)


def _type_words(kind: ev.AppointmentType) -> str:
    return {
        ev.AppointmentType.ANNUAL_WELLNESS: "annual wellness visit",
        ev.AppointmentType.NEW_PATIENT: "new-patient visit",
        ev.AppointmentType.FOLLOW_UP: "follow-up visit",
        ev.AppointmentType.THERAPY: "therapy session",
        ev.AppointmentType.PSYCHIATRY: "psychiatry visit",
        ev.AppointmentType.TEST: "test appointment",
    }[kind]


def _list(items: Iterable[str]) -> str:
    words = list(items)
    if len(words) <= 1:
        return "".join(words)
    return ", ".join(words[:-1]) + " or " + words[-1]


# --- crisis --------------------------------------------------------------------------------


def crisis_follow_up(s: EngagementState, c: RuleConfig, w: Words) -> list[Need]:
    """A live conversation within 24 h of a crisis contact, tried again and again until
    the patient is reached (the safety-plan check), and by 72 h at the latest. Never paused.
    """
    needs: list[Need] = []
    for index, crisis in enumerate(s.crises):
        sid = suggestion_id(Kind.CRISIS_FOLLOW_UP, crisis.crisis_id)
        window_ends = crisis.at + c.crisis_window
        attempts = _crisis_attempts(s, sid, crisis)
        due = crisis.at + c.crisis_first_call
        if attempts:
            due = min(max(attempts) + c.crisis_retry, window_ends)
        handoff = crisis.handoff.value.replace("_", " ")
        reason = (
            f"Crisis contact {w.time(crisis.at)}: risk {crisis.risk_level.value}, "
            f"handoff: {handoff}. Call within "
            f"{_hours(c.crisis_first_call)} to check on the patient and their safety plan"
        )
        if attempts:
            reason += f"; {len(attempts)} attempt(s) so far, last {w.time(max(attempts))}"
        reason += (
            f"; keep trying until reached, by {w.time(window_ends)} at the latest. "
            f"Crisis line: {c.crisis_line}."
        )
        need = Need(
            sid,
            Kind.CRISIS_FOLLOW_UP,
            opened_at=crisis.at,
            due_at=due,
            reason=reason,
            evidence=[crisis.evidence],
            payload={
                "crisis_id": str(crisis.crisis_id),
                "crisis_line": c.crisis_line,
                "risk_level": crisis.risk_level.value,
                "window_ends_at": window_ends.astimezone(dt.UTC).isoformat(),
                "attempts": len(attempts),
            },
        )
        reached = s.reached_after(crisis.at)
        if reached is not None:
            need.met(
                reached.at, f"Patient reached by {reached.channel.value} {w.time(reached.at)}."
            )
            need.evidence.append(reached.evidence)
        later = s.crises[index + 1] if index + 1 < len(s.crises) else None
        if later is not None:
            need.lapses(later.at, _superseded_by_crisis(w, later))
        if s.crisis_cleared_at is not None and s.crisis_cleared_at > crisis.at:
            need.lapses(
                s.crisis_cleared_at,
                f"A clinician cleared the crisis flag {w.time(s.crisis_cleared_at)}.",
            )
        needs.append(need)
    return needs


def _crisis_attempts(s: EngagementState, sid: str, crisis: Crisis) -> list[dt.datetime]:
    """Times someone tried and did not reach the patient since the crisis contact."""
    tried = [
        a.at
        for a in s.failed_attempts
        if a.at > crisis.at and a.channel in LIVE_CHANNELS | {ev.Channel.SMS}
    ]
    tried += [
        entry.at
        for entry in s.ledger.get(sid, [])
        if entry.action == "completed" and entry.outcome == "not_reached"
    ]
    return tried


def _superseded_by_crisis(w: Words, later: Crisis) -> str:
    return f"Superseded by the crisis contact {w.time(later.at)}, which has its own follow-up."


def _hours(delta: dt.timedelta) -> str:
    return f"{int(delta.total_seconds() // 3600)} h"


def caring_contacts(s: EngagementState, c: RuleConfig, w: Words) -> list[Need]:
    """Brief messages that ask nothing of the patient, on a schedule over the year after
    a crisis contact, whether or not the patient answers. A new crisis starts a new series."""
    needs: list[Need] = []
    total = len(c.caring_contacts)
    for index, crisis in enumerate(s.crises):
        later = s.crises[index + 1] if index + 1 < len(s.crises) else None
        opens = [crisis.at + offset for offset in c.caring_contacts]
        for number, opened in enumerate(opens, start=1):
            if later is not None and opened >= later.at:
                break
            need = Need(
                suggestion_id(Kind.CARING_CONTACT, crisis.crisis_id, number),
                Kind.CARING_CONTACT,
                opened_at=opened,
                due_at=opened,
                reason=(
                    f"Caring contact {number} of {total} after the crisis contact "
                    f"{w.day(crisis.at)}: a short, warm message that asks nothing of the "
                    "patient. Send it whether or not they answered the last one."
                ),
                evidence=[crisis.evidence],
                payload={
                    "crisis_id": str(crisis.crisis_id),
                    "number": number,
                    "of": total,
                    "crisis_line": c.crisis_line,
                },
            )
            if number < total:
                need.lapses(
                    opens[number],
                    f"Superseded by caring contact {number + 1} of {total}, due "
                    f"{w.day(opens[number])}.",
                )
            else:
                need.lapses(
                    opened + c.caring_contact_last_window,
                    f"The last caring contact's window passed "
                    f"({c.caring_contact_last_window.days} days).",
                )
            if later is not None:
                need.lapses(
                    later.at, _superseded_by_crisis(w, later).replace("follow-up", "series")
                )
            needs.append(need)
    return needs


# --- calls and texts ---------------------------------------------------------------------


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
        need.lapses(call.at + c.callback_window, _window_passed(c.callback_window))
        needs.append(need)
    return needs


def _met_by_conversation(need: Need, s: EngagementState, w: Words) -> None:
    reached = s.reached_after(need.opened_at)
    if reached is not None:
        need.met(
            reached.at, f"Spoke with the patient ({reached.channel.value}) {w.time(reached.at)}."
        )


def _window_passed(window: dt.timedelta) -> str:
    return f"Nobody acted within {window.days} days."


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
            need.lapses(text.at + c.callback_window, _window_passed(c.callback_window))
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
        need.lapses(attempt.at + c.callback_window, _window_passed(c.callback_window))
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


# --- visits ------------------------------------------------------------------------------


def no_show_follow_ups(s: EngagementState, c: RuleConfig, w: Words) -> list[Need]:
    """Call back within one business day of a no-show; met by any contact since."""
    needs: list[Need] = []
    for appointment_id, at, evidence in s.no_shows:
        appointment = s.patient.appointments[appointment_id]
        need = Need(
            suggestion_id(Kind.NO_SHOW_FOLLOW_UP, appointment_id),
            Kind.NO_SHOW_FOLLOW_UP,
            opened_at=at,
            due_at=w.business_day_after(at),
            reason=(
                f"No-show for {_type_words(appointment.appointment_type)} with "
                f"{appointment.provider} {w.day(appointment.starts_at)}; no contact since."
            ),
            evidence=[evidence],
            payload={"appointment_id": str(appointment_id)},
        )
        contact = s.contact_after(at)
        if contact is not None:
            need.met(contact[0], f"In touch again ({contact[1]}) {w.time(contact[0])}.")
        for other_id, booking in s.bookings.items():
            if other_id != appointment_id and booking.scheduled_at > at:
                need.met(booking.scheduled_at, f"Rebooked {w.time(booking.scheduled_at)}.")
        need.lapses(at + c.no_show_window, _window_passed(c.no_show_window))
        needs.append(need)
    return needs


def confirmations(s: EngagementState, c: RuleConfig, w: Words) -> list[Need]:
    """An appointment within 48 h that the patient has not confirmed: call to confirm."""
    needs: list[Need] = []
    for appointment_id, appointment in s.patient.appointments.items():
        booking = s.bookings.get(appointment_id)
        if booking is None:
            continue
        opened = max(
            appointment.starts_at - c.unconfirmed_window,
            booking.moved_at[-1] if booking.moved_at else booking.scheduled_at,
        )
        if opened >= appointment.starts_at:
            continue
        need = Need(
            suggestion_id(Kind.CONFIRM_APPOINTMENT, appointment_id),
            Kind.CONFIRM_APPOINTMENT,
            opened_at=opened,
            due_at=max(opened, appointment.starts_at - dt.timedelta(hours=24)),
            reason=(
                f"{_type_words(appointment.appointment_type).capitalize()} with "
                f"{appointment.provider} {w.time(appointment.starts_at)} is not confirmed; "
                "call to confirm."
            ),
            evidence=[booking.evidence],
            payload={
                "appointment_id": str(appointment_id),
                "starts_at": appointment.starts_at.astimezone(dt.UTC).isoformat(),
            },
        )
        if booking.confirmed_at is not None:
            need.met(booking.confirmed_at, f"Confirmed {w.time(booking.confirmed_at)}.")
        _lapses_with_appointment(need, appointment, w)
        needs.append(need)
    return needs


def _lapses_with_appointment(need: Need, appointment: AppointmentState, w: Words) -> None:
    if appointment.status is AppointmentStatus.CANCELLED and appointment.closed_at is not None:
        need.lapses(
            appointment.closed_at, f"The appointment was cancelled {w.time(appointment.closed_at)}."
        )
    need.lapses(appointment.starts_at, "The appointment time came before it was confirmed.")


def visit_follow_ups(s: EngagementState, c: RuleConfig, w: Words) -> list[Need]:
    """After a visit whose type calls for a follow-up, one should be booked within the
    configured delay; met by any booking made after the visit."""
    needs: list[Need] = []
    completed = sorted(s.completed_visits, key=lambda v: v[1])
    for index, (appointment_id, at, evidence) in enumerate(completed):
        appointment = s.patient.appointments[appointment_id]
        delay = c.follow_up_delays.get(appointment.appointment_type.value)
        if delay is None:
            continue
        opened = appointment.starts_at + delay
        need = Need(
            suggestion_id(Kind.VISIT_FOLLOW_UP, appointment_id),
            Kind.VISIT_FOLLOW_UP,
            opened_at=opened,
            due_at=opened,
            reason=(
                f"{_type_words(appointment.appointment_type).capitalize()} with "
                f"{appointment.provider} {w.day(appointment.starts_at)} calls for a follow-up "
                f"within {delay.days} days; none is booked."
            ),
            evidence=[evidence],
            payload={"appointment_id": str(appointment_id)},
        )
        for other_id, booking in s.bookings.items():
            other = s.patient.appointments.get(other_id)
            if other_id == appointment_id or other is None or booking.scheduled_at <= at:
                continue
            if other.status is not AppointmentStatus.CANCELLED:
                need.met(booking.scheduled_at, f"Booked {w.time(booking.scheduled_at)}.")
        for later_id, later_at, _ in completed[index + 1 :]:
            later = s.patient.appointments[later_id]
            if later.appointment_type is appointment.appointment_type:
                need.lapses(later_at, f"Superseded by the visit {w.day(later.starts_at)}.")
                break
        need.lapses(opened + c.follow_up_window, _window_passed(c.follow_up_window))
        needs.append(need)
    return needs


def overdue_tests(s: EngagementState, c: RuleConfig, w: Words) -> list[Need]:
    """A test ordered but neither done nor booked by its due date."""
    needs: list[Need] = []
    for test_id, test in s.patient.tests.items():
        opened = w.start_of_day_after(test.due_by)
        need = Need(
            suggestion_id(Kind.TEST_OVERDUE, test_id),
            Kind.TEST_OVERDUE,
            opened_at=opened,
            due_at=opened,
            reason=(
                f"{test.test_name} was due by {moments.day(test.due_by)} "
                f"(ordered {w.day(test.ordered_at)}); not done or booked."
            ),
            evidence=[e for e in [s.tests_evidence.get(test_id)] if e is not None],
            payload={"test_id": str(test_id), "due_by": test.due_by.isoformat()},
        )
        if test.completed_at is not None:
            need.met(test.completed_at, f"Done {w.day(test.completed_at)}.")
        for appointment_id, booking in s.bookings.items():
            appointment = s.patient.appointments[appointment_id]
            if (
                appointment.appointment_type is ev.AppointmentType.TEST
                and booking.scheduled_at > test.ordered_at
                and appointment.status is not AppointmentStatus.CANCELLED
            ):
                need.met(booking.scheduled_at, f"Test booked {w.time(booking.scheduled_at)}.")
        need.lapses(opened + c.test_window, _window_passed(c.test_window))
        needs.append(need)
    return needs


def annual_wellness(s: EngagementState, c: RuleConfig, w: Words) -> list[Need]:
    """Due when no annual wellness visit was attended in the last 12 months (or ever) and
    none is booked. One need per cycle, named by the visit the cycle counts from."""
    patient = s.patient
    if patient.registered_at is None:
        return []
    annual = ev.AppointmentType.ANNUAL_WELLNESS
    attended = sorted(
        (
            a
            for a in patient.appointments.values()
            if a.appointment_type is annual and a.status is AppointmentStatus.COMPLETED
        ),
        key=lambda a: a.starts_at,
    )
    booked = [
        a for a in patient.appointments.values() if a.appointment_type is annual and a.is_open
    ]
    needs: list[Need] = []
    anchors: list[AppointmentState | None] = [None, *attended]
    for index, anchor in enumerate(anchors):
        if anchor is None:
            opened, cycle, since = patient.registered_at, "first", "no annual visit on record"
        else:
            opened = anchor.starts_at + c.annual_interval
            cycle, since = (
                w.local_date(anchor.starts_at).isoformat(),
                f"last one {w.day(anchor.starts_at)}",
            )
        need = Need(
            suggestion_id(Kind.ANNUAL_WELLNESS, patient.patient_id, cycle),
            Kind.ANNUAL_WELLNESS,
            opened_at=opened,
            due_at=opened,
            reason=f"Annual wellness visit due ({since}); none booked.",
            payload={
                "last_visit_at": None
                if anchor is None
                else anchor.starts_at.astimezone(dt.UTC).isoformat()
            },
        )
        following = anchors[index + 1] if index + 1 < len(anchors) else None
        meeting = [following] if following is not None else booked
        for visit in meeting:
            booking = s.bookings.get(visit.appointment_id) if visit is not None else None
            if booking is not None:
                need.met(
                    booking.scheduled_at, f"Annual visit booked {w.time(booking.scheduled_at)}."
                )
                need.evidence.append(booking.evidence)
        needs.append(need)
    return needs


def sms_consent(s: EngagementState, c: RuleConfig, w: Words) -> list[Need]:
    """No answer on file about texts (neither a yes nor a no) while an appointment is
    booked: ask, so reminders can go out. Someone who said no is never asked again."""
    patient = s.patient
    if patient.phone is None or not s.bookings:
        return []
    on_file = s.sms_consent_on_file_at
    asked_from = min(b.scheduled_at for b in s.bookings.values())
    if on_file is not None and on_file <= asked_from:
        return []
    first = min(s.bookings.values(), key=lambda b: b.scheduled_at)
    need = Need(
        suggestion_id(Kind.SMS_CONSENT, patient.patient_id),
        Kind.SMS_CONSENT,
        opened_at=asked_from,
        due_at=asked_from,
        reason="An appointment is booked and we have no answer about text reminders; ask "
        "whether the patient agrees to be texted.",
        evidence=[first.evidence],
    )
    # Open while any booked appointment is still ahead; asked again if one is booked later.
    ends = [
        a.starts_at + dt.timedelta(minutes=a.duration_minutes)
        for a in patient.appointments.values()
        if a.is_open
    ]
    ended = [a.closed_at or a.starts_at for a in patient.appointments.values() if not a.is_open]
    need.lapses(max([*ends, *ended, asked_from]), "No appointment is booked any more.")
    if on_file is not None:
        need.met(on_file, f"An answer about texts was recorded {w.time(on_file)}.")
    return [need]


RULES: tuple[Rule, ...] = (
    crisis_follow_up,
    caring_contacts,
    callbacks,
    texts,
    unreachable,
    no_show_follow_ups,
    confirmations,
    visit_follow_ups,
    overdue_tests,
    annual_wellness,
    sms_consent,
)
