"""Registering a patient and keeping who they are and how to reach them up to date."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest

from crm.domain import decisions as decide
from crm.domain import events as ev
from crm.domain.errors import CommandRefused, InvalidInput, PatientNotFound
from crm.domain.state import PatientState

from .support import NOW, PATIENT_ID, PHONE, given, patient_registered, storable


def register(state: PatientState, **overrides: Any) -> list[ev.DomainEvent]:
    values: dict[str, Any] = {
        "first_name": "Rowan",
        "last_name": "Testpatient",
        "date_of_birth": dt.date(1984, 5, 17),
        "preferred_name": "",
        "phone": PHONE,
        "email": "rowan@example.org",
        "language": "en",
        "timezone": "",
        "now": NOW,
    }
    values.update(overrides)
    return decide.register(state, **values)


def change_demographics(state: PatientState, **overrides: Any) -> list[ev.DomainEvent]:
    values: dict[str, Any] = {
        "first_name": "Rowan",
        "last_name": "Testpatient",
        "date_of_birth": dt.date(1984, 5, 17),
        "preferred_name": "",
        "language": "en",
        "now": NOW,
    }
    values.update(overrides)
    return decide.change_demographics(state, **values)


# --- registration ----------------------------------------------------------------------------


def test_a_new_patient_is_registered_with_tidy_names() -> None:
    events = register(
        given(),
        first_name="  Rowan ",
        last_name=" Testpatient",
        preferred_name=" Ro ",
        email=" rowan@example.org ",
        language="es",
        timezone="America/Chicago",
    )

    assert storable(events) == [
        ev.PatientRegistered(
            first_name="Rowan",
            last_name="Testpatient",
            preferred_name="Ro",
            date_of_birth=dt.date(1984, 5, 17),
            phone=PHONE,
            email="rowan@example.org",
            language="es",
            timezone="America/Chicago",
        )
    ]


def test_a_patient_with_no_phone_or_email_can_still_be_registered() -> None:
    (event,) = register(given(), phone=None, email="")

    assert isinstance(event, ev.PatientRegistered)
    assert event.phone is None
    assert event.email == ""


def test_it_refuses_to_register_the_same_patient_twice() -> None:
    with pytest.raises(CommandRefused, match=f"Patient {PATIENT_ID} is already registered"):
        register(given(patient_registered()))


def test_a_baby_born_today_can_be_registered() -> None:
    (event,) = register(given(), date_of_birth=NOW.date())

    assert isinstance(event, ev.PatientRegistered)
    assert event.date_of_birth == NOW.date()


def test_it_refuses_a_date_of_birth_in_the_future() -> None:
    with pytest.raises(InvalidInput) as refused:
        register(given(), date_of_birth=NOW.date() + dt.timedelta(days=1))

    assert refused.value.field == "date_of_birth"
    assert refused.value.detail == "is in the future."


def test_it_refuses_a_date_of_birth_more_than_130_years_ago() -> None:
    with pytest.raises(InvalidInput) as refused:
        register(given(), date_of_birth=dt.date(1890, 1, 1))

    assert refused.value.field == "date_of_birth"
    assert refused.value.detail == "is more than 130 years ago."


def test_a_patient_turning_130_today_can_still_be_registered() -> None:
    assert register(given(), date_of_birth=dt.date(1896, 11, 3))


def test_it_refuses_a_date_of_birth_130_years_and_one_day_ago() -> None:
    with pytest.raises(InvalidInput, match="more than 130 years ago"):
        register(given(), date_of_birth=dt.date(1896, 11, 2))


def test_it_refuses_a_date_of_birth_early_in_the_year_130_years_back() -> None:
    # 1896-01-01 is nearly 131 years before 2026-11-03, even though 2026 - 1896 == 130.
    with pytest.raises(InvalidInput, match="more than 130 years ago"):
        register(given(), date_of_birth=dt.date(1896, 1, 1))


def test_the_oldest_allowed_birthday_is_found_even_on_a_leap_day() -> None:
    leap_day = dt.datetime(2028, 2, 29, 12, 0, tzinfo=dt.UTC)

    assert register(given(), date_of_birth=dt.date(1898, 2, 28), now=leap_day)
    with pytest.raises(InvalidInput, match="more than 130 years ago"):
        register(given(), date_of_birth=dt.date(1898, 2, 27), now=leap_day)


@pytest.mark.parametrize("field", ["first_name", "last_name"])
def test_it_refuses_a_blank_name(field: str) -> None:
    with pytest.raises(InvalidInput) as refused:
        register(given(), **{field: "   "})

    assert refused.value.field == field
    assert refused.value.detail == "must not be blank."


@pytest.mark.parametrize("field", ["first_name", "last_name", "preferred_name"])
@pytest.mark.parametrize("name", ["Ava\x1b[31m", "Ro\x07wan", "Rowan\nSmith", "Ro\x85wan"])
def test_it_refuses_a_name_holding_control_characters(field: str, name: str) -> None:
    # An escape sequence or a bell in a name would reach every text and screen that shows it.
    with pytest.raises(InvalidInput) as refused:
        register(given(), **{field: name})
    with pytest.raises(InvalidInput) as refused_later:
        change_demographics(given(patient_registered()), **{field: name})

    assert refused.value.field == refused_later.value.field == field
    assert "control characters" in refused.value.detail


def test_names_from_every_script_are_taken() -> None:
    (registered,) = register(given(), first_name="Zoë-Ngọc", last_name="O'Brien 山田")

    assert isinstance(registered, ev.PatientRegistered)
    assert registered.last_name == "O'Brien 山田"


@pytest.mark.parametrize(
    "email", ["rowan@", "rowan at example.org", "rowan@example", "@x.org", "ro\x1bwan@example.org"]
)
def test_it_refuses_an_email_that_is_not_an_address(email: str) -> None:
    with pytest.raises(InvalidInput) as refused:
        register(given(), email=email)

    assert refused.value.field == "email"
    assert repr(email) in refused.value.detail
    assert "is not an email address" in refused.value.detail


@pytest.mark.parametrize("zone", ["Mars/Olympus", "Eastern", "America/", "../etc/passwd"])
def test_it_refuses_a_time_zone_it_does_not_know(zone: str) -> None:
    with pytest.raises(InvalidInput) as refused:
        register(given(), timezone=zone)

    assert refused.value.field == "timezone"
    assert "is not a time zone such as 'America/Chicago'" in refused.value.detail


@pytest.mark.parametrize(
    "zone", ["right/America/New_York", "posix/America/New_York", "localtime", "Factory"]
)
def test_it_refuses_a_zone_file_that_is_no_place_a_patient_lives(zone: str) -> None:
    # ZoneInfo opens each of these on a Debian host; "right/America/New_York" puts New York
    # in daylight time all December, so quiet hours would be an hour off.
    with pytest.raises(InvalidInput) as refused:
        register(given(), timezone=zone)

    assert refused.value.field == "timezone"


@pytest.mark.parametrize("zone", ["America/New_York", "Pacific/Kiritimati", "Europe/London"])
def test_it_takes_the_zones_patients_live_in(zone: str) -> None:
    (registered,) = register(given(), timezone=zone)

    assert isinstance(registered, ev.PatientRegistered)
    assert registered.timezone == zone


@pytest.mark.parametrize("language", ["English", "e", "EN", "en_US", "", "en\n"])
def test_it_refuses_a_language_that_is_not_a_language_code(language: str) -> None:
    with pytest.raises(InvalidInput) as refused:
        register(given(), language=language)

    assert refused.value.field == "language"
    assert "'en' or 'es'" in refused.value.detail


@pytest.mark.parametrize("language", ["en", "es", "hmn", "pt-BR", "zh-Hant"])
def test_it_accepts_the_languages_the_clinic_speaks(language: str) -> None:
    (event,) = register(given(), language=language)

    assert isinstance(event, ev.PatientRegistered)
    assert event.language == language


# --- demographics ----------------------------------------------------------------------------


def test_a_corrected_name_records_the_full_new_demographics() -> None:
    events = change_demographics(
        given(patient_registered()), first_name=" Rowena ", preferred_name="Ro", language="fr"
    )

    assert storable(events) == [
        ev.DemographicsChanged(
            first_name="Rowena",
            last_name="Testpatient",
            date_of_birth=dt.date(1984, 5, 17),
            preferred_name="Ro",
            language="fr",
        )
    ]


def test_saving_the_demographics_unchanged_records_nothing() -> None:
    assert change_demographics(given(patient_registered()), first_name=" Rowan ") == []


def test_it_refuses_to_move_a_date_of_birth_into_the_future() -> None:
    with pytest.raises(InvalidInput) as refused:
        change_demographics(given(patient_registered()), date_of_birth=dt.date(2027, 1, 1))

    assert refused.value.field == "date_of_birth"


def test_it_refuses_demographics_for_a_patient_it_has_never_registered() -> None:
    with pytest.raises(PatientNotFound, match=f"No patient with id {PATIENT_ID}"):
        change_demographics(given())


# --- contact details -------------------------------------------------------------------------


def test_a_new_phone_and_email_are_recorded_together() -> None:
    events = decide.change_contact_details(
        given(patient_registered()),
        phone="+13125550199",
        email=" rowan@newmail.org ",
        timezone="America/Chicago",
    )

    assert storable(events) == [
        ev.ContactDetailsChanged(
            phone="+13125550199", email="rowan@newmail.org", timezone="America/Chicago"
        )
    ]


def test_saving_the_contact_details_unchanged_records_nothing() -> None:
    state = given(patient_registered())

    assert (
        decide.change_contact_details(state, phone=PHONE, email="rowan@example.org ", timezone="")
        == []
    )


def test_a_patient_can_ask_to_have_their_phone_number_removed() -> None:
    events = decide.change_contact_details(
        given(patient_registered()), phone=None, email="rowan@example.org", timezone=""
    )

    assert events == [ev.ContactDetailsChanged(phone=None, email="rowan@example.org")]


def test_it_refuses_a_bad_email_when_contact_details_change() -> None:
    with pytest.raises(InvalidInput) as refused:
        decide.change_contact_details(
            given(patient_registered()), phone=PHONE, email="rowan(at)example.org", timezone=""
        )

    assert refused.value.field == "email"


def test_it_refuses_a_bad_time_zone_when_contact_details_change() -> None:
    with pytest.raises(InvalidInput) as refused:
        decide.change_contact_details(
            given(patient_registered()), phone=PHONE, email="", timezone="EST5EDT-ish"
        )

    assert refused.value.field == "timezone"


def test_it_refuses_contact_details_for_a_patient_it_has_never_registered() -> None:
    with pytest.raises(PatientNotFound):
        decide.change_contact_details(given(), phone=PHONE, email="", timezone="")
