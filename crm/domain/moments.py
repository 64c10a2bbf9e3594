"""How a moment reads to a person: in the patient's zone with its abbreviation, the clinic's
time beside it when the clocks differ; the one formatter of times for every screen and text."""

from __future__ import annotations

import datetime as dt
import zoneinfo
from functools import cache

from crm.domain import times

__all__ = [
    "clinic_time",
    "clock",
    "date",
    "day",
    "local_day",
    "moment",
    "zone_named",
]

# Written out by hand rather than with strftime: it does not depend on the process's
# locale, and the bulk re-evaluation writes millions of reasons. (Machine fields stay ISO
# 8601 in UTC; this is for people: the admin, the API's sentences, reasons and texts.)
_DAYS = {
    "en": ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"),
    "es": ("lun", "mar", "mié", "jue", "vie", "sáb", "dom"),
}
_MONTHS = {
    "en": ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"),
    "es": ("ene", "feb", "mar", "abr", "may", "jun", "jul", "ago", "sep", "oct", "nov", "dic"),
}


@cache
def zone_named(name: str | None, fallback: str = "") -> zoneinfo.ZoneInfo:
    """The zone called `name`; the fallback (the clinic's) when `name` is empty or names
    no zone this machine knows (a record stored before zones were checked)."""
    for candidate in (name, fallback):
        if not candidate:
            continue
        try:
            return zoneinfo.ZoneInfo(candidate)
        except (zoneinfo.ZoneInfoNotFoundError, ValueError, OSError):
            continue
    return zoneinfo.ZoneInfo("UTC")


def _language(language: str) -> str:
    return language if language in _DAYS else "en"


def clock(local: dt.datetime | dt.time, language: str = "en") -> str:
    """The time on the wall: "9:30 AM" ("9:30" in Spanish, which reads the 24-hour clock)."""
    if _language(language) != "en":
        return f"{local.hour}:{local.minute:02d}"
    hour = local.hour % 12 or 12
    return f"{hour}:{local.minute:02d} {'AM' if local.hour < 12 else 'PM'}"


def date(local: dt.datetime | dt.date, language: str = "en") -> str:
    """The weekday and the day of the month: "Tue Nov 17" ("mar 17 nov")."""
    lang = _language(language)
    weekday, month = _DAYS[lang][local.weekday()], _MONTHS[lang][local.month - 1]
    return f"{weekday} {month} {local.day}" if lang == "en" else f"{weekday} {local.day} {month}"


def day(value: dt.date) -> str:
    """A calendar day (a birth, a test's due date): "Nov 17, 2026"."""
    return f"{_MONTHS['en'][value.month - 1]} {value.day}, {value.year}"


def local_day(value: dt.datetime, zone: dt.tzinfo) -> str:
    """The day a moment falls on in `zone`: "Tue Nov 17, 2026"."""
    local = times.in_zone(value, zone)
    return f"{date(local)}, {local.year}"


def _labelled(local: dt.datetime) -> str:
    return f"{clock(local)} {local.tzname() or ''}".rstrip()


def moment(value: dt.datetime, zone: dt.tzinfo, *, clinic: dt.tzinfo | None = None) -> str:
    """`value` as a person reads it in `zone`, labelled: "Tue Nov 17, 2026, 12:00 PM CST",
    followed by " (clinic: 1:00 PM EST)" when `clinic` is given and its clock differs."""
    local = times.in_zone(value, zone)
    text = f"{date(local)}, {local.year}, {_labelled(local)}"
    beside = clinic_time(value, zone, clinic) if clinic is not None else ""
    return f"{text} (clinic: {beside})" if beside else text


def clinic_time(value: dt.datetime, zone: dt.tzinfo, clinic: dt.tzinfo) -> str:
    """The clinic's clock at `value` when it differs from `zone`'s: "1:00 PM EST" on the
    same day, "Wed Nov 18, 1:00 AM EST" on another; "" when both clocks read the same."""
    local = times.in_zone(value, zone)
    there = times.in_zone(value, clinic)
    if local.utcoffset() == there.utcoffset():
        return ""
    if there.date() == local.date():
        return _labelled(there)
    if there.year == local.year:
        return f"{date(there)}, {_labelled(there)}"
    return f"{date(there)}, {there.year}, {_labelled(there)}"
