"""How the admin writes times, durations, phone numbers and the clinic's vocabulary."""

from __future__ import annotations

import datetime as dt
import enum
import zoneinfo
from functools import cache

import phonenumbers
from django.conf import settings

from crm.domain import events as ev
from crm.domain import times
from crm.domain.phones import format_national

_LABELS: dict[enum.Enum, str] = {
    ev.Channel.SMS: "text (SMS)",
    ev.Channel.VOICE: "phone",
    ev.Channel.EMAIL: "email",
    ev.Channel.CHAT: "chat",
    ev.ConsentPurpose.APPOINTMENT_REMINDERS: "appointment reminders",
    ev.ConsentPurpose.CARE_MESSAGES: "care messages",
    ev.ConsentPurpose.SURVEYS: "surveys",
    ev.ConsentSource.SMS_KEYWORD: "reply keyword (STOP/START)",
    ev.CallDisposition.NO_ANSWER: "no answer",
    ev.CallDisposition.WRONG_NUMBER: "wrong number",
    ev.AppointmentType.ANNUAL_WELLNESS: "annual wellness visit",
    ev.AppointmentType.NEW_PATIENT: "new patient visit",
    ev.AppointmentType.FOLLOW_UP: "follow-up",
    ev.AppointmentType.TEST: "test or lab visit",
    ev.Modality.IN_PERSON: "in person",
    ev.CrisisHandoff.NONE: "no handoff",
    ev.CrisisHandoff.MOBILE_CRISIS_TEAM: "mobile crisis team",
    ev.CrisisHandoff.CRISIS_LINE: "crisis line",
    ev.CrisisHandoff.EMERGENCY_SERVICES: "emergency services",
    ev.SafetyPlan.NONE: "no safety plan",
    ev.SafetyPlan.REVIEWED: "safety plan reviewed",
    ev.SafetyPlan.CREATED: "safety plan created",
    ev.SafetyPlan.UPDATED: "safety plan updated",
}


def label(value: enum.Enum) -> str:
    """The clinic's word for an enumeration member: "no answer", "text (SMS)"."""
    return _LABELS.get(value) or str(value.value).replace("_", " ")


def channel_label(value: str) -> str:
    """A channel stored as text in a read model; one this code does not know reads as is."""
    try:
        return label(ev.Channel(value))
    except ValueError:
        return value


def choices(enumeration: type[enum.Enum]) -> list[tuple[str, str]]:
    """Form choices for an enumeration, labelled in the clinic's words (first letter up)."""
    return [(str(member.value), _capital(label(member))) for member in enumeration]


def _capital(text: str) -> str:
    return text[:1].upper() + text[1:]


@cache
def zone(name: str) -> zoneinfo.ZoneInfo:
    return zoneinfo.ZoneInfo(name or settings.TIME_ZONE)


def clinic_zone() -> zoneinfo.ZoneInfo:
    return zone(settings.TIME_ZONE)


def moment(value: dt.datetime, zone_name: str = "") -> str:
    """A moment as a person reads it, in the given zone: "Tue Nov 10, 2026, 9:30 AM EST"."""
    local = times.in_zone(value, zone(zone_name))
    return f"{local:%a %b} {local.day}, {local.year}, {clock(local)} {local.tzname()}"


def clock(local: dt.datetime | dt.time) -> str:
    hour = local.hour % 12 or 12
    return f"{hour}:{local.minute:02d} {'AM' if local.hour < 12 else 'PM'}"


def day(value: dt.date) -> str:
    return f"{value:%b} {value.day}, {value.year}"


def clinic_day(value: dt.datetime) -> str:
    """The clinic's day of a moment: "Nov 10, 2026"."""
    return day(times.in_zone(value, clinic_zone()).date())


def age(born: dt.date, today: dt.date) -> int:
    return today.year - born.year - ((today.month, today.day) < (born.month, born.day))


def phone(e164: str | None) -> str:
    if not e164:
        return ""
    try:
        return str(format_national(e164))
    except phonenumbers.NumberParseException:  # shown as stored rather than hidden
        return e164


def duration(seconds: float | None) -> str:
    """ "4 min 05 s", "45 s"; an empty string when there is nothing to show."""
    if seconds is None:
        return ""
    whole = round(seconds)
    minutes, rest = divmod(whole, 60)
    return f"{minutes} min {rest:02d} s" if minutes else f"{rest} s"


def percent(rate: float | None) -> str:
    return "" if rate is None else f"{rate * 100:.1f}%"
