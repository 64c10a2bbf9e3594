"""Reminder confirmation and opt-out rates, counted by the metrics projection from crm's own
events: SmsSent with a reminder, AppointmentConfirmed by SMS, ConsentRevoked by text."""

from __future__ import annotations

import datetime as dt
import random
import uuid
import zoneinfo

import pytest

from crm import handlers
from crm.domain import events as ev
from crm.domain.errors import DomainError
from crm.handlers import Actor
from crm.handlers.base import execute
from crm.models import DailyReminderStats, PatientProfile, RemindedAppointment
from crm.projections import runner
from crm.projections.metrics import MetricsProjection
from crm.selectors.metrics import supervisor_figures

pytestmark = pytest.mark.django_db

CLINIC = zoneinfo.ZoneInfo("America/New_York")
MONDAY = dt.date(2026, 11, 2)
LATER = dt.datetime(2027, 6, 1, tzinfo=dt.UTC)
DESK = Actor(name="frontdesk.birch", channel="admin", role="front_desk")
TEXTS = Actor.system("sms")


def at(day: dt.date, hour: int = 10) -> dt.datetime:
    return dt.datetime.combine(day, dt.time(hour), tzinfo=CLINIC)


def patient(name: str, phone: str) -> uuid.UUID:
    when = at(MONDAY - dt.timedelta(days=100))
    return handlers.patient_register(
        first_name=name,
        last_name="Quillbrook",
        date_of_birth=dt.date(1980, 1, 1),
        phone=phone,
        actor=DESK,
        now=when,
        occurred_at=when,
    ).patient_id


def book(patient_id: uuid.UUID, starts_at: dt.datetime) -> uuid.UUID:
    visit = uuid.uuid4()
    booked = starts_at - dt.timedelta(days=14)
    handlers.appointment_schedule(
        patient_id=patient_id,
        appointment_id=visit,
        appointment_type=ev.AppointmentType.FOLLOW_UP,
        starts_at=starts_at,
        provider="Dr. Priya Fernhurst",
        location="Main Street Clinic",
        actor=DESK,
        now=booked,
        occurred_at=booked,
    )
    return visit


def reminder_texted(
    patient_id: uuid.UUID, sent_at: dt.datetime, visit: uuid.UUID | None = None
) -> None:
    """What the reminder dispatcher records once the SMS provider took the text."""
    execute(
        patient_id=patient_id,
        decide=lambda state: [
            ev.SmsSent(
                message_id=uuid.uuid4(),
                to=state.phone or "",
                body="Reminder of your visit. Reply C to confirm.",
                purpose=ev.ConsentPurpose.APPOINTMENT_REMINDERS,
                reminder_id=uuid.uuid4(),
                appointment_id=visit,
            )
        ],
        actor=Actor.system("reminders"),
        occurred_at=sent_at,
    )


def confirmed(patient_id: uuid.UUID, visit: uuid.UUID, when: dt.datetime, via: ev.Channel):
    handlers.appointment_confirm(
        patient_id=patient_id,
        appointment_id=visit,
        via=via,
        actor=TEXTS if via is ev.Channel.SMS else DESK,
        now=when,
        occurred_at=when,
    )


def week():
    runner.catch_up_all()
    return supervisor_figures(start=MONDAY, end=MONDAY + dt.timedelta(days=6), now=LATER)


def test_a_visit_confirmed_by_text_after_its_reminder_counts_once(db):
    rowan = patient("Rowan", "(617) 555-0134")
    visit = book(rowan, at(MONDAY + dt.timedelta(days=3)))
    reminder_texted(rowan, at(MONDAY, 10))  # 72 h before
    confirmed(rowan, visit, at(MONDAY, 11), ev.Channel.SMS)
    reminder_texted(rowan, at(MONDAY + dt.timedelta(days=2), 10))  # 24 h before

    total = week().total

    assert total.reminders_sent == 2
    assert (total.reminded_appointments, total.confirmed_by_text) == (1, 1)
    assert total.reminder_confirmation_rate == 1.0


def test_a_confirmation_by_phone_or_without_a_reminder_is_not_a_text_confirmation(db):
    rowan = patient("Rowan", "(617) 555-0134")
    avery = patient("Avery", "(617) 555-0135")
    by_phone = book(rowan, at(MONDAY + dt.timedelta(days=3)))
    unreminded = book(avery, at(MONDAY + dt.timedelta(days=3)))
    reminder_texted(rowan, at(MONDAY, 10))
    confirmed(rowan, by_phone, at(MONDAY, 15), ev.Channel.VOICE)
    confirmed(avery, unreminded, at(MONDAY, 15), ev.Channel.SMS)

    total = week().total

    assert (total.reminded_appointments, total.confirmed_by_text) == (1, 0)
    assert total.reminder_confirmation_rate == 0.0


def test_a_reminder_counts_for_the_soonest_open_visit_after_it(db):
    rowan = patient("Rowan", "(617) 555-0134")
    cancelled = book(rowan, at(MONDAY + dt.timedelta(days=1)))
    later = book(rowan, at(MONDAY + dt.timedelta(days=5)))
    soonest = book(rowan, at(MONDAY + dt.timedelta(days=2)))
    handlers.appointment_cancel(
        patient_id=rowan,
        appointment_id=cancelled,
        cancelled_by=ev.CancelledBy.PATIENT,
        actor=DESK,
        occurred_at=at(MONDAY - dt.timedelta(days=1)),
    )
    reminder_texted(rowan, at(MONDAY, 9))
    week()

    reminded = set(
        RemindedAppointment.objects.filter(first_reminder_at__isnull=False).values_list(
            "appointment_id", flat=True
        )
    )
    assert reminded == {soonest}
    assert later not in reminded


def test_a_reminder_that_names_its_visit_counts_for_that_visit(db):
    # Two visits three days apart: the 72 h reminder of the later one goes out before
    # the earlier visit, and must not be counted for it.
    rowan = patient("Rowan", "(617) 555-0134")
    earlier = book(rowan, at(MONDAY + dt.timedelta(days=2)))
    later = book(rowan, at(MONDAY + dt.timedelta(days=4)))
    reminder_texted(rowan, at(MONDAY + dt.timedelta(days=1)), visit=later)
    confirmed(rowan, later, at(MONDAY + dt.timedelta(days=1), 11), ev.Channel.SMS)
    week()

    reminded = dict(
        RemindedAppointment.objects.filter(first_reminder_at__isnull=False).values_list(
            "appointment_id", "confirmed_by_text_at"
        )
    )
    assert set(reminded) == {later}
    assert earlier not in reminded
    assert reminded[later] is not None


def test_opt_outs_by_keyword_or_carrier_count_over_reminders_sent(db):
    rowan = patient("Rowan", "(617) 555-0134")
    avery = patient("Avery", "(617) 555-0135")
    for person in (rowan, avery):
        book(person, at(MONDAY + dt.timedelta(days=3)))
        reminder_texted(person, at(MONDAY, 10))
    for person, source in (
        (rowan, ev.ConsentSource.SMS_KEYWORD),
        (avery, ev.ConsentSource.VERBAL),  # asked the desk: not an opt-out by text
    ):
        handlers.consent_revoke(
            patient_id=person,
            channel=ev.Channel.SMS,
            purpose=None,
            source=source,
            actor=TEXTS,
            occurred_at=at(MONDAY, 12),
        )
    handlers.consent_revoke(
        patient_id=avery,
        channel=ev.Channel.SMS,
        purpose=None,
        source=ev.ConsentSource.CARRIER,
        actor=TEXTS,
        occurred_at=at(MONDAY + dt.timedelta(days=1), 12),
    )

    figures = week()

    assert (figures.total.opt_outs, figures.total.reminders_sent) == (2, 2)
    assert figures.total.opt_out_rate == 1.0
    assert [p.opt_outs for p in figures.periods[:2]] == [1, 1]


def test_a_quiet_week_has_no_reminder_rates(db):
    total = week().total

    assert total.reminder_confirmation_rate is None and total.opt_out_rate is None


def test_rebuilding_reproduces_every_reminder_row(db):
    rng = random.Random(20261102)
    people = [patient(f"Patient{n}", f"(617) 555-01{n:02d}") for n in range(6)]
    visits: list[tuple[uuid.UUID, uuid.UUID, dt.datetime]] = []
    for _ in range(30):
        who = rng.choice(people)
        starts = at(MONDAY + dt.timedelta(days=rng.randint(0, 40)), rng.randint(8, 17))
        visits.append((who, book(who, starts), starts))
    for who, visit, starts in visits:
        if rng.random() < 0.8:
            reminder_texted(who, starts - dt.timedelta(hours=72))
        try:
            if rng.random() < 0.3:
                handlers.appointment_reschedule(
                    patient_id=who,
                    appointment_id=visit,
                    starts_at=starts + dt.timedelta(days=2),
                    actor=DESK,
                    now=starts - dt.timedelta(hours=60),
                    occurred_at=starts - dt.timedelta(hours=60),
                )
            if rng.random() < 0.6:
                via = rng.choice([ev.Channel.SMS, ev.Channel.VOICE])
                confirmed(who, visit, starts - dt.timedelta(hours=50), via)
            if rng.random() < 0.2:
                handlers.consent_revoke(
                    patient_id=who,
                    channel=ev.Channel.SMS,
                    purpose=None,
                    source=ev.ConsentSource.SMS_KEYWORD,
                    actor=TEXTS,
                    occurred_at=starts - dt.timedelta(hours=49),
                )
        except DomainError:
            pass
    projection = MetricsProjection()
    while runner.run_once(projection, batch_size=3):  # many small batches, as live
        pass
    live = _dump()

    runner.rebuild(projection, batch_size=1000)

    assert live["reminded"] and live["days"]
    assert sum(1 for row in live["reminded"] if row[-1] is not None) > 0
    assert _dump() == live
    assert PatientProfile.objects.count() == 6


def _dump() -> dict[str, list[tuple[object, ...]]]:
    return {
        "reminded": list(
            RemindedAppointment.objects.order_by("appointment_id").values_list(
                "appointment_id",
                "patient_id",
                "starts_at",
                "is_open",
                "first_reminder_at",
                "reminded_day",
                "confirmed_by_text_at",
            )
        ),
        "days": list(
            DailyReminderStats.objects.order_by("day").values_list(
                "day", "reminders_sent", "opt_outs_by_keyword", "opt_outs_by_carrier"
            )
        ),
    }
