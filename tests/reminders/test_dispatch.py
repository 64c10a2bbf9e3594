"""The dispatcher: due texts handed over once, checked again at the last moment, retried
when the provider stumbles, stopped when it refuses, and reconciled after a crash."""

from __future__ import annotations

import datetime as dt

import pytest

from crm import handlers
from crm.domain import events as ev
from reminders.backends import SmsError, SmsOutcomeUnknown, locmem
from reminders.backends.locmem import LocmemBackend
from reminders.dispatch import checks, dispatch_due
from reminders.dispatch.claim import claim_batch
from reminders.dispatch.outbox import enqueue_reply, materialize_due
from reminders.dispatch.reconcile import reconcile_stale
from reminders.dispatch.record import record_outcomes
from reminders.dispatch.send import hand_over
from reminders.models import MessageStatus, OutboundMessage
from tests.reminders.conftest import local, outbox_of
from tests.reminders.sms_webhook import events_of, number_events

pytestmark = pytest.mark.django_db

VISIT = local(2026, 11, 10, 10, 30)
DAY_BEFORE = VISIT - dt.timedelta(hours=24)  # Mon Nov 9, 10:30


@pytest.fixture(autouse=True)
def _one_reminder_a_day_ahead(settings):
    settings.REMINDERS_OFFSETS_HOURS = (24,)


@pytest.fixture
def patient(clinic):
    """A patient who agreed to texts, with a visit at VISIT and its reminder scheduled."""
    patient = clinic.patient()
    clinic.book(patient, VISIT)
    clinic.reminders(patient)
    return patient


@pytest.fixture
def claimed(patient, settings):
    """The patient's reminder, claimed by a worker with a one-minute lease."""
    settings.REMINDERS_SEND_LEASE_SECONDS = 60
    materialize_due(DAY_BEFORE)
    _, claims, _ = claim_batch(DAY_BEFORE, batch_size=10)
    assert len(claims) == 1
    return claims


def test_a_due_reminder_is_handed_over_once_and_recorded_on_the_patients_stream(clinic, settings):
    settings.REMINDERS_OFFSETS_HOURS = (72, 24)
    patient = clinic.patient(first_name="Rowan")
    clinic.book(patient, VISIT, kind=ev.AppointmentType.PSYCHIATRY, location="Main St clinic")
    clinic.reminders(patient)

    first = dispatch_due(now=DAY_BEFORE - dt.timedelta(hours=48))
    second = dispatch_due(now=DAY_BEFORE - dt.timedelta(hours=48))

    assert (first.sent, second.sent) == (1, 0)
    (text,) = locmem.outbox
    assert text.to == "+16175550134"
    assert text.body == (
        "Hi Rowan, reminder: your Harbor Clinic appointment is on Tue Nov 10 at 10:30 AM, "
        "in person. Reply C to confirm, R to reschedule, STOP to opt out."
    )
    (sent,) = events_of(patient, ev.SmsSent)
    reminder = clinic.reminders(patient)[0]
    assert (sent.provider_message_id, sent.reminder_id, sent.appointment_id, sent.body) == (
        text.sid,
        reminder.reminder_id,
        reminder.appointment_id,
        text.body,
    )
    assert (reminder.offset_hours, reminder.state, reminder.message_id) == (
        72,
        "sent",
        sent.message_id,
    )


def test_nothing_leaves_before_it_is_due(patient):
    report = dispatch_due(now=VISIT - dt.timedelta(hours=73))

    assert report.sent == 0 and locmem.outbox == []


def test_the_text_speaks_spanish_and_shows_the_patients_own_time(clinic):
    patient = clinic.patient(language="es", first_name="Lucía", timezone="America/Chicago")
    clinic.book(patient, VISIT, modality=ev.Modality.TELEHEALTH)
    clinic.reminders(patient)

    dispatch_due(now=DAY_BEFORE)

    assert [t.body for t in locmem.outbox] == [
        "Hola Lucía, recordatorio: su cita en Harbor Clinic es el mar 10 nov a las 9:30, "
        "por video. Responda C para confirmar, R para cambiarla, STOP para no recibir más."
    ]


def test_consent_withdrawn_after_the_schedule_was_made_stops_the_text(clinic, patient, actor):
    handlers.consent_revoke(
        patient_id=patient,
        channel=ev.Channel.SMS,
        source=ev.ConsentSource.VERBAL,
        actor=actor,
        occurred_at=DAY_BEFORE,
    )

    # The schedule has not caught up with the withdrawal yet: the dispatcher still knows.
    report = dispatch_due(now=DAY_BEFORE, catch_up=False)

    assert report.sent == 0 and locmem.outbox == []
    assert {(m.status, m.reason) for m in OutboundMessage.objects.all()} == {
        ("blocked", "No SMS consent at sending time.")
    }
    # Once it has, the reminder itself says why.
    assert {r.state for r in clinic.reminders(patient)} == {"blocked"}


def test_a_death_recorded_after_the_schedule_was_made_stops_the_text(clinic, patient, actor):
    handlers.patient_mark_deceased(
        patient_id=patient, actor=actor, now=DAY_BEFORE, occurred_at=DAY_BEFORE
    )

    # The schedule has not caught up with the death yet: the dispatcher still knows.
    report = dispatch_due(now=DAY_BEFORE, catch_up=False)

    assert report.sent == 0 and locmem.outbox == []
    assert OutboundMessage.objects.get().status == "blocked"
    assert {r.state for r in clinic.reminders(patient)} == {"cancelled"}


def test_the_frequency_cap_holds_a_second_text_to_the_same_number(clinic):
    # A household: two patients, one phone, visits the same day.
    parent = clinic.patient(first_name="Rowan")
    child = clinic.patient(first_name="Ash")
    clinic.book(parent, VISIT)
    clinic.book(child, local(2026, 11, 10, 18, 0))
    clinic.reminders()

    dispatch_due(now=DAY_BEFORE)
    dispatch_due(now=local(2026, 11, 9, 18, 0))

    assert [t.body.split(",")[0] for t in locmem.outbox] == ["Hi Rowan"]
    held = outbox_of(clinic.reminders(child)[0])
    assert held.status == "held"
    assert held.reason == "Held by the frequency cap until Tue Nov 10, 2026, 10:30 AM EST."
    assert clinic.reminders(child)[0].state == "scheduled"

    dispatch_due(now=local(2026, 11, 10, 10, 30))

    assert [t.body.split(",")[0] for t in locmem.outbox] == ["Hi Rowan", "Hi Ash"]


def test_a_held_text_that_could_only_go_after_the_visit_is_dropped(clinic):
    parent = clinic.patient(first_name="Rowan")
    child = clinic.patient(first_name="Ash")
    clinic.book(parent, VISIT)
    clinic.book(child, VISIT + dt.timedelta(minutes=30))
    clinic.reminders()

    dispatch_due(now=DAY_BEFORE + dt.timedelta(minutes=30))

    dropped = outbox_of(next(r for r in clinic.reminders(child) if r.offset_hours == 24))
    assert dropped.status == "dropped"
    assert dropped.reason.startswith("Dropped: the frequency cap would hold it until")


def test_a_reminder_found_due_in_quiet_hours_waits_for_the_morning(patient):
    # The worker was down all day; it comes back at 22:00 the evening before.
    report = dispatch_due(now=local(2026, 11, 9, 22, 0))

    assert report.held == 1 and locmem.outbox == []
    row = OutboundMessage.objects.get()
    assert (row.status, row.next_attempt_at) == ("held", local(2026, 11, 10, 8, 0))
    dispatch_due(now=local(2026, 11, 10, 8, 0))
    assert len(locmem.outbox) == 1


def test_a_reminder_that_comes_up_after_the_visit_started_is_dropped(patient):
    dispatch_due(now=VISIT + dt.timedelta(minutes=5))

    assert locmem.outbox == []
    assert {m.status for m in OutboundMessage.objects.all()} == {"dropped"}


def test_a_busy_provider_is_tried_again_with_backoff(patient, settings):
    settings.REMINDERS_RETRY_BASE_SECONDS = 60
    busy = SmsError("20429", "Too Many Requests", permanent=False)
    locmem.scripted["+16175550134"] = [busy, busy]

    assert dispatch_due(now=DAY_BEFORE).retrying == 1
    row = OutboundMessage.objects.get()
    assert (row.status, row.next_attempt_at) == ("retrying", DAY_BEFORE + dt.timedelta(minutes=1))
    assert dispatch_due(now=DAY_BEFORE + dt.timedelta(seconds=59)).retrying == 0
    assert dispatch_due(now=DAY_BEFORE + dt.timedelta(minutes=1)).retrying == 1
    row.refresh_from_db()
    assert row.next_attempt_at == DAY_BEFORE + dt.timedelta(minutes=3)  # 1 min, then 2
    assert dispatch_due(now=DAY_BEFORE + dt.timedelta(minutes=3)).sent == 1
    assert len(locmem.outbox) == 1
    assert len(events_of(patient, ev.SmsSent)) == 1
    assert events_of(patient, ev.SmsFailed) == []


def test_after_the_last_attempt_the_failure_is_recorded(clinic, patient, settings):
    settings.REMINDERS_RETRY_ATTEMPTS = 2
    locmem.scripted["+16175550134"] = [SmsError("500", "Internal error", permanent=False)] * 2

    dispatch_due(now=DAY_BEFORE)
    report = dispatch_due(now=DAY_BEFORE + dt.timedelta(hours=1))

    assert report.failed == 1
    (failed,) = events_of(patient, ev.SmsFailed)
    assert (failed.permanent, failed.error_code) == (False, "500")
    reminder = next(r for r in clinic.reminders(patient) if r.offset_hours == 24)
    assert reminder.state == "failed"
    assert "gave up after 2 attempts" in reminder.reason


def test_an_invalid_number_fails_for_good_at_once(clinic, patient):
    locmem.scripted["+16175550134"] = [SmsError("21211", "invalid 'To' number", permanent=True)]

    report = dispatch_due(now=DAY_BEFORE)

    assert (report.failed, report.retrying) == (1, 0)
    (failed,) = events_of(patient, ev.SmsFailed)
    assert (failed.permanent, failed.error_code) == (True, "21211")
    reminder = next(r for r in clinic.reminders(patient) if r.offset_hours == 24)
    assert (reminder.state, reminder.reason) == (
        "failed",
        "The SMS provider refused it: invalid 'To' number (21211).",
    )


def test_unsubscribed_at_the_carrier_withdraws_consent_for_everyone_on_the_number(clinic):
    parent = clinic.patient()
    child = clinic.patient(first_name="Ash")
    clinic.book(parent, VISIT)
    clinic.book(child, VISIT + dt.timedelta(days=3))
    clinic.reminders()
    locmem.scripted["+16175550134"] = [
        SmsError("21610", "the recipient is unsubscribed at the carrier", permanent=True)
    ]

    dispatch_due(now=DAY_BEFORE)

    for patient in (parent, child):
        (revoked,) = events_of(patient, ev.ConsentRevoked)
        assert (revoked.source, revoked.purpose, revoked.phone) == (
            ev.ConsentSource.CARRIER,
            None,
            "+16175550134",
        )
    later = next(r for r in clinic.reminders(child) if r.offset_hours == 24)
    assert later.state == "blocked"
    assert "at the carrier" in later.reason
    assert dispatch_due(now=later.due_at).sent == 0


def test_a_lost_answer_is_reconciled_with_the_provider_before_any_resend(patient, settings):
    settings.REMINDERS_SEND_LEASE_SECONDS = 60
    # The provider takes the text, but the answer never arrives.
    locmem.scripted["+16175550134"] = [SmsOutcomeUnknown("read timed out")]

    first = dispatch_due(now=DAY_BEFORE)
    second = dispatch_due(now=DAY_BEFORE + dt.timedelta(minutes=1))

    assert (first.unknown, second.reconciled) == (1, 1)
    assert len(locmem.outbox) == 1
    (sent,) = events_of(patient, ev.SmsSent)
    assert sent.provider_message_id == locmem.outbox[0].sid


def test_a_worker_that_died_after_claiming_leaves_nothing_lost(patient, claimed):
    # The worker that claimed the text died before handing it over.
    assert dispatch_due(now=DAY_BEFORE + dt.timedelta(seconds=30)).sent == 0  # lease holds
    report = dispatch_due(now=DAY_BEFORE + dt.timedelta(minutes=2))

    assert (report.reconciled, report.requeued, report.sent) == (0, 1, 1)
    assert len(locmem.outbox) == 1
    assert len(events_of(patient, ev.SmsSent)) == 1


def test_a_worker_that_died_after_handing_over_is_not_sent_twice(patient, claimed):
    hand_over(LocmemBackend(), claimed)  # ...and the worker dies before recording

    report = dispatch_due(now=DAY_BEFORE + dt.timedelta(minutes=2))

    assert (report.reconciled, report.sent) == (1, 0)
    assert len(locmem.outbox) == 1
    (sent,) = events_of(patient, ev.SmsSent)
    assert sent.provider_message_id == locmem.outbox[0].sid


def test_a_late_record_from_a_worker_whose_lease_ran_out_changes_nothing(patient, claimed):
    outcomes = hand_over(LocmemBackend(), claimed)
    dispatch_due(now=DAY_BEFORE + dt.timedelta(minutes=2))  # reconciled meanwhile

    record_outcomes(outcomes, DAY_BEFORE + dt.timedelta(minutes=3))

    assert len(events_of(patient, ev.SmsSent)) == 1


def test_a_worker_whose_claim_a_reconciler_took_over_records_nothing(patient, claimed):
    outcomes = hand_over(LocmemBackend(), claimed)
    # The lease ran out; a reconciler took the row over and cannot reach the provider yet.
    reconcile_stale(_Unreachable(), DAY_BEFORE + dt.timedelta(minutes=2), batch_size=10)

    record_outcomes(outcomes, DAY_BEFORE + dt.timedelta(minutes=3))

    assert events_of(patient, ev.SmsSent) == []  # the reconciler decides, not the late worker
    assert OutboundMessage.objects.get().status == MessageStatus.SENDING


class _Unreachable(LocmemBackend):
    def find_sent(self, **kwargs):
        raise SmsOutcomeUnknown("provider unreachable")


def test_a_stop_confirmation_goes_out_even_though_the_number_opted_out(clinic, actor, now):
    patient = clinic.patient()
    handlers.consent_revoke(
        patient_id=patient,
        channel=ev.Channel.SMS,
        source=ev.ConsentSource.SMS_KEYWORD,
        actor=actor,
        occurred_at=now,
    )
    from django.db import transaction

    with transaction.atomic():
        message_id = enqueue_reply(
            to="+16175550134",
            kind="opt_out_confirmation",
            language="en",
            patient_id=patient,
            context={},
            in_reply_to="SM" + "1" * 32,
            now=now,
        )
        again = enqueue_reply(
            to="+16175550134",
            kind="opt_out_confirmation",
            language="en",
            patient_id=patient,
            context={},
            in_reply_to="SM" + "1" * 32,
            now=now,
        )

    report = dispatch_due(now=now)

    assert again == message_id and report.sent == 1
    (text,) = locmem.outbox
    assert text.body == (
        "Harbor Clinic: you will get no more texts from us. Reply START to get them again. "
        "Questions? Call (617) 555-0100."
    )
    (sent,) = events_of(patient, ev.SmsSent)
    assert (sent.message_id, sent.reminder_id) == (message_id, None)


def test_a_help_reply_to_a_number_we_do_not_know_lands_on_the_numbers_stream(now):
    from django.db import transaction

    with transaction.atomic():
        enqueue_reply(
            to="+13125550177",
            kind="help",
            language="es",
            patient_id=None,
            context={},
            in_reply_to="SM" + "2" * 32,
            now=now,
        )
    dispatch_due(now=now)

    (text,) = locmem.outbox
    assert text.body.startswith("Mensajes de citas de Harbor Clinic. Llámenos al (617) 555-0100.")
    (sent,) = number_events("+13125550177")
    assert isinstance(sent, ev.SmsSent) and sent.to == "+13125550177"
    assert OutboundMessage.objects.get().status == MessageStatus.SENT


def test_a_text_that_cannot_be_prepared_is_held_with_why_and_the_next_patients_goes_out(
    clinic, monkeypatch
):
    rowan = clinic.patient(first_name="Rowan")
    riley = clinic.patient(first_name="Riley", phone="(617) 555-0177")
    for patient in (rowan, riley):
        clinic.book(patient, VISIT)
        clinic.reminders(patient)
    judge = checks.judge

    def breaks_for_rowan(row, *args):  # a value nobody foresaw, in Rowan's text only
        if row.patient_id == rowan:
            raise UnicodeError("cannot encode this text")
        return judge(row, *args)

    monkeypatch.setattr(checks, "judge", breaks_for_rowan)
    report = dispatch_due(now=DAY_BEFORE)

    assert report.sent == 1 and [text.to for text in locmem.outbox] == ["+16175550177"]
    held = OutboundMessage.objects.get(patient_id=rowan)
    assert held.status == MessageStatus.HELD
    assert "could not be prepared (UnicodeError: cannot encode this text)" in held.reason
    assert held.next_attempt_at == DAY_BEFORE + checks.UNPREPARED_RETRY
