"""Finding a patient from what a caller says: a name, a date of birth, or a phone number
typed any way at all ("(617) 555-0134", "617.555.0134", "+1 617 555 0134")."""

from __future__ import annotations

import datetime as dt
import re
import uuid

from django.db.models import QuerySet

from crm.domain.errors import InvalidInput
from crm.domain.phones import normalize_phone
from crm.models import PatientProfile

_DATE_FORMATS = ("%Y-%m-%d", "%m/%d/%Y", "%m-%d-%Y", "%m.%d.%Y")
_PHONE_CHARACTERS = re.compile(r"^[\d\s()+.\-]+$")
# Fewer digits than this match too many numbers to mean anything.
_PARTIAL_PHONE_DIGITS = 4
# A number without its area code ("555-0134") is the longest part of one worth matching on
# its last digits; more digits than that are a whole number, which must be a valid one.
_LOCAL_NUMBER_DIGITS = 7


def search_patients(
    patients: QuerySet[PatientProfile], term: str, *, region: str
) -> QuerySet[PatientProfile]:
    text = term.strip()
    if not text:
        return patients
    born = _date(text)
    if born is not None:
        return patients.filter(date_of_birth=born)
    try:
        return patients.filter(patient_id=uuid.UUID(text))
    except ValueError:
        pass
    if _PHONE_CHARACTERS.match(text):
        return _by_phone(patients, text, region=region)
    names: list[str] = []
    for token in re.split(r"[\s,]+", text):
        day = _date(token)
        if day is not None:
            patients = patients.filter(date_of_birth=day)
        elif token:
            names.append(token.lower())  # as the profile stores search_name
    for name in names:
        patients = patients.filter(search_name__contains=name)
    return patients


def search_problem(term: str, *, region: str) -> str:
    """Why `term` finds nobody whatever the records hold, in the API's words ("... is not a
    valid phone number; include the area code ..."); "" when it can be searched."""
    text = term.strip()
    if not _PHONE_CHARACTERS.match(text) or _date(text) is not None:
        return ""  # a name, a date of birth, or nothing typed
    try:
        normalize_phone(text, region=region, field="search")
    except InvalidInput as error:
        digits = len(re.sub(r"\D", "", text))
        if digits < _PARTIAL_PHONE_DIGITS:
            return (
                f"{text!r} is too short to find a phone number by; type at least "
                f"{_PARTIAL_PHONE_DIGITS} of its last digits, or the whole number."
            )
        return error.detail if digits > _LOCAL_NUMBER_DIGITS else ""
    return ""


def typed_number(term: str, *, region: str) -> str:
    """The whole phone number `term` is (E.164), or "" when it is anything else."""
    text = term.strip()
    if not _PHONE_CHARACTERS.match(text) or _date(text) is not None:
        return ""
    try:
        return normalize_phone(text, region=region)
    except InvalidInput:
        return ""


def _by_phone(
    patients: QuerySet[PatientProfile], text: str, *, region: str
) -> QuerySet[PatientProfile]:
    try:
        return patients.filter(phone=normalize_phone(text, region=region))
    except InvalidInput:
        pass
    # Part of a number ("555-0134", "0134"): the end of the stored E.164 number.
    digits = re.sub(r"\D", "", text)
    if not _PARTIAL_PHONE_DIGITS <= len(digits) <= _LOCAL_NUMBER_DIGITS:
        return patients.none()  # search_problem says why
    return patients.filter(phone__endswith=digits)


def _date(text: str) -> dt.date | None:
    for pattern in _DATE_FORMATS:
        try:
            return dt.datetime.strptime(text, pattern).date()  # noqa: DTZ007 (a date only)
        except ValueError:
            continue
    return None
