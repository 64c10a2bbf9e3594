"""Events as stored: every type round-trips, bad data is refused naming the field, and
older schema versions are upcast while unknown ones fail loudly."""

from __future__ import annotations

import dataclasses
import datetime as dt
import enum
import json
import types
import typing
import uuid
from typing import Any

import pytest

from crm.domain import events as ev
from crm.domain.errors import InvalidInput, UnknownEventType
from crm.domain.events.base import MAX_TEXT, bounds_of, build, registered

from .support import CALL_ID, read_back

EASTERN = dt.timezone(dt.timedelta(hours=-5))


def _sample_value(hint: Any, name: str) -> Any:
    """A non-default value of the field's type, so every field is exercised."""
    if typing.get_origin(hint) in (typing.Union, types.UnionType):
        (inner,) = [arg for arg in typing.get_args(hint) if arg is not type(None)]
        return _sample_value(inner, name)
    if isinstance(hint, type) and issubclass(hint, enum.Enum):
        return list(hint)[-1]
    samples: dict[Any, Any] = {
        str: f"{name} from the front desk",
        bool: True,
        int: 7,
        dt.datetime: dt.datetime(2026, 11, 3, 9, 30, tzinfo=EASTERN),
        dt.date: dt.date(2026, 11, 3),
        uuid.UUID: uuid.uuid5(uuid.NAMESPACE_URL, name),
    }
    return samples[hint]


def _sample(cls: type[ev.DomainEvent]) -> ev.DomainEvent:
    hints = typing.get_type_hints(cls)
    shapes = typing.get_type_hints(cls, include_extras=True)
    values = {
        field.name: next(
            (bound.example for bound in bounds_of(shapes[field.name]) if bound.example),
            None,
        )
        or _sample_value(hints[field.name], field.name)
        for field in dataclasses.fields(cls)  # type: ignore[arg-type]
    }
    return cls(**values)


def _call_data(**overrides: Any) -> dict[str, Any]:
    data: dict[str, Any] = {
        "call_id": str(CALL_ID),
        "direction": "inbound",
        "channel": "voice",
        "agent": "agent.one",
        "started_at": "2026-11-03T09:30:00-05:00",
        "duration_seconds": 240,
        "disposition": "connected",
    }
    data.update(overrides)
    return data


def _registration_data(**overrides: Any) -> dict[str, Any]:
    data: dict[str, Any] = {
        "first_name": "Rowan",
        "last_name": "Testpatient",
        "date_of_birth": "1984-05-17",
    }
    data.update(overrides)
    return data


# --- round trips ---------------------------------------------------------------------------


@pytest.mark.parametrize("event_type", sorted(ev.registered_types()))
def test_every_event_type_reads_back_exactly_as_it_was_recorded(event_type: str) -> None:
    event = _sample(ev.event_class(event_type))

    assert read_back(event) == event


@pytest.mark.parametrize("event_type", sorted(ev.registered_types()))
def test_every_event_type_read_from_the_store_is_the_event_that_was_stored(
    event_type: str,
) -> None:
    # load_stored skips the validation append already did; what it builds must not differ.
    cls = ev.event_class(event_type)
    event = _sample(cls)
    stored = json.loads(json.dumps(ev.serialize(event)))

    loaded = ev.load_stored(event_type, cls.schema_version, stored)

    assert loaded == event == ev.deserialize(event_type, cls.schema_version, stored)
    assert [type(getattr(loaded, f)) for f in stored] == [type(getattr(event, f)) for f in stored]


@pytest.mark.parametrize("event_type", sorted(ev.registered_types()))
def test_every_event_type_is_stored_as_plain_json_with_its_type_name(event_type: str) -> None:
    cls = ev.event_class(event_type)
    data = ev.serialize(_sample(cls))

    assert json.loads(json.dumps(data)) == data
    # Exactly JSON's types: a text enum's member also equals its value and dumps the same,
    # so only the type shows one that serialize passed through unconverted.
    plain = (str, int, float, bool, type(None), list, dict)
    assert {name: type(v) for name, v in data.items() if type(v) not in plain} == {}
    assert cls.event_type == event_type
    assert cls.schema_version >= 1


def test_a_call_started_in_eastern_time_is_stored_in_utc() -> None:
    event = build(ev.CallLogged, _call_data(started_at="2026-11-03T09:30:00-05:00"))

    assert ev.serialize(event)["started_at"] == "2026-11-03T14:30:00+00:00"
    stored = read_back(event)
    assert isinstance(stored, ev.CallLogged)
    assert stored.started_at == dt.datetime(2026, 11, 3, 14, 30, tzinfo=dt.UTC)


def test_an_opt_out_from_every_purpose_reads_back_with_no_purpose() -> None:
    event = ev.ConsentRevoked(channel=ev.Channel.SMS, source=ev.ConsentSource.SMS_KEYWORD)

    assert ev.serialize(event) == {
        "channel": "sms",
        "source": "sms_keyword",
        "purpose": None,
        "phone": None,
    }
    assert read_back(event) == event


def test_a_zulu_time_is_accepted_for_a_call() -> None:
    event = build(ev.CallLogged, _call_data(started_at="2026-11-03T14:30:00Z"))

    assert event.started_at == dt.datetime(2026, 11, 3, 14, 30, tzinfo=dt.UTC)


def test_text_is_stored_without_surrounding_whitespace() -> None:
    event = build(ev.PatientRegistered, _registration_data(first_name="  Rowan \n"))

    assert event.first_name == "Rowan"


def test_a_call_with_no_reason_given_is_accepted_with_a_blank_reason() -> None:
    event = build(ev.CallLogged, _call_data(reason="   "))

    assert event.reason == ""
    assert event.resolved_first_contact is False
    assert event.hold_seconds == 0


# --- unknown types and versions fail loudly ------------------------------------------------


def test_an_unknown_event_type_fails_loudly_naming_it() -> None:
    with pytest.raises(UnknownEventType, match="PatientTeleported"):
        ev.deserialize("PatientTeleported", 1, {})


def test_looking_up_an_unknown_event_class_fails_loudly() -> None:
    with pytest.raises(UnknownEventType, match="Unknown event type 'AppointmentTeleported'"):
        ev.event_class("AppointmentTeleported")


def test_a_schema_version_newer_than_the_code_fails_loudly_asking_for_a_deploy() -> None:
    data = {"channel": "sms", "purpose": "surveys", "source": "portal"}

    with pytest.raises(UnknownEventType) as refused:
        ev.deserialize("ConsentRecorded", 3, data)

    assert "schema version 3" in refused.value.message
    assert "knows up to 2" in refused.value.message
    assert "Deploy the newer code" in refused.value.message


def test_a_schema_version_below_one_fails_loudly() -> None:
    with pytest.raises(UnknownEventType, match="schema version 0"):
        ev.deserialize("NoteAdded", 0, {"note_id": str(CALL_ID), "text": "x", "author": "a"})


# --- bad data is refused, naming the field -------------------------------------------------


def test_an_unknown_field_is_refused_naming_it() -> None:
    with pytest.raises(ev.EventDataInvalid) as refused:
        ev.deserialize("PatientRegistered", 1, _registration_data(favourite_colour="teal"))

    assert refused.value.field == "favourite_colour"
    assert "is not a field of PatientRegistered" in refused.value.message


def test_a_missing_required_field_is_refused_naming_it() -> None:
    data = _registration_data()
    del data["last_name"]

    with pytest.raises(ev.EventDataInvalid) as refused:
        ev.deserialize("PatientRegistered", 1, data)

    assert refused.value.field == "last_name"
    assert refused.value.message == "last_name: is required."


def test_bad_event_data_is_invalid_input_so_the_api_answers_400() -> None:
    with pytest.raises(InvalidInput):
        build(ev.CallLogged, _call_data(duration_seconds="four minutes"))


@pytest.mark.parametrize(
    ("field", "value", "reason"),
    [
        ("duration_seconds", "240", "must be a whole number"),
        ("duration_seconds", 240.5, "must be a whole number"),
        ("duration_seconds", True, "must be a whole number"),
        ("resolved_first_contact", "yes", "must be true or false"),
        ("resolved_first_contact", 1, "must be true or false"),
        ("call_id", "call-42", "must be a UUID"),
        ("call_id", None, "must be a UUID"),
        ("channel", "carrier pigeon", "must be one of: sms, voice, email, chat"),
        ("channel", ["sms"], "must be one of: sms, voice, email, chat"),
        ("disposition", "hung_up", "must be one of: connected, voicemail"),
        ("agent", 42, "must be text"),
        ("agent", "   ", "must not be blank"),
        ("reason", "x" * (MAX_TEXT + 1), f"must be at most {MAX_TEXT} characters"),
        ("started_at", "2026-11-03T09:30:00", "must include a UTC offset"),
        ("started_at", dt.datetime(2026, 11, 3, 9, 30), "must include a UTC offset"),  # noqa: DTZ001
        ("started_at", "yesterday afternoon", "must be an ISO 8601 date and time"),
        ("started_at", 1_793_000_000, "must be a date and time"),
        ("started_at", dt.date(2026, 11, 3), "must be a date and time"),
    ],
)
def test_a_call_with_bad_data_is_refused_naming_the_field(
    field: str, value: Any, reason: str
) -> None:
    with pytest.raises(ev.EventDataInvalid) as refused:
        ev.deserialize("CallLogged", 2, _call_data(**{field: value}))

    assert refused.value.field == field
    assert reason in refused.value.detail


@pytest.mark.parametrize(
    ("event_class", "field", "value", "reason"),
    [
        (ev.SmsFailed, "error_code", "9" * 400, "at most 32 characters"),
        (ev.SmsFailed, "error_code", "30003\x00", "must be an error code"),
        (ev.SmsReceived, "body", "C" * 1601, "at most 1600 characters"),
        (ev.SmsReceived, "body", "C\x00", "must not hold NUL"),
        (ev.SmsReceived, "body", "C\ud800", "unpaired surrogate"),
        (ev.SmsReceived, "from_number", "+1617555013400000000", "at most 16 characters"),
        (ev.SmsReceived, "from_number", "(617) 555-0134", "E.164"),
        (ev.SmsReceived, "provider_message_id", "SM" + "a" * 300, "at most 34 characters"),
        (ev.SmsDelivered, "provider_message_id", "SM\x00" + "0" * 31, "a Twilio id"),
        (ev.SmsSent, "provider_message_id", "SM" + "0" * 16, "a Twilio id"),
        (ev.SmsStatusReported, "provider_message_id", "sm" + "0" * 32, "a Twilio id"),
        (ev.SmsNumberOptedOut, "keyword", "STOP" * 5, "at most 16 characters"),
        (ev.SmsNumberOptedIn, "phone", "+0123", "E.164"),
    ],
)
def test_what_the_sms_provider_says_is_refused_when_a_read_model_could_not_hold_it(
    event_class: type[ev.DomainEvent], field: str, value: str, reason: str
) -> None:
    data = {**_sample(event_class).to_data(), field: value}

    with pytest.raises(ev.EventDataInvalid) as refused:
        build(event_class, data)

    assert refused.value.field == field
    assert reason in refused.value.detail


def test_a_text_with_no_provider_id_or_body_is_still_a_text() -> None:
    data = {**_sample(ev.SmsReceived).to_data(), "provider_message_id": "", "body": ""}

    received = build(ev.SmsReceived, data)

    assert (received.provider_message_id, received.body) == ("", "")


@pytest.mark.parametrize(
    ("value", "reason"),
    [
        ("17/05/1984", "must be a date as YYYY-MM-DD"),
        ("1984-02-30", "must be a date as YYYY-MM-DD"),
        ("May 17th", "must be a date as YYYY-MM-DD"),
        ("1984-05-17T00:00:00+00:00", "must be a date as YYYY-MM-DD"),
        (19840517, "must be a date as YYYY-MM-DD"),
        (dt.datetime(1984, 5, 17, tzinfo=dt.UTC), "must be a date without a time"),
    ],
)
def test_a_malformed_date_of_birth_is_refused_naming_the_field(value: Any, reason: str) -> None:
    with pytest.raises(ev.EventDataInvalid) as refused:
        ev.deserialize("PatientRegistered", 1, _registration_data(date_of_birth=value))

    assert refused.value.field == "date_of_birth"
    assert reason in refused.value.detail


def test_an_optional_reminder_id_must_still_be_a_uuid_when_given() -> None:
    data = {
        "message_id": str(CALL_ID),
        "to": "+16175550134",
        "body": "Reminder: your visit is tomorrow at 9:30.",
        "purpose": "appointment_reminders",
        "reminder_id": "tomorrow",
    }

    with pytest.raises(ev.EventDataInvalid) as refused:
        ev.deserialize("SmsSent", 1, data)

    assert refused.value.field == "reminder_id"


def test_an_event_holding_a_naive_time_is_refused_before_it_is_stored() -> None:
    event = ev.AppointmentScheduled(
        appointment_id=CALL_ID,
        appointment_type=ev.AppointmentType.THERAPY,
        modality=ev.Modality.TELEHEALTH,
        starts_at=dt.datetime(2026, 11, 10, 9, 30),  # noqa: DTZ001 - the point of the test
        duration_minutes=50,
        provider="Dr. Okafor",
        location="Video",
    )

    with pytest.raises(ev.EventDataInvalid) as refused:
        ev.serialize(event)

    assert refused.value.field == "starts_at"
    assert "UTC offset" in refused.value.detail


# --- upcasters -----------------------------------------------------------------------------


def test_a_v1_sms_consent_comes_back_as_reminder_consent_from_an_unknown_source() -> None:
    event = ev.deserialize("ConsentRecorded", 1, {"channel": "sms"})

    assert event == ev.ConsentRecorded(
        channel=ev.Channel.SMS,
        purpose=ev.ConsentPurpose.APPOINTMENT_REMINDERS,
        source=ev.ConsentSource.UNKNOWN,
    )
    assert event.schema_version == 2


def test_a_v2_consent_keeps_its_own_purpose_and_source() -> None:
    data = {"channel": "sms", "purpose": "surveys", "source": "portal"}

    event = ev.deserialize("ConsentRecorded", 2, data)

    assert event == ev.ConsentRecorded(
        channel=ev.Channel.SMS,
        purpose=ev.ConsentPurpose.SURVEYS,
        source=ev.ConsentSource.PORTAL,
    )


def test_a_v1_call_in_whole_minutes_comes_back_in_seconds() -> None:
    data = _call_data(duration_minutes=12)
    del data["duration_seconds"]

    event = ev.deserialize("CallLogged", 1, data)

    assert isinstance(event, ev.CallLogged)
    assert event.duration_seconds == 720
    assert event.hold_seconds == 0
    assert event.wrap_up_seconds == 0
    assert "duration_minutes" not in ev.serialize(event)


def test_a_v1_call_with_a_malformed_duration_is_refused_naming_the_field() -> None:
    data = _call_data(duration_minutes="twelve")
    del data["duration_seconds"]

    with pytest.raises(ev.EventDataInvalid) as refused:
        ev.deserialize("CallLogged", 1, data)

    assert refused.value.field == "duration_minutes"
    assert "whole number" in refused.value.detail


def test_a_v1_call_stored_before_todays_bounds_is_still_read_as_stored() -> None:
    # Recorded when the door took .NET's unset DateTime and any reason up to MAX_TEXT.
    reason = "Asked about the bill; " * 60
    data = _call_data(duration_minutes=2, started_at="0001-01-01T00:00:00+00:00", reason=reason)
    del data["duration_seconds"]

    event = ev.deserialize("CallLogged", 1, data)

    assert isinstance(event, ev.CallLogged)
    assert event.started_at == dt.datetime(1, 1, 1, tzinfo=dt.UTC)
    assert event.reason == reason.strip()
    with pytest.raises(ev.EventDataInvalid):  # the door refuses both today
        build(ev.CallLogged, ev.serialize(event))


def test_the_upcaster_does_not_change_the_stored_data_it_was_given() -> None:
    data = _call_data(duration_minutes=3)
    del data["duration_seconds"]
    before = dict(data)

    ev.deserialize("CallLogged", 1, data)

    assert data == before


@pytest.mark.parametrize(
    ("stored_reason", "code"),
    [("Billing question", "other"), ("   ", ""), ("", "")],
)
def test_a_v2_call_with_a_reason_in_free_text_counts_as_other(
    stored_reason: str, code: str
) -> None:
    # Before the clinic's list of reasons a call had only words; they are kept as written.
    event = ev.deserialize("CallLogged", 2, _call_data(reason=stored_reason))

    assert isinstance(event, ev.CallLogged)
    assert (event.reason_code, event.reason) == (code, stored_reason.strip())
    assert ev.CallLogged.schema_version == 4


# --- the registry guards the catalogue ------------------------------------------------------


def test_a_second_event_type_with_a_taken_name_is_refused() -> None:
    @dataclasses.dataclass(frozen=True, kw_only=True)
    class Impostor(ev.DomainEvent):
        text: str

    with pytest.raises(TypeError, match="'PatientRegistered' registered twice"):
        registered("PatientRegistered")(Impostor)

    assert ev.event_class("PatientRegistered") is ev.PatientRegistered


def test_a_new_schema_version_without_an_upcaster_path_is_refused() -> None:
    @dataclasses.dataclass(frozen=True, kw_only=True)
    class Stranded(ev.DomainEvent):
        text: str

    with pytest.raises(TypeError, match=r"no upcaster from version\(s\) \[2\]"):
        registered("StrandedTestEvent", version=3, upcasters={1: dict})(Stranded)

    assert "StrandedTestEvent" not in ev.registered_types()
