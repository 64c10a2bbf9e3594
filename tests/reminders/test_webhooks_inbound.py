"""Patients text back: STOP, START, HELP, C, R, free text, from shared and unknown numbers."""

from __future__ import annotations

import datetime as dt
from urllib.parse import urlencode

import pytest

from crm.domain import events as ev
from crm.handlers import Actor
from crm.models import Event, PatientProfile
from crm.projections import runner
from engagement.domain.suggestions import Kind, suggestion_id
from engagement.handlers import suggestion_complete, suggestion_dismiss
from engagement.models import Suggestion
from reminders import dispatch
from reminders.models import OutboundMessage
from reminders.projections.numbers import blocked_reason
from reminders.webhooks import views
from tests.reminders.sms_webhook import (
    AUTH_TOKEN,
    INBOUND,
    Phone,
    dispatch_now,
    events_of,
    new_sid,
    number_events,
    post,
    resolve_stop_review,
    sign,
)

pytestmark = pytest.mark.django_db

HOME = "+16175550134"  # a household's shared phone
UNKNOWN = "+16175550199"


@pytest.fixture(autouse=True)
def _twilio(settings, monkeypatch, now):
    settings.TWILIO_AUTH_TOKEN = AUTH_TOKEN
    settings.TWILIO_WEBHOOK_BASE_URL = ""
    settings.CLINIC_PHONE = "+16175550100"
    settings.CLINIC_SHORT_NAME = "Harbor Clinic"
    monkeypatch.setattr(views, "clock", lambda: now)


@pytest.fixture
def phone(client):
    return Phone(client, HOME)


@pytest.fixture
def household(clinic):
    """Two patients who share one phone, both agreed to reminder texts."""
    parent = clinic.patient(first_name="Avery", phone="(617) 555-0134")
    child = clinic.patient(first_name="Jordan", phone="617-555-0134")
    return parent, child


def reminder_texts(phone: Phone) -> list[str]:
    return [body for body in phone.received() if "reminder" in body.lower()]


# --- STOP ----------------------------------------------------------------------------------


def test_stop_from_a_shared_number_silences_it_for_every_patient_who_has_it(
    phone, household, clinic, now
):
    _, child = household
    clinic.book(child, now + dt.timedelta(days=2))

    phone.text("STOP")

    for patient_id in household:
        received = events_of(patient_id, ev.SmsReceived)
        assert [r.intent for r in received] == [ev.SmsIntent.OPT_OUT]
        revoked = events_of(patient_id, ev.ConsentRevoked)
        assert [(r.source, r.purpose) for r in revoked] == [(ev.ConsentSource.SMS_KEYWORD, None)]
    assert "texted STOP" in (blocked_reason(HOME) or "")
    assert [reply.kind for reply in phone.replies()] == ["opt_out_confirmation"]

    dispatch_now(now + dt.timedelta(days=1, hours=2))  # the child's 24 h reminder is due

    assert len(phone.received()) == 1  # the one confirmation, and no reminder
    assert "no more texts" in phone.received()[0]


def test_a_second_stop_while_opted_out_gets_no_second_confirmation(phone, household, now):
    phone.text("STOP")
    phone.text("stop")

    assert [reply.kind for reply in phone.replies()] == ["opt_out_confirmation"]
    assert [type(e) for e in number_events(HOME)] == [ev.SmsNumberOptedOut]
    for patient_id in household:
        assert len(events_of(patient_id, ev.SmsReceived)) == 2  # both texts are on record
        assert len(events_of(patient_id, ev.ConsentRevoked)) == 1


@pytest.mark.parametrize("keyword", ["STOPALL", "unsubscribe", "End", "QUIT", "revoke", "OptOut"])
def test_every_opt_out_keyword_opts_the_number_out(phone, household, keyword):
    phone.text(f"  {keyword} ")

    assert blocked_reason(HOME) is not None
    assert [reply.kind for reply in phone.replies()] == ["opt_out_confirmation"]


def test_cancel_opts_out_and_never_cancels_an_appointment(phone, clinic, now):
    patient = clinic.patient(phone="(617) 555-0134")
    visit = clinic.book(patient, now + dt.timedelta(days=3))

    phone.text("CANCEL")

    assert events_of(patient, ev.AppointmentCancelled) == []
    profile = PatientProfile.objects.get(patient_id=patient)
    assert [a["appointment_id"] for a in profile.upcoming_appointments] == [str(visit)]
    assert blocked_reason(HOME) is not None
    assert events_of(patient, ev.SmsReceived)[0].intent is ev.SmsIntent.OPT_OUT


def test_the_opt_out_confirmation_speaks_the_patients_language(phone, clinic):
    clinic.patient(phone="(617) 555-0134", language="es", first_name="Lucía")

    phone.text("STOP")

    assert phone.replies()[0].language == "es"
    assert "ya no recibirá mensajes" in phone.replies()[0].body


# --- START ---------------------------------------------------------------------------------


def test_start_lifts_the_opt_out_and_records_consent_again(phone, household, clinic, now):
    _, child = household
    phone.text("STOP")

    phone.text("START")

    assert blocked_reason(HOME) is None
    for patient_id in household:
        recorded = events_of(patient_id, ev.ConsentRecorded)[-1]
        assert (recorded.channel, recorded.purpose, recorded.source) == (
            ev.Channel.SMS,
            ev.ConsentPurpose.APPOINTMENT_REMINDERS,
            ev.ConsentSource.SMS_KEYWORD,
        )
        assert events_of(patient_id, ev.SmsReceived)[-1].intent is ev.SmsIntent.OPT_IN
    assert [reply.kind for reply in phone.replies()] == [
        "opt_out_confirmation",
        "opt_in_confirmation",
    ]

    clinic.book(child, now + dt.timedelta(days=2))
    dispatch_now(now + dt.timedelta(days=1, hours=2))

    assert len(reminder_texts(phone)) == 1  # reminders flow again


@pytest.mark.parametrize("keyword", ["YES", "unstop"])
def test_yes_and_unstop_opt_back_in_too(phone, household, keyword):
    phone.text("STOP")
    phone.text(keyword)

    assert blocked_reason(HOME) is None


def test_start_from_a_number_that_never_opted_out_sends_no_reply(phone, household):
    phone.text("START")

    assert phone.replies() == []
    assert number_events(HOME) == []


def test_start_from_a_patient_who_never_agreed_to_texts_opts_in_and_confirms(phone, clinic):
    patient = clinic.patient(phone="(617) 555-0134", consent=False)

    phone.text("START")

    assert [reply.kind for reply in phone.replies()] == ["opt_in_confirmation"]
    assert [e.keyword for e in number_events(HOME)] == ["START"]
    assert PatientProfile.objects.get(patient_id=patient).consents["sms:appointment_reminders"][
        "granted"
    ]


# --- HELP ----------------------------------------------------------------------------------


def test_help_replies_with_the_clinics_phone_number(phone, household, now):
    phone.text("HELP")

    [reply] = phone.replies()
    assert reply.kind == "help"
    assert "(617) 555-0100" in reply.body
    for patient_id in household:
        assert events_of(patient_id, ev.SmsReceived)[0].intent is ev.SmsIntent.HELP


def test_help_is_answered_even_after_stop(phone, household, now):
    phone.text("STOP")
    phone.text("info")

    dispatch_now(now + dt.timedelta(minutes=1))

    assert [reply.kind for reply in phone.replies()] == ["opt_out_confirmation", "help"]
    assert len(phone.received()) == 2
    assert any("Call us at (617) 555-0100" in body for body in phone.received())


# --- C and R -------------------------------------------------------------------------------


def test_c_confirms_the_next_visit_of_the_patient_who_got_the_latest_reminder(phone, clinic, now):
    sibling = clinic.patient(first_name="Avery", phone="(617) 555-0134", consent=False)
    patient = clinic.patient(first_name="Jordan", phone="(617) 555-0134")
    siblings_visit = clinic.book(sibling, now + dt.timedelta(days=2))
    first = clinic.book(patient, now + dt.timedelta(days=2, hours=1))
    later = clinic.book(patient, now + dt.timedelta(days=9))
    dispatch_now(now + dt.timedelta(days=1, hours=2))
    assert len(reminder_texts(phone)) == 1  # the reminder went to Jordan
    clock = now + dt.timedelta(days=1, hours=3)

    _text_at(phone, "c", clock)

    [confirmed] = events_of(patient, ev.AppointmentConfirmed)
    assert (confirmed.appointment_id, confirmed.via) == (first, ev.Channel.SMS)
    assert events_of(sibling, ev.AppointmentConfirmed) == []
    assert events_of(sibling, ev.SmsReceived) == []  # C is about one patient only
    profile = PatientProfile.objects.get(patient_id=patient)
    confirmed_flags = {a["appointment_id"]: a["confirmed"] for a in profile.upcoming_appointments}
    assert confirmed_flags == {str(first): True, str(later): False}
    sibling_profile = PatientProfile.objects.get(patient_id=sibling)
    assert sibling_profile.upcoming_appointments[0]["appointment_id"] == str(siblings_visit)
    assert sibling_profile.upcoming_appointments[0]["confirmed"] is False


def test_c_with_no_reminder_sent_is_free_text_for_an_agent_to_call_back(phone, clinic, now):
    patient = clinic.patient(phone="(617) 555-0134")
    clinic.book(patient, now + dt.timedelta(days=5))

    phone.text("C")

    assert events_of(patient, ev.AppointmentConfirmed) == []
    assert events_of(patient, ev.SmsReceived)[0].intent is ev.SmsIntent.FREE_TEXT


def test_r_asks_an_agent_to_find_a_new_time_and_changes_nothing_itself(phone, clinic, now):
    patient = clinic.patient(phone="(617) 555-0134")
    visit = clinic.book(patient, now + dt.timedelta(days=5))

    phone.text("R")

    assert events_of(patient, ev.SmsReceived)[0].intent is ev.SmsIntent.RESCHEDULE
    assert events_of(patient, ev.AppointmentRescheduled) == []
    profile = PatientProfile.objects.get(patient_id=patient)
    assert profile.upcoming_appointments[0]["appointment_id"] == str(visit)


def test_free_text_is_recorded_for_a_callback_with_what_it_said(phone, clinic, now):
    patient = clinic.patient(phone="(617) 555-0134")

    phone.text("Can I bring my sister to the session?")

    [received] = events_of(patient, ev.SmsReceived)
    assert received.intent is ev.SmsIntent.FREE_TEXT
    assert received.body == "Can I bring my sister to the session?"
    assert received.from_number == HOME
    assert PatientProfile.objects.get(patient_id=patient).last_contact_at == now


# --- free text that asks us to stop --------------------------------------------------------


def test_a_free_text_stop_request_holds_texts_until_an_agent_resolves_the_review(
    phone, clinic, now
):
    patient = clinic.patient(phone="(617) 555-0134")
    clinic.book(patient, now + dt.timedelta(days=2))

    phone.text("please stop texting me")

    assert events_of(patient, ev.SmsReceived)[0].intent is ev.SmsIntent.STOP_REQUEST
    assert phone.replies() == []  # no keyword, no automatic reply
    assert "asked us to stop" in (blocked_reason(HOME) or "")
    dispatch_now(now + dt.timedelta(days=1, hours=2))
    assert reminder_texts(phone) == []

    resolve_stop_review(patient, dismissed=True, at=now + dt.timedelta(days=1, hours=3))

    assert blocked_reason(HOME) is None
    dispatch_now(now + dt.timedelta(days=1, hours=4))
    assert len(reminder_texts(phone)) == 1


def test_completing_the_review_releases_the_hold_too(phone, clinic, now):
    patient = clinic.patient(phone="(617) 555-0134")
    phone.text("no me envíen más mensajes")
    assert blocked_reason(HOME) is not None

    resolve_stop_review(patient, dismissed=False, at=now + dt.timedelta(hours=1))

    assert blocked_reason(HOME) is None


def test_a_stop_request_from_a_shared_number_waits_for_every_patients_review(phone, household, now):
    parent, child = household
    phone.text("Wrong number, stop messaging me")

    resolve_stop_review(parent, dismissed=True, at=now + dt.timedelta(hours=1))
    assert blocked_reason(HOME) is not None

    resolve_stop_review(child, dismissed=True, at=now + dt.timedelta(hours=2))
    assert blocked_reason(HOME) is None


def test_a_stop_request_holds_a_reminder_the_schedule_has_not_caught_up_with(phone, clinic, now):
    patient = clinic.patient(phone="(617) 555-0134")
    clinic.book(patient, now + dt.timedelta(days=2))
    clinic.reminders(patient)  # scheduled before the text came in; consent still granted
    phone.text("please stop texting me")

    report = dispatch.dispatch_due(now=now + dt.timedelta(days=1), catch_up=False)

    assert report.sent == 0 and reminder_texts(phone) == []
    row = OutboundMessage.objects.get(patient_id=patient, kind="reminder")
    assert (row.status, row.reason) == ("blocked", blocked_reason(HOME))
    assert row.reason.startswith("Texts held since")


def test_start_lifts_a_hold_as_well(phone, clinic):
    clinic.patient(phone="(617) 555-0134")
    phone.text("don't text me anymore")

    phone.text("START")

    assert blocked_reason(HOME) is None


# --- numbers we do not know ----------------------------------------------------------------


def test_a_number_we_do_not_know_never_creates_a_patient(client, household):
    stranger = Phone(client, UNKNOWN)
    patients_before = PatientProfile.objects.count()

    stranger.text("Hi, is this the pharmacy?")
    stranger.text("HELP")

    assert PatientProfile.objects.count() == patients_before
    received = [e for e in number_events(UNKNOWN) if isinstance(e, ev.SmsReceived)]
    assert [r.intent for r in received] == [ev.SmsIntent.FREE_TEXT, ev.SmsIntent.HELP]
    [reply] = stranger.replies()
    assert reply.kind == "help" and reply.patient_id is None


def test_a_stop_from_an_unknown_number_holds_when_the_number_later_belongs_to_a_patient(
    client, clinic, now
):
    stranger = Phone(client, UNKNOWN)
    stranger.text("STOP")
    assert [type(e) for e in number_events(UNKNOWN)] == [ev.SmsReceived, ev.SmsNumberOptedOut]

    patient = clinic.patient(phone="(617) 555-0199")
    clinic.book(patient, now + dt.timedelta(days=2))
    dispatch_now(now + dt.timedelta(days=1, hours=2))

    assert blocked_reason(UNKNOWN) is not None
    assert reminder_texts(stranger) == []


# --- retries and bad input ----------------------------------------------------------------


def test_the_same_text_delivered_twice_is_recorded_once_and_answered_once(phone, household):
    sid = new_sid()
    phone.text("STOP", sid=sid)
    events_after_first = Event.objects.count()

    phone.text("STOP", sid=sid)

    assert Event.objects.count() == events_after_first
    assert [reply.kind for reply in phone.replies()] == ["opt_out_confirmation"]


def test_another_text_under_a_message_id_on_record_records_nothing_and_gets_a_200(
    client, phone, household
):
    sid = new_sid()
    phone.text("See you Thursday", sid=sid)
    events_after_first = Event.objects.count()

    phone.text("STOP", sid=sid)  # another body: not the text on record under that id
    Phone(client, UNKNOWN).text("STOP", sid=sid)  # another sender

    assert Event.objects.count() == events_after_first
    assert phone.replies() == []
    assert [e.body for e in events_of(household[0], ev.SmsReceived)] == ["See you Thursday"]


@pytest.mark.parametrize(
    "change,field",
    [
        ({"MessageSid": ""}, "MessageSid"),
        ({"From": ""}, "From"),
        ({"From": "not a phone"}, "From"),
        ({"From": "+1 617 555"}, "From"),
        ({"Body": "x" * 10_001}, "Body"),
    ],
)
def test_a_malformed_text_gets_a_400_naming_the_field_and_records_nothing(
    client, household, change, field
):
    form = {"MessageSid": new_sid(), "From": HOME, "To": "+16175550100", "Body": "STOP"}
    form.update(change)
    events_before = Event.objects.count()

    response = post(client, INBOUND, form)

    assert response.status_code == 400
    assert response["Content-Type"] == "application/problem+json"
    assert field in response.json()["errors"]
    assert Event.objects.count() == events_before
    assert blocked_reason(HOME) is None


@pytest.mark.parametrize("stopped", [True, False])
def test_a_stop_one_second_before_a_dispatch_blocks_that_dispatch(phone, clinic, now, stopped):
    patient = clinic.patient(phone="(617) 555-0134")
    clinic.book(patient, now + dt.timedelta(days=1, seconds=1))
    due = now + dt.timedelta(seconds=1)  # the 24 h reminder falls due one second from now
    clinic.reminders(patient)  # the schedule knows the reminder

    if stopped:
        phone.text("STOP")
        stop = Event.objects.filter(event_type="SmsNumberOptedOut").get()
        assert runner.checkpoint_of("sms_numbers") < stop.position  # the block list lags
    dispatch_now(due)

    if stopped:
        assert reminder_texts(phone) == []
        assert len(phone.received()) == 1  # only the opt-out confirmation
    else:  # the control: the same reminder goes out when nobody texted STOP
        assert len(reminder_texts(phone)) == 1


def _text_at(phone: Phone, body: str, at: dt.datetime) -> None:
    views_clock = views.clock
    views.clock = lambda: at  # type: ignore[assignment]
    try:
        phone.text(body)
    finally:
        views.clock = views_clock  # type: ignore[assignment]


def test_the_webhook_takes_numbers_written_as_people_write_them(client, clinic):
    patient = clinic.patient(phone="(617) 555-0134")
    form = {"MessageSid": new_sid(), "From": "(617) 555-0134", "Body": "hello"}
    signature = sign(f"http://testserver{INBOUND}", form)

    response = client.post(
        INBOUND,
        urlencode(form),
        content_type="application/x-www-form-urlencoded",
        HTTP_X_TWILIO_SIGNATURE=signature,
    )

    assert response.status_code == 200
    assert events_of(patient, ev.SmsReceived)[0].from_number == HOME


# --- the agent's review, through the engagement app's queue --------------------------------


def _stop_review_of(patient_id):
    [received] = events_of(patient_id, ev.SmsReceived)
    runner.catch_up(runner.registered()["suggestions"])
    review = Suggestion.objects.get(patient_id=patient_id, kind="sms_stop_review")
    assert review.suggestion_id == suggestion_id(
        Kind.SMS_STOP_REVIEW, received.message_id, patient_id
    )
    return review.suggestion_id


AGENT = Actor(name="agent.kim", channel="api", role="agent")


def _close_review(patient_id, review, outcome, at):
    """The agent closes the review with `outcome`, or dismisses it (outcome None)."""
    if outcome is None:
        reason = "Meant a different clinic; confirmed by phone"
        suggestion_dismiss(
            patient_id=patient_id, suggestion_id=review, reason=reason, actor=AGENT, now=at
        )
    else:
        suggestion_complete(
            patient_id=patient_id, suggestion_id=review, outcome=outcome, actor=AGENT, now=at
        )


def test_an_agent_who_keeps_texts_after_the_review_releases_the_number(phone, clinic, now):
    patient = clinic.patient(phone="(617) 555-0134")
    phone.text("don't text me, call me instead")
    review = _stop_review_of(patient)

    _close_review(patient, review, "keeps_texts", now + dt.timedelta(hours=1))

    assert blocked_reason(HOME) is None


def test_an_agent_who_confirms_the_opt_out_blocks_the_number_for_good(phone, clinic, now):
    patient = clinic.patient(phone="(617) 555-0134")
    phone.text("please stop texting me")
    review = _stop_review_of(patient)

    _close_review(patient, review, "opted_out", now + dt.timedelta(hours=1))

    assert "opted out" in (blocked_reason(HOME) or "")
    assert not PatientProfile.objects.get(patient_id=patient).consents["sms:appointment_reminders"][
        "granted"
    ]


def test_an_agent_who_dismisses_the_review_releases_the_number(phone, clinic, now):
    patient = clinic.patient(phone="(617) 555-0134")
    phone.text("no more texts please")
    review = _stop_review_of(patient)

    _close_review(patient, review, None, now + dt.timedelta(hours=1))

    assert blocked_reason(HOME) is None


def test_consent_recorded_again_by_staff_after_a_stop_request_releases_the_hold(phone, clinic, now):
    patient = clinic.patient(phone="(617) 555-0134", consent=False)
    phone.text("please stop texting me")
    assert blocked_reason(HOME) is not None

    clinic.consent(patient)  # the patient said on the phone that texts are fine

    assert blocked_reason(HOME) is None
