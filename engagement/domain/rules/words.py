"""How a reason writes times and dates: in the patient's zone, beside the clinic's clock, and the
wording the rules share."""

from __future__ import annotations

import datetime as dt
import functools

from crm.domain import moments
from crm.domain.phones import timezone_for_phone

# A number's zone, parsed once per number: the bulk re-evaluation meets each many times.
_number_zone = functools.lru_cache(maxsize=4096)(timezone_for_phone)


class Words:
    """Dates and times in the patient's zone, as a reason writes them: a moment labelled
    with the zone's abbreviation and the clinic's clock beside it when the two differ
    ("Tue Nov 17, 2026, 12:00 PM CST (clinic: 1:00 PM EST)"), a day without its time
    ("Tue Nov 17, 2026"). crm.domain.moments writes both, as on every other screen; an
    unknown or empty zone reads as the clinic's."""

    def __init__(self, zone_name: str | None, clinic_zone_name: str = "") -> None:
        self.clinic = moments.zone_named(clinic_zone_name)
        self.zone = moments.zone_named(zone_name, clinic_zone_name)

    @classmethod
    def of(cls, timezone: str, phone: str | None, clinic_zone_name: str) -> Words:
        """In the zone the profile shows the patient in: theirs, their number's, or the
        clinic's."""
        zone = timezone or (_number_zone(phone) if phone else None) or clinic_zone_name
        return cls(zone, clinic_zone_name)

    def day(self, moment: dt.datetime) -> str:
        return moments.local_day(moment, self.zone)

    def time(self, moment: dt.datetime) -> str:
        return moments.moment(moment, self.zone, clinic=self.clinic)

    def local_date(self, moment: dt.datetime) -> dt.date:
        return moment.astimezone(self.zone).date()

    def start_of_day_after(self, day: dt.date) -> dt.datetime:
        following = day + dt.timedelta(days=1)
        return dt.datetime.combine(following, dt.time(0), tzinfo=self.zone).astimezone(dt.UTC)

    def business_day_after(self, moment: dt.datetime) -> dt.datetime:
        """The same time one working day later (Saturdays and Sundays skipped)."""
        local = moment.astimezone(self.zone) + dt.timedelta(days=1)
        while local.weekday() >= 5:
            local += dt.timedelta(days=1)
        return local.astimezone(dt.UTC)


def window_passed(window: dt.timedelta) -> str:
    return f"Nobody acted within {window.days} days."
