"""Consent before contact: what is recorded when a patient opts in or out."""

from __future__ import annotations

import pytest

from crm.domain import decisions as decide
from crm.domain import events as ev
from crm.domain.errors import CommandRefused, PatientNotFound

from .support import PHONE, consent_recorded, given, patient_deceased, patient_registered, storable

SMS = ev.Channel.SMS
VOICE = ev.Channel.VOICE
EMAIL = ev.Channel.EMAIL
REMINDERS = ev.ConsentPurpose.APPOINTMENT_REMINDERS
SURVEYS = ev.ConsentPurpose.SURVEYS
VERBAL = ev.ConsentSource.VERBAL
KEYWORD = ev.ConsentSource.SMS_KEYWORD


def test_verbal_consent_to_text_reminders_is_recorded() -> None:
    events = decide.record_consent(
        given(patient_registered()), channel=SMS, purpose=REMINDERS, source=VERBAL
    )

    assert storable(events) == [ev.ConsentRecorded(channel=SMS, purpose=REMINDERS, source=VERBAL)]


def test_a_retry_of_consent_already_given_records_nothing() -> None:
    state = given(patient_registered(), consent_recorded(SMS, REMINDERS))

    assert decide.record_consent(state, channel=SMS, purpose=REMINDERS, source=VERBAL) == []


def test_consent_for_another_purpose_on_the_same_channel_is_recorded() -> None:
    state = given(patient_registered(), consent_recorded(SMS, REMINDERS))

    events = decide.record_consent(state, channel=SMS, purpose=SURVEYS, source=VERBAL)

    assert events == [ev.ConsentRecorded(channel=SMS, purpose=SURVEYS, source=VERBAL)]


def test_consent_given_again_after_stop_is_recorded() -> None:
    state = given(
        patient_registered(),
        consent_recorded(SMS, REMINDERS),
        ev.ConsentRevoked(channel=SMS, source=KEYWORD),
    )

    events = decide.record_consent(state, channel=SMS, purpose=REMINDERS, source=KEYWORD)

    assert events == [ev.ConsentRecorded(channel=SMS, purpose=REMINDERS, source=KEYWORD)]


@pytest.mark.parametrize("channel", [SMS, VOICE])
def test_it_refuses_phone_consent_when_there_is_no_phone_number_on_file(
    channel: ev.Channel,
) -> None:
    state = given(patient_registered(phone=None))

    with pytest.raises(CommandRefused) as refused:
        decide.record_consent(state, channel=channel, purpose=REMINDERS, source=VERBAL)

    assert refused.value.message == (
        f"Cannot record {channel.value} consent: no phone number on file."
    )


def test_it_refuses_email_consent_when_there_is_no_email_on_file() -> None:
    state = given(patient_registered(email=""))

    with pytest.raises(CommandRefused, match="no email address on file"):
        decide.record_consent(state, channel=EMAIL, purpose=REMINDERS, source=VERBAL)


def test_email_consent_needs_no_phone_number() -> None:
    state = given(patient_registered(phone=None))

    events = decide.record_consent(state, channel=EMAIL, purpose=SURVEYS, source=VERBAL)

    assert events == [ev.ConsentRecorded(channel=EMAIL, purpose=SURVEYS, source=VERBAL)]


def test_it_refuses_to_record_consent_for_a_deceased_patient() -> None:
    state = given(patient_registered(), patient_deceased())

    with pytest.raises(
        CommandRefused, match="Cannot record consent: the patient is recorded as deceased"
    ):
        decide.record_consent(state, channel=SMS, purpose=REMINDERS, source=VERBAL)


def test_it_refuses_consent_for_a_patient_it_has_never_registered() -> None:
    with pytest.raises(PatientNotFound):
        decide.record_consent(given(), channel=SMS, purpose=REMINDERS, source=VERBAL)


# --- opting out ------------------------------------------------------------------------------


def test_stop_by_text_revokes_every_purpose_and_keeps_the_number_it_came_from() -> None:
    state = given(patient_registered(), consent_recorded(SMS, REMINDERS))

    events = decide.revoke_consent(state, channel=SMS, purpose=None, source=KEYWORD)

    assert storable(events) == [
        ev.ConsentRevoked(channel=SMS, purpose=None, source=KEYWORD, phone=PHONE)
    ]


def test_a_revoke_is_recorded_even_when_nothing_was_ever_granted() -> None:
    state = given(patient_registered())

    events = decide.revoke_consent(state, channel=SMS, purpose=SURVEYS, source=VERBAL)

    assert events == [ev.ConsentRevoked(channel=SMS, purpose=SURVEYS, source=VERBAL, phone=PHONE)]


def test_a_second_stop_is_recorded_too() -> None:
    state = given(patient_registered(), ev.ConsentRevoked(channel=SMS, source=KEYWORD))

    assert decide.revoke_consent(state, channel=SMS, purpose=None, source=KEYWORD) != []


def test_an_opt_out_for_a_deceased_patient_is_still_recorded() -> None:
    state = given(patient_registered(), consent_recorded(SMS, REMINDERS), patient_deceased())

    events = decide.revoke_consent(
        state, channel=SMS, purpose=None, source=ev.ConsentSource.WRITTEN
    )

    assert events == [
        ev.ConsentRevoked(channel=SMS, purpose=None, source=ev.ConsentSource.WRITTEN, phone=PHONE)
    ]


def test_an_email_opt_out_carries_no_phone_number() -> None:
    state = given(patient_registered())

    (event,) = decide.revoke_consent(state, channel=EMAIL, purpose=None, source=VERBAL)

    assert isinstance(event, ev.ConsentRevoked)
    assert event.phone is None


def test_it_refuses_an_opt_out_for_a_patient_it_has_never_registered() -> None:
    with pytest.raises(PatientNotFound):
        decide.revoke_consent(given(), channel=SMS, purpose=None, source=KEYWORD)
