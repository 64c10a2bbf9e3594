"""Decisions on the patient record: registration, demographics, contact details, death and
merges."""

from __future__ import annotations

import datetime as dt
import functools
import re
import zoneinfo

from crm.domain import events as ev
from crm.domain import times
from crm.domain.decisions.guards import require_patient
from crm.domain.errors import CommandRefused, InvalidInput
from crm.domain.state import PatientState

OLDEST_PATIENT_YEARS = 130


_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")


_LANGUAGE = re.compile(r"^[a-z]{2,3}(-[A-Za-z]{2,4})?$")


# C0 and C1 control characters (ESC, BEL, a newline...): no name or address holds one, and
# each would reach the texts a patient receives and every screen that shows the name.
_CONTROL = re.compile("[\x00-\x1f\x7f-\x9f]")


def _check_demographics(
    *,
    first_name: str,
    last_name: str,
    preferred_name: str,
    date_of_birth: dt.date,
    language: str,
    now: dt.datetime,
) -> None:
    if not first_name.strip():
        raise InvalidInput("first_name", "must not be blank.")
    if not last_name.strip():
        raise InvalidInput("last_name", "must not be blank.")
    names = {"first_name": first_name, "last_name": last_name, "preferred_name": preferred_name}
    for field, name in names.items():
        if _CONTROL.search(name):
            raise InvalidInput(field, "must not hold control characters (tab, newline, escape).")
    # Not before 1900 like other days: a patient may be up to 130 years old.
    if date_of_birth > now.date():
        raise InvalidInput("date_of_birth", "is in the future.")
    today = now.date()
    # 29 February has no twin 130 years back in a common year; 28 February stands in.
    day = 28 if (today.month, today.day) == (2, 29) else today.day
    if date_of_birth < today.replace(year=today.year - OLDEST_PATIENT_YEARS, day=day):
        raise InvalidInput("date_of_birth", f"is more than {OLDEST_PATIENT_YEARS} years ago.")
    if not _LANGUAGE.fullmatch(language):
        raise InvalidInput("language", "must be a language code such as 'en' or 'es'.")


def _check_contact(*, email: str, timezone: str) -> None:
    email = email.strip()  # validate what will be stored: the callers store it stripped
    if email and (not _EMAIL.match(email) or _CONTROL.search(email)):
        raise InvalidInput("email", f"{email!r} is not an email address.")
    if timezone and timezone not in _zone_names():
        raise InvalidInput(
            "timezone", f"{timezone!r} is not a time zone such as 'America/Chicago'."
        )


@functools.cache
def _zone_names() -> frozenset[str]:
    """The IANA zones, not every file ZoneInfo opens: "right/..." files count leap seconds,
    which zoneinfo misreads (New York in EDT all December, quiet hours an hour off);
    "localtime" is whatever zone the host runs in, so two hosts would read one event two
    ways; "Factory" and "posixrules" are no place a patient lives."""
    return frozenset(zoneinfo.available_timezones()) - {"localtime", "Factory", "posixrules"}


def register(
    state: PatientState,
    *,
    first_name: str,
    last_name: str,
    date_of_birth: dt.date,
    preferred_name: str,
    phone: str | None,
    email: str,
    language: str,
    timezone: str,
    now: dt.datetime,
) -> list[ev.DomainEvent]:
    if state.version > 0:
        raise CommandRefused(f"Patient {state.patient_id} is already registered.")
    _check_demographics(
        first_name=first_name,
        last_name=last_name,
        preferred_name=preferred_name,
        date_of_birth=date_of_birth,
        language=language,
        now=now,
    )
    _check_contact(email=email, timezone=timezone)
    return [
        ev.PatientRegistered(
            first_name=first_name.strip(),
            last_name=last_name.strip(),
            preferred_name=preferred_name.strip(),
            date_of_birth=date_of_birth,
            phone=phone,
            email=email.strip(),
            language=language,
            timezone=timezone,
        )
    ]


def change_demographics(
    state: PatientState,
    *,
    first_name: str,
    last_name: str,
    date_of_birth: dt.date,
    preferred_name: str,
    language: str,
    now: dt.datetime,
) -> list[ev.DomainEvent]:
    require_patient(state)
    _check_demographics(
        first_name=first_name,
        last_name=last_name,
        preferred_name=preferred_name,
        date_of_birth=date_of_birth,
        language=language,
        now=now,
    )
    new = (first_name.strip(), last_name.strip(), date_of_birth, preferred_name.strip(), language)
    old = (
        state.first_name,
        state.last_name,
        state.date_of_birth,
        state.preferred_name,
        state.language,
    )
    if new == old:
        return []
    return [
        ev.DemographicsChanged(
            first_name=new[0],
            last_name=new[1],
            date_of_birth=date_of_birth,
            preferred_name=new[3],
            language=language,
        )
    ]


def change_contact_details(
    state: PatientState, *, phone: str | None, email: str, timezone: str
) -> list[ev.DomainEvent]:
    require_patient(state)
    _check_contact(email=email, timezone=timezone)
    if (phone, email.strip(), timezone) == (state.phone, state.email, state.timezone):
        return []
    return [ev.ContactDetailsChanged(phone=phone, email=email.strip(), timezone=timezone)]


def mark_deceased(
    state: PatientState, *, date_of_death: dt.date | None, recorded_by: str, now: dt.datetime
) -> list[ev.DomainEvent]:
    require_patient(state)
    if state.deceased:
        raise CommandRefused("The patient is already recorded as deceased.")
    if date_of_death is not None:
        times.check_past_day("date_of_death", date_of_death, now.date())
    if (
        date_of_death is not None
        and state.date_of_birth is not None
        and date_of_death < state.date_of_birth
    ):
        raise InvalidInput("date_of_death", "is before the date of birth.")
    return [ev.PatientDeceased(date_of_death=date_of_death, recorded_by=recorded_by)]


def merge(
    survivor: PatientState, duplicate: PatientState, *, merged_by: str
) -> tuple[list[ev.DomainEvent], list[ev.DomainEvent]]:
    """Events for the surviving record and for the duplicate, in that order."""
    require_patient(survivor)
    require_patient(duplicate)
    if survivor.patient_id == duplicate.patient_id:
        raise CommandRefused("Cannot merge a patient into itself.")
    return (
        [ev.PatientsMerged(merged_patient_id=duplicate.patient_id, merged_by=merged_by)],
        [ev.PatientMergedInto(surviving_patient_id=survivor.patient_id, merged_by=merged_by)],
    )
