"""How the admin writes times, durations, phone numbers and the clinic's vocabulary."""

from __future__ import annotations

import datetime as dt
import enum
import zoneinfo

from django.conf import settings

from crm.domain import moments, times
from crm.domain.vocabulary import channel_label, duration, label, phone

__all__ = [
    "age",
    "channel_label",
    "choices",
    "clinic_day",
    "clinic_time",
    "clinic_zone",
    "clock",
    "day",
    "duration",
    "label",
    "local_moment",
    "moment",
    "percent",
    "phone",
    "zone",
]


def choices(enumeration: type[enum.Enum]) -> list[tuple[str, str]]:
    """Form choices for an enumeration, labelled in the clinic's words (first letter up)."""
    return [(str(member.value), _capital(label(member))) for member in enumeration]


def _capital(text: str) -> str:
    return text[:1].upper() + text[1:]


def zone(name: str | None) -> zoneinfo.ZoneInfo:
    """The patient's zone; the clinic's when none is set or the name is not a zone."""
    return moments.zone_named(name, settings.TIME_ZONE)


def clinic_zone() -> zoneinfo.ZoneInfo:
    return moments.zone_named(settings.TIME_ZONE)


def moment(value: dt.datetime, zone_name: str | None = "") -> str:
    """A moment as a person reads it, in the patient's zone with the clinic's time beside it
    when the clocks differ: "Tue Nov 10, 2026, 9:30 AM CST (clinic: 10:30 AM EST)"."""
    return moments.moment(value, zone(zone_name), clinic=clinic_zone())


def local_moment(value: dt.datetime, zone_name: str | None = "") -> str:
    """The same in the patient's zone alone, for a screen that shows the clinic's time
    apart (`clinic_time`)."""
    return moments.moment(value, zone(zone_name))


def clinic_time(value: dt.datetime, zone_name: str | None = "") -> str:
    """The clinic's clock at `value` when it differs from the patient's, else ""."""
    return moments.clinic_time(value, zone(zone_name), clinic_zone())


def clock(local: dt.datetime | dt.time) -> str:
    return moments.clock(local)


def day(value: dt.date) -> str:
    return moments.day(value)


def clinic_day(value: dt.datetime) -> str:
    """The clinic's day of a moment: "Nov 10, 2026"."""
    return day(times.in_zone(value, clinic_zone()).date())


def age(born: dt.date, today: dt.date) -> int:
    return today.year - born.year - ((today.month, today.day) < (born.month, born.day))


def percent(rate: float | None) -> str:
    return "" if rate is None else f"{rate * 100:.1f}%"
