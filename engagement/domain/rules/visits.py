"""The visit rules: no-shows, confirmations, follow-up visits, overdue tests, the annual wellness
visit, and asking for text consent while a visit is booked."""

from __future__ import annotations

import datetime as dt

from crm.domain import events as ev
from crm.domain import moments
from crm.domain.state import AppointmentState, AppointmentStatus
from engagement.domain.config import RuleConfig
from engagement.domain.rules.words import Words, window_passed
from engagement.domain.state import EngagementState
from engagement.domain.suggestions import Kind, Need, suggestion_id


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
        need.lapses(at + c.no_show_window, window_passed(c.no_show_window))
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
        need.lapses(opened + c.follow_up_window, window_passed(c.follow_up_window))
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
        need.lapses(opened + c.test_window, window_passed(c.test_window))
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


def _type_words(kind: ev.AppointmentType) -> str:
    return {
        ev.AppointmentType.ANNUAL_WELLNESS: "annual wellness visit",
        ev.AppointmentType.NEW_PATIENT: "new-patient visit",
        ev.AppointmentType.FOLLOW_UP: "follow-up visit",
        ev.AppointmentType.THERAPY: "therapy session",
        ev.AppointmentType.PSYCHIATRY: "psychiatry visit",
        ev.AppointmentType.TEST: "test appointment",
    }[kind]
