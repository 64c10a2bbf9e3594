"""The supervisor's figures over a date range from the `metrics` read models, for the dashboard
and the metrics API alike (how each is counted: crm.selectors.rates and docs/api.md#metrics)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from dataclasses import asdict, dataclass, field
from typing import Any, Literal

from django.conf import settings
from django.db.models import Count, Q, Sum

from crm import extensions
from crm.domain import events as ev
from crm.models import (
    DailyAppointmentStats,
    DailyCallStats,
    DailyReminderStats,
    DailySatisfactionStats,
    Event,
    LoggedCall,
    RemindedAppointment,
)
from crm.projections.metrics import MetricsProjection
from crm.projections.runner import checkpoint_of

MAX_RANGE_DAYS = 366
# Longer ranges are shown week by week: a bar per day stops being readable.
DAILY_UP_TO_DAYS = 62
# How far behind the log the figures may be before we stop counting exactly.
PENDING_CAP = 1000
# The thresholds a supervisor may try instead of the settings' (inclusive bounds).
FCR_REPEAT_DAYS_BOUNDS = (1, 90)
SHORT_ABANDON_SECONDS_BOUNDS = (0, 600)

_QUEUED_CHANNELS = (ev.Channel.VOICE.value, ev.Channel.CHAT.value)
_CONNECTED = ev.CallDisposition.CONNECTED.value
_MISSED = ev.CallDisposition.MISSED.value
# Inbound contacts that ended before reaching an agent: the caller hung up in the queue,
# or nobody picked up.
_NOT_REACHED = (ev.CallDisposition.ABANDONED.value, _MISSED)
_INBOUND = ev.CallDirection.INBOUND.value


class RangeInvalid(ValueError):
    """The date range cannot be shown (backwards or too long)."""


@dataclass(frozen=True, slots=True)
class Thresholds:
    fcr_repeat_days: int
    short_abandon_seconds: int

    @classmethod
    def from_settings(
        cls, *, fcr_repeat_days: int | None = None, short_abandon_seconds: int | None = None
    ) -> Thresholds:
        """The settings' thresholds, except those a person chose to try instead."""
        if fcr_repeat_days is None:
            fcr_repeat_days = settings.METRICS_FCR_REPEAT_DAYS
        if short_abandon_seconds is None:
            short_abandon_seconds = settings.METRICS_SHORT_ABANDON_SECONDS
        return cls(fcr_repeat_days, short_abandon_seconds)


@dataclass(slots=True)
class Figures:
    """The counts of one period (a day, a week or the whole range); rates derive from them."""

    start: dt.date
    end: dt.date  # inclusive
    calls_by_channel: dict[str, int] = field(default_factory=dict)
    handled: int = 0
    handle_seconds: int = 0
    queued: int = 0  # inbound voice and chat contacts, short abandons left out
    abandoned: int = 0  # of those, ended before reaching an agent (abandoned or missed)
    missed: int = 0  # of the abandoned, those nobody in the queue picked up
    short_hang_ups: int = 0  # abandoned or missed sooner than the threshold: left out
    first_contacts: int = 0  # issues opened by an inbound handled contact, decided
    resolved_first_contact: int = 0  # of those, marked resolved and no repeat in the window
    marked_unresolved: int = 0  # of those, the agent said something was left to follow up
    contacted_again: int = 0  # of those, marked resolved but the patient came back
    awaiting_repeat_window: int = 0
    visits_closed: int = 0  # completed or no-show
    no_shows: int = 0
    csat_responses: int = 0
    csat_satisfied: int = 0
    csat_score_total: int = 0
    reminders_sent: int = 0  # reminder texts handed to the SMS provider
    reminded_appointments: int = 0  # visits whose first reminder went out in the period
    confirmed_by_text: int = 0  # of those, confirmed by the patient's text reply
    opt_outs: int = 0  # patients who stopped texts by keyword or at the carrier

    @property
    def calls(self) -> int:
        return sum(self.calls_by_channel.values())

    @property
    def average_handle_seconds(self) -> float | None:
        return _ratio(self.handle_seconds, self.handled)

    @property
    def abandonment_rate(self) -> float | None:
        return _ratio(self.abandoned, self.queued)

    @property
    def fcr_rate(self) -> float | None:
        return _ratio(self.resolved_first_contact, self.first_contacts)

    @property
    def no_show_rate(self) -> float | None:
        return _ratio(self.no_shows, self.visits_closed)

    @property
    def csat_rate(self) -> float | None:
        return _ratio(self.csat_satisfied, self.csat_responses)

    @property
    def csat_average(self) -> float | None:
        return _ratio(self.csat_score_total, self.csat_responses)

    @property
    def reminder_confirmation_rate(self) -> float | None:
        return _ratio(self.confirmed_by_text, self.reminded_appointments)

    @property
    def opt_out_rate(self) -> float | None:
        return _ratio(self.opt_outs, self.reminders_sent)

    def add(self, other: Figures) -> None:
        for channel, calls in other.calls_by_channel.items():
            self.calls_by_channel[channel] = self.calls_by_channel.get(channel, 0) + calls
        for name in _COUNTS:
            setattr(self, name, getattr(self, name) + getattr(other, name))

    def as_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["start"], data["end"] = self.start.isoformat(), self.end.isoformat()
        data["calls"] = self.calls
        for name in _RATES:
            data[name] = getattr(self, name)
        return data


_COUNTS = [
    name
    for name in Figures.__dataclass_fields__
    if name not in {"start", "end", "calls_by_channel"}
]
_RATES = [
    "average_handle_seconds",
    "abandonment_rate",
    "fcr_rate",
    "no_show_rate",
    "csat_rate",
    "csat_average",
    "reminder_confirmation_rate",
    "opt_out_rate",
]


@dataclass(frozen=True, slots=True)
class SupervisorFigures:
    start: dt.date
    end: dt.date
    bucket: Literal["day", "week"]
    thresholds: Thresholds
    channels: list[str]  # every channel with a call in the range, busiest first
    periods: list[Figures]
    total: Figures
    pending_events: int  # events the projection has not counted yet (capped at PENDING_CAP)
    # What other apps registered, by key: {"title", "columns", "rows", "chart"?} each.
    sections: dict[str, dict[str, Any]] = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        return {
            "from": self.start.isoformat(),
            "to": self.end.isoformat(),
            "bucket": self.bucket,
            "thresholds": asdict(self.thresholds),
            "channels": self.channels,
            "total": self.total.as_dict(),
            "periods": [period.as_dict() for period in self.periods],
            "pending_events": self.pending_events,
            "sections": self.sections,
        }


def supervisor_figures(
    *, start: dt.date, end: dt.date, now: dt.datetime, thresholds: Thresholds | None = None
) -> SupervisorFigures:
    """The figures for clinic days `start` to `end` inclusive, as known at `now`."""
    check_range(start, end)
    limits = thresholds or Thresholds.from_settings()
    weekly = (end - start).days + 1 > DAILY_UP_TO_DAYS
    periods = list(_periods(start, end, weekly=weekly))
    of_day = {day: period for period in periods for day in _days(period.start, period.end)}

    _count_calls(of_day, start, end)
    _count_abandonment(of_day, start, end, limits)
    _count_first_contacts(of_day, start, end, limits, now)
    _count_visits(of_day, start, end)
    _count_satisfaction(of_day, start, end)
    _count_reminders(of_day, start, end)

    total = Figures(start=start, end=end)
    for period in periods:
        total.add(period)
    channels = sorted(total.calls_by_channel, key=lambda c: (-total.calls_by_channel[c], c))
    return SupervisorFigures(
        start=start,
        end=end,
        bucket="week" if weekly else "day",
        thresholds=limits,
        channels=channels,
        periods=periods,
        total=total,
        pending_events=_pending_events(),
        sections={
            section.key: checked_section(section.key, section.load(start, end, now))
            for section in extensions.dashboard_sections()
        },
    )


def check_range(start: dt.date, end: dt.date) -> None:
    """Refuse a range the figures cannot be shown for, saying why (RangeInvalid)."""
    if end < start:
        raise RangeInvalid("The end date is before the start date.")
    if (end - start).days + 1 > MAX_RANGE_DAYS:
        raise RangeInvalid(f"Choose a range of at most {MAX_RANGE_DAYS} days.")


def checked_section(key: str, figures: dict[str, Any]) -> dict[str, Any]:
    """A registered section's figures, refused loudly (naming the section) when they do
    not have the shape `crm.extensions.DashboardSection` documents."""

    def fail(why: str) -> ValueError:
        return ValueError(f"Dashboard section {key!r}: {why}")

    if not isinstance(figures.get("title"), str):
        raise fail("needs a 'title' string.")
    if not isinstance(figures.get("caption", ""), str):
        raise fail("a 'caption' must be a string.")
    columns, rows = figures.get("columns"), figures.get("rows")
    if not isinstance(columns, list) or not all(isinstance(c, str) for c in columns):
        raise fail("needs 'columns', a list of strings.")
    if not isinstance(rows, list) or any(
        not isinstance(row, list | tuple) or len(row) != len(columns) for row in rows
    ):
        raise fail("needs 'rows', each a list as long as 'columns'.")
    chart = figures.get("chart")
    if chart is not None:
        labels, series = chart.get("labels"), chart.get("series")
        if not isinstance(labels, list) or not isinstance(series, list):
            raise fail("a 'chart' needs 'labels' and 'series' lists.")
        for line in series:
            values = line.get("values") if isinstance(line, dict) else None
            if not isinstance(line.get("name"), str) or not isinstance(values, list):
                raise fail("each chart series needs a 'name' and a list of 'values'.")
            if len(values) != len(labels):
                raise fail(f"series {line['name']!r} has not one value per label.")
    return figures


# --- the queries, one per read model ------------------------------------------------------


def _count_calls(of_day: dict[dt.date, Figures], start: dt.date, end: dt.date) -> None:
    rows = (
        DailyCallStats.objects.filter(day__range=(start, end))
        .values("day", "channel")
        .annotate(
            calls_sum=Sum("calls"),
            connected_sum=Sum("connected"),
            seconds=Sum("talk_seconds") + Sum("hold_seconds") + Sum("wrap_up_seconds"),
        )
        .order_by()
    )
    for row in rows:
        period = of_day[row["day"]]
        channel = row["channel"]
        period.calls_by_channel[channel] = period.calls_by_channel.get(channel, 0) + (
            row["calls_sum"] or 0
        )
        period.handled += row["connected_sum"] or 0
        period.handle_seconds += row["seconds"] or 0


def _count_abandonment(
    of_day: dict[dt.date, Figures], start: dt.date, end: dt.date, limits: Thresholds
) -> None:
    abandoned = Q(disposition__in=_NOT_REACHED)
    short = abandoned & Q(duration_seconds__lt=limits.short_abandon_seconds)
    missed = Q(disposition=_MISSED) & ~short
    rows = (
        LoggedCall.objects.filter(
            day__range=(start, end), direction=_INBOUND, channel__in=_QUEUED_CHANNELS
        )
        .values("day")
        .annotate(
            offered=Count("position"),
            short=Count("position", filter=short),
            gave_up=Count("position", filter=abandoned & ~short),
            missed=Count("position", filter=missed),
        )
        .order_by()
    )
    for row in rows:
        period = of_day[row["day"]]
        period.queued += row["offered"] - row["short"]
        period.short_hang_ups += row["short"]
        period.abandoned += row["gave_up"]
        period.missed += row["missed"]


def _count_first_contacts(
    of_day: dict[dt.date, Figures],
    start: dt.date,
    end: dt.date,
    limits: Thresholds,
    now: dt.datetime,
) -> None:
    window = limits.fcr_repeat_days * 86400
    opened_issue = Q(previous_gap_seconds__isnull=True) | Q(previous_gap_seconds__gt=window)
    said_resolved = Q(resolved_first_contact=True)
    repeated = said_resolved & Q(next_gap_seconds__lte=window)
    # Marked resolved, no repeat yet, and the window still open: not decided.
    awaiting = (
        said_resolved
        & Q(next_gap_seconds__isnull=True)
        & Q(started_at__gt=now - dt.timedelta(seconds=window))
    )
    rows = (
        LoggedCall.objects.filter(
            opened_issue, day__range=(start, end), direction=_INBOUND, disposition=_CONNECTED
        )
        .exclude(reason_key="")
        .values("day")
        .annotate(
            opened=Count("position"),
            unresolved=Count("position", filter=~said_resolved),
            repeats=Count("position", filter=repeated),
            waiting=Count("position", filter=awaiting),
        )
        .order_by()
    )
    for row in rows:
        period = of_day[row["day"]]
        decided = row["opened"] - row["waiting"]
        period.first_contacts += decided
        period.resolved_first_contact += decided - row["unresolved"] - row["repeats"]
        period.marked_unresolved += row["unresolved"]
        period.contacted_again += row["repeats"]
        period.awaiting_repeat_window += row["waiting"]


def _count_visits(of_day: dict[dt.date, Figures], start: dt.date, end: dt.date) -> None:
    rows = DailyAppointmentStats.objects.filter(day__range=(start, end)).values_list(
        "day", "completed", "no_shows"
    )
    for day, completed, no_shows in rows:
        period = of_day[day]
        period.visits_closed += completed + no_shows
        period.no_shows += no_shows


def _count_satisfaction(of_day: dict[dt.date, Figures], start: dt.date, end: dt.date) -> None:
    rows = DailySatisfactionStats.objects.filter(day__range=(start, end)).values_list(
        "day", "responses", "satisfied", "score_total"
    )
    for day, responses, satisfied, score_total in rows:
        period = of_day[day]
        period.csat_responses += responses
        period.csat_satisfied += satisfied
        period.csat_score_total += score_total


def _count_reminders(of_day: dict[dt.date, Figures], start: dt.date, end: dt.date) -> None:
    texts = DailyReminderStats.objects.filter(day__range=(start, end)).values_list(
        "day", "reminders_sent", "opt_outs_by_keyword", "opt_outs_by_carrier"
    )
    for day, sent, by_keyword, by_carrier in texts:
        period = of_day[day]
        period.reminders_sent += sent
        period.opt_outs += by_keyword + by_carrier
    visits = (
        RemindedAppointment.objects.filter(reminded_day__range=(start, end))
        .values("reminded_day")
        .annotate(
            reminded=Count("appointment_id"),
            confirmed=Count("appointment_id", filter=Q(confirmed_by_text_at__isnull=False)),
        )
        .order_by()
    )
    for row in visits:
        reminded_day = row["reminded_day"]
        assert reminded_day is not None  # the range filter leaves NULL out
        period = of_day[reminded_day]
        period.reminded_appointments += row["reminded"]
        period.confirmed_by_text += row["confirmed"]


def _pending_events() -> int:
    checkpoint = checkpoint_of(MetricsProjection.name)
    return Event.objects.filter(position__gt=checkpoint)[:PENDING_CAP].count()


# --- periods ------------------------------------------------------------------------------


def _periods(start: dt.date, end: dt.date, *, weekly: bool) -> Iterator[Figures]:
    """Days, or weeks from Monday to Sunday clipped to the range."""
    day = start
    while day <= end:
        last = min(end, day + dt.timedelta(days=6 - day.weekday())) if weekly else day
        yield Figures(start=day, end=last)
        day = last + dt.timedelta(days=1)


def _days(start: dt.date, end: dt.date) -> Iterator[dt.date]:
    for offset in range((end - start).days + 1):
        yield start + dt.timedelta(days=offset)


def _ratio(part: int, whole: int) -> float | None:
    return part / whole if whole else None
