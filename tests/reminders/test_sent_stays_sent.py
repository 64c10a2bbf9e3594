"""A reminder whose text was handed over is sent (then delivered, failed, answered), and
stays so whatever becomes of the visit afterwards; a rebuild of the schedule says the
same, replies included."""

from __future__ import annotations

import datetime as dt

import pytest

from crm import handlers
from crm.domain import events as ev
from crm.projections import runner
from reminders.dispatch import dispatch_due
from reminders.domain.status_reports import CallbackStatus
from reminders.handlers.inbound import InboundSms, sms_receive
from reminders.handlers.status_reports import StatusCallback, sms_status_report
from reminders.models import OutboundMessage, Reminder
from tests.reminders.conftest import local
from tests.reminders.sms_webhook import new_sid

pytestmark = pytest.mark.django_db

VISIT = local(2026, 11, 10, 10, 30)  # `now` is Tue Nov 3 2026, 09:00 in New York
SENT_AT = VISIT - dt.timedelta(hours=72)
HOME = "+16175550134"


def text_from(phone: str, body: str, at: dt.datetime) -> None:
    sms = InboundSms(provider_message_id=new_sid(), from_number=phone, body=body, received_at=at)
    sms_receive(sms=sms, now=at)


def delivered(patient, at: dt.datetime) -> None:
    message = OutboundMessage.objects.get(patient_id=patient, kind="reminder")
    sms_status_report(
        callback=StatusCallback(
            provider_message_id=message.provider_message_id,
            status=CallbackStatus.DELIVERED,
            error_code="",
            reported_at=at,
        )
    )


def close(how: str, patient, appointment, actor) -> None:
    after = VISIT + dt.timedelta(hours=1)
    if how == "cancelled":
        handlers.appointment_cancel(
            patient_id=patient,
            appointment_id=appointment,
            cancelled_by=ev.CancelledBy.PATIENT,
            actor=actor,
            occurred_at=SENT_AT + dt.timedelta(hours=2),
        )
    elif how == "completed":
        handlers.appointment_complete(
            patient_id=patient,
            appointment_id=appointment,
            actor=actor,
            now=after,
            occurred_at=after,
        )
    elif how == "no_show":
        handlers.appointment_no_show(
            patient_id=patient,
            appointment_id=appointment,
            actor=actor,
            now=after,
            occurred_at=after,
        )
    else:
        moved = SENT_AT + dt.timedelta(hours=2)
        handlers.appointment_reschedule(
            patient_id=patient,
            appointment_id=appointment,
            starts_at=VISIT + dt.timedelta(days=2),
            actor=actor,
            now=moved,
            occurred_at=moved,
        )


def rows_for_the_first_time(clinic, patient) -> dict[int | None, tuple[str, str]]:
    return {
        r.offset_hours: (r.state, r.reason)
        for r in clinic.reminders(patient)
        if r.appointment_starts_at == VISIT
    }


@pytest.mark.parametrize("how", ["cancelled", "completed", "no_show", "rescheduled"])
def test_a_reminder_sent_before_the_visit_was_closed_or_moved_stays_sent(clinic, actor, how):
    patient = clinic.patient()
    appointment = clinic.book(patient, VISIT)
    clinic.reminders()
    dispatch_due(now=SENT_AT)

    close(how, patient, appointment, actor)

    rows = rows_for_the_first_time(clinic, patient)
    assert rows[72] == ("sent", "")
    sent = next(r for r in clinic.reminders(patient) if r.offset_hours == 72)
    assert sent.sent_at == SENT_AT and sent.message_id is not None
    if how == "rescheduled":
        assert 24 not in rows  # never went: it moved with the visit
    else:
        assert rows[24][0] == "cancelled"  # never went: the visit was closed first


def test_a_delivered_and_answered_reminder_stays_so_after_the_visit_took_place(clinic, actor):
    patient = clinic.patient()
    appointment = clinic.book(patient, VISIT)
    clinic.reminders()
    dispatch_due(now=SENT_AT)
    delivered(patient, SENT_AT + dt.timedelta(seconds=20))
    text_from(HOME, "C", SENT_AT + dt.timedelta(minutes=12))

    close("completed", patient, appointment, actor)

    (reminder,) = [r for r in clinic.reminders(patient) if r.offset_hours == 72]
    assert reminder.state == "delivered"
    assert (reminder.reply_intent, reminder.reply_text) == ("confirm", "C")
    assert reminder.replied_at == SENT_AT + dt.timedelta(minutes=12)


def test_a_reply_is_the_first_text_back_before_the_next_reminder(clinic):
    patient = clinic.patient()
    clinic.book(patient, VISIT)
    clinic.reminders()
    dispatch_due(now=SENT_AT)
    text_from(HOME, "Is there parking at the clinic?", SENT_AT + dt.timedelta(hours=1))
    text_from(HOME, "R", SENT_AT + dt.timedelta(hours=2))
    clinic.reminders()
    dispatch_due(now=VISIT - dt.timedelta(hours=24))

    rows = {r.offset_hours: r for r in clinic.reminders(patient)}

    first, second = rows[72], rows[24]
    assert (first.reply_intent, first.reply_text) == (
        "free_text",
        "Is there parking at the clinic?",
    )
    assert first.replied_at == SENT_AT + dt.timedelta(hours=1)
    assert second.state == "sent" and second.reply_intent == "" and second.replied_at is None


def test_a_stop_in_answer_shows_on_the_reminder_and_blocks_the_next(clinic):
    patient = clinic.patient()
    clinic.book(patient, VISIT)
    clinic.reminders()
    dispatch_due(now=SENT_AT)
    text_from(HOME, "STOP", SENT_AT + dt.timedelta(minutes=5))

    rows = {r.offset_hours: r for r in clinic.reminders(patient)}

    assert (rows[72].state, rows[72].reply_intent, rows[72].reply_text) == (
        "sent",
        "opt_out",
        "STOP",
    )
    assert rows[24].state == "blocked"


def test_rebuilding_the_schedule_gives_the_same_sent_rows_and_replies(clinic, actor):
    kept = clinic.patient()
    cancelled = clinic.patient(phone="(617) 555-0135", first_name="Avery")
    a = clinic.book(kept, VISIT)
    b = clinic.book(cancelled, VISIT)
    clinic.reminders()
    dispatch_due(now=SENT_AT)
    delivered(kept, SENT_AT + dt.timedelta(seconds=30))
    text_from(HOME, "C", SENT_AT + dt.timedelta(minutes=3))
    close("cancelled", cancelled, b, actor)
    close("completed", kept, a, actor)
    clinic.reminders()

    def dump() -> list[tuple[str, ...]]:
        fields = [f.attname for f in Reminder._meta.concrete_fields]
        return sorted(tuple(str(v) for v in row) for row in Reminder.objects.values_list(*fields))

    live = dump()
    runner.rebuild(runner.registered()["reminders"], batch_size=2)

    assert dump() == live
    states = sorted(
        (r.offset_hours, r.state, r.reply_intent)
        for r in Reminder.objects.filter(patient_id__in=[kept, cancelled])
    )
    assert states == [
        (24, "cancelled", ""),
        (24, "cancelled", ""),
        (72, "delivered", "confirm"),
        (72, "sent", ""),
    ]
