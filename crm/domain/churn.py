"""Who is in care and who has lapsed: the churn definition, written once for the dashboard's
figures and the win-back suggestion (docs/churn.md); plain Python, time is an argument."""

from __future__ import annotations

import calendar
import datetime as dt
import enum
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field

# Visit types whose patients lapse sooner: weekly or monthly care, where three silent months
# already mean someone has dropped out.
DEFAULT_LAPSE_DAYS: Mapping[str, int] = {"therapy": 90, "psychiatry": 90}
DEFAULT_OTHER_LAPSE_DAYS = 180
DEFAULT_ACTIVE_MONTHS = 12
# The key of CHURN_LAPSE_DAYS that sets every type not named.
OTHER = "other"


class Exclusion(enum.StrEnum):
    """Why a patient is left out of the figures (and counted apart)."""

    DECEASED = "deceased"
    MERGED = "merged"
    OPTED_OUT = "opted_out"


@dataclass(frozen=True, slots=True)
class ChurnRules:
    active_months: int = DEFAULT_ACTIVE_MONTHS
    lapse_days: Mapping[str, int] = field(default_factory=lambda: dict(DEFAULT_LAPSE_DAYS))
    other_lapse_days: int = DEFAULT_OTHER_LAPSE_DAYS

    def lapse_after(self, visit_type: str) -> dt.timedelta:
        return dt.timedelta(days=self.lapse_days.get(visit_type, self.other_lapse_days))

    def lapse_days_of(self, visit_type: str) -> int:
        return self.lapse_days.get(visit_type, self.other_lapse_days)

    def active_until(self, visit_at: dt.datetime) -> dt.datetime:
        """When a visit at `visit_at` stops making its patient active."""
        return add_months(visit_at, self.active_months)

    @classmethod
    def of(cls, active_months: int, lapse_days: Mapping[str, int]) -> ChurnRules:
        """From the settings: CHURN_ACTIVE_MONTHS, and CHURN_LAPSE_DAYS by type with `other`."""
        by_type = {kind: days for kind, days in lapse_days.items() if kind != OTHER}
        other = lapse_days.get(OTHER, DEFAULT_OTHER_LAPSE_DAYS)
        return cls(active_months=active_months, lapse_days=by_type, other_lapse_days=other)


@dataclass(frozen=True, slots=True)
class Visit:
    """A completed visit, at the time it was booked for."""

    at: dt.datetime
    visit_type: str


@dataclass(frozen=True, slots=True)
class Booking:
    """An appointment that was upcoming from `booked_at` until `until` (its start, or when
    it was cancelled if sooner)."""

    booked_at: dt.datetime
    until: dt.datetime


@dataclass(frozen=True, slots=True)
class CareHistory:
    """What the definition reads of one patient (merged records' care included)."""

    visits: Sequence[Visit] = ()
    bookings: Sequence[Booking] = ()
    contacts: Sequence[dt.datetime] = ()  # reached: a connected call, a text from them, a crisis
    deceased_at: dt.datetime | None = None
    merged_at: dt.datetime | None = None
    # Spans in which every channel was withdrawn; the last may be open (None).
    opted_out: Sequence[tuple[dt.datetime, dt.datetime | None]] = ()

    def excluded_at(self, moment: dt.datetime) -> Exclusion | None:
        if self.deceased_at is not None and self.deceased_at <= moment:
            return Exclusion.DECEASED
        if self.merged_at is not None and self.merged_at <= moment:
            return Exclusion.MERGED
        for start, end in self.opted_out:
            if start <= moment and (end is None or moment < end):
                return Exclusion.OPTED_OUT
        return None


class Ending(enum.StrEnum):
    LAPSED = "lapsed"  # silent for the lapse period: no visit, nothing booked, not reached
    AGED_OUT = "aged_out"  # kept in touch, but no visit for CHURN_ACTIVE_MONTHS


@dataclass(frozen=True, slots=True)
class Spell:
    """A stretch in care: from the visit that began it to the moment it ended (or will end,
    if nothing happens: `ends_at` may be after now). `last_visit` is the latest visit in it."""

    started_at: dt.datetime
    ends_at: dt.datetime
    ending: Ending
    last_visit: Visit
    quiet_since: dt.datetime  # the last visit, booking or contact the lapse counts from

    def in_care(self, moment: dt.datetime) -> bool:
        return self.started_at <= moment < self.ends_at


def spells(history: CareHistory, rules: ChurnRules) -> list[Spell]:
    """The patient's stretches in care, from the events alone: a completed visit starts
    one; it lapses once CHURN_LAPSE_DAYS (by the last visit's type) pass with no visit, no
    upcoming visit and no reached contact (at exactly that moment), or ages out when the
    last visit is CHURN_ACTIVE_MONTHS old. Exclusions are not applied here."""
    items: list[tuple[dt.datetime, dt.datetime, Visit | None]] = [
        *((v.at, v.at, v) for v in history.visits),
        *((b.booked_at, b.until, None) for b in history.bookings if b.until >= b.booked_at),
        *((c, c, None) for c in history.contacts),
    ]
    items.sort(key=lambda item: (item[0], item[1], item[2] is None))
    found: list[Spell] = []
    start: dt.datetime | None = None
    covered = ages_out = ends_at = dt.datetime.min.replace(tzinfo=dt.UTC)
    last: Visit | None = None
    for begins, ends, visit in items:
        if start is not None and last is not None and begins >= ends_at:
            found.append(_spell(start, covered, last, rules))
            start = None
        if start is None:
            if visit is None:
                continue  # a call or a booking while out of care does not bring one back
            start, covered, last = visit.at, visit.at, visit
            ages_out = rules.active_until(visit.at)
        else:
            covered = max(covered, ends)
            if visit is not None and last is not None and visit.at >= last.at:
                last, ages_out = visit, rules.active_until(visit.at)
        assert last is not None
        # When this stretch ends if nothing more happens (`_spell` says which way).
        ends_at = min(covered + rules.lapse_after(last.visit_type), ages_out)
    if start is not None and last is not None:
        found.append(_spell(start, covered, last, rules))
    return found


def _spell(start: dt.datetime, covered: dt.datetime, last: Visit, rules: ChurnRules) -> Spell:
    lapses = covered + rules.lapse_after(last.visit_type)
    ages_out = rules.active_until(last.at)
    if ages_out < lapses:
        return Spell(start, ages_out, Ending.AGED_OUT, last, covered)
    return Spell(start, lapses, Ending.LAPSED, last, covered)


# --- the monthly figures -------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Month:
    start: dt.datetime  # the first moment of the month in the clinic's zone
    end: dt.datetime  # the first moment of the next month, or now for the running month


def month_outcome(
    patient_spells: Sequence[Spell], history: CareHistory, month: Month
) -> tuple[Spell | None, bool]:
    """The spell the patient was in care by at the month's start (None: not in care, or
    left out), and whether it lapsed during the month while they were still counted."""
    if history.excluded_at(month.start) is not None:
        return None, False
    spell = next((s for s in patient_spells if s.in_care(month.start)), None)
    if spell is None:
        return None, False
    lapsed = spell.ends_at < month.end and history.excluded_at(spell.ends_at) is None
    return spell, lapsed


def retained(
    patient_spells: Sequence[Spell], history: CareHistory, start: dt.datetime, end: dt.datetime
) -> tuple[bool, bool]:
    """(counted, still in care): in care at `start` and not left out by `end`; then whether
    they are in care at `end` (the customer retention rate: someone who lapsed and came
    back by then is retained)."""
    if history.excluded_at(start) is not None or history.excluded_at(end) is not None:
        return False, False
    if not any(s.in_care(start) for s in patient_spells):
        return False, False
    return True, any(s.in_care(end) for s in patient_spells)


# --- calendar arithmetic ----------------------------------------------------------------


def add_months(moment: dt.datetime, months: int) -> dt.datetime:
    """The same day and time `months` later, on the month's last day when it is shorter."""
    index = moment.month - 1 + months
    year, month = moment.year + index // 12, index % 12 + 1
    day = min(moment.day, calendar.monthrange(year, month)[1])
    return moment.replace(year=year, month=month, day=day)


def month_starts(first: dt.date, last: dt.date) -> Iterable[dt.date]:
    """The first day of every month from `first`'s to `last`'s, inclusive."""
    day = first.replace(day=1)
    while day <= last:
        yield day
        day = (day + dt.timedelta(days=32)).replace(day=1)


def parse_lapse_days(raw: str) -> tuple[dict[str, int], int]:
    """`therapy=90,psychiatry=90,other=180` -> the days by type and for every other type;
    a bare number sets every type. Raises ValueError saying what is wrong."""
    by_type: dict[str, int] = {}
    other = DEFAULT_OTHER_LAPSE_DAYS
    text = raw.strip()
    if text.isdigit():
        return {}, _at_least_one(text)
    for part in text.split(","):
        key, sep, value = part.partition("=")
        key = key.strip()
        if not sep or not key:
            raise ValueError(f"write type=days pairs such as therapy=90,other=180, not {part!r}")
        if key == OTHER:
            other = _at_least_one(value)
        else:
            by_type[key] = _at_least_one(value)
    return by_type, other


def _at_least_one(value: str) -> int:
    try:
        number = int(value.strip())
    except ValueError:
        raise ValueError(f"{value.strip()!r} is not a whole number of days") from None
    if number < 1:
        raise ValueError(f"{number} must be at least 1 day")
    return number
