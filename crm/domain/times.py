"""The plausible range of every clinical time, checked before a time can become an event,
and the one safe way to show a stored time in a zone."""

from __future__ import annotations

import datetime as dt

from crm.domain.errors import InvalidInput

# Nothing in a patient's care happened before 1900, and nothing is planned past 2200:
# outside this window a time is a default (.NET's 0001-01-01) or a typo in the year, and
# zone arithmetic on it fails.
EARLIEST = dt.datetime(1900, 1, 1, tzinfo=dt.UTC)
EARLIEST_DAY = EARLIEST.date()
LATEST = dt.datetime(2200, 1, 1, tzinfo=dt.UTC)
LATEST_DAY = LATEST.date()
# The oldest date any event may hold: a birth 130 years back (the registration rule) is
# before 1900.
OLDEST_DAY = dt.date(1800, 1, 1)
# How far ahead of our clock another machine's "now" may be: a call logged by a desktop
# whose clock runs a little fast is still a call in the past.
CLOCK_SKEW = dt.timedelta(minutes=5)
# How far ahead an appointment may be booked or a test fall due (settings.APPOINTMENT_HORIZON_DAYS
# overrides it): further out is almost always a typo in the year.
APPOINTMENT_HORIZON = dt.timedelta(days=731)


def check_in_range(field: str, value: dt.datetime) -> None:
    """Refuse a time outside [EARLIEST, LATEST): what every event time must satisfy."""
    if value < EARLIEST:
        raise InvalidInput(field, f"is before {EARLIEST_DAY.year}; check the year.")
    if value >= LATEST:
        raise InvalidInput(field, f"is after {LATEST_DAY.year - 1}; check the year.")


def check_day_in_range(field: str, value: dt.date, earliest: dt.date | None = None) -> None:
    """Refuse a day outside [earliest (EARLIEST_DAY), LATEST_DAY)."""
    earliest = earliest or EARLIEST_DAY
    if value < earliest:
        raise InvalidInput(field, f"is before {earliest.year}; check the year.")
    if value >= LATEST_DAY:
        raise InvalidInput(field, f"is after {LATEST_DAY.year - 1}; check the year.")


def check_past(field: str, value: dt.datetime, now: dt.datetime) -> None:
    """A time that has happened (a call, a crisis contact, a consent...): not before 1900,
    and not after `now` beyond the clock skew."""
    if value > now + CLOCK_SKEW:
        raise InvalidInput(field, "is in the future.")
    check_in_range(field, value)


def check_past_day(field: str, value: dt.date, today: dt.date) -> None:
    """A day that has happened (a birth, a death)."""
    if value > today:
        raise InvalidInput(field, "is in the future.")
    check_day_in_range(field, value)


def check_ahead(
    field: str, value: dt.datetime, now: dt.datetime, horizon: dt.timedelta = APPOINTMENT_HORIZON
) -> None:
    """A time planned ahead (an appointment): at most `horizon` after `now`. Whether it may
    be in the past is the caller's rule (a booking may not; a stored one may)."""
    if value > now + horizon:
        raise InvalidInput(field, f"is more than {_span(horizon)} ahead; check the year.")
    check_in_range(field, value)


def check_day_ahead(
    field: str, value: dt.date, today: dt.date, horizon: dt.timedelta = APPOINTMENT_HORIZON
) -> None:
    if value > today + horizon:
        raise InvalidInput(field, f"is more than {_span(horizon)} ahead; check the year.")
    check_day_in_range(field, value)


def in_zone(value: dt.datetime, zone: dt.tzinfo) -> dt.datetime:
    """`value` in `zone` for a reader. A time at the calendar's edge (year 1 or 9999, stored
    before these bounds existed) has no local time there; it is shown as stored instead of
    failing the page that shows it."""
    try:
        return value.astimezone(zone)
    except OverflowError:
        return value


def _span(horizon: dt.timedelta) -> str:
    days = horizon.days
    if days >= 365 and days % 365 in (0, 1):
        years = days // 365
        return "one year" if years == 1 else f"{years} years"
    return f"{days} days"
