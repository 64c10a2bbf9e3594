"""The supervisor's dashboard: the figures of `crm.selectors.metrics` (as the metrics API
gives them) over a chosen date range, as charts and a table."""

from __future__ import annotations

import datetime as dt
from dataclasses import asdict, dataclass
from typing import Any

from django import forms
from django.contrib.admin import site
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.template.response import TemplateResponse
from django.utils import timezone

from crm.admin import charts
from crm.admin import formatting as fmt
from crm.admin.access import Area, may
from crm.admin.churn import churn_panel
from crm.admin.forms.base import clinic_today, date_field
from crm.admin.pipeline import pipeline_panel
from crm.selectors.churn import churn_figures
from crm.selectors.metrics import (
    FCR_REPEAT_DAYS_BOUNDS,
    PENDING_CAP,
    SHORT_ABANDON_SECONDS_BOUNDS,
    Figures,
    RangeInvalid,
    SupervisorFigures,
    Thresholds,
    check_range,
    supervisor_figures,
)
from crm.selectors.rates import BY_KEY

DEFAULT_DAYS = 28
PRESETS = (("Last 7 days", 7), ("Last 4 weeks", 28), ("Last 90 days", 90), ("Last year", 365))


class RangeForm(forms.Form):
    start = date_field("From")
    end = date_field("To")
    fcr_repeat_days = forms.IntegerField(
        min_value=FCR_REPEAT_DAYS_BOUNDS[0],
        max_value=FCR_REPEAT_DAYS_BOUNDS[1],
        label="Repeat window (days)",
        required=False,
    )
    short_abandon_seconds = forms.IntegerField(
        min_value=SHORT_ABANDON_SECONDS_BOUNDS[0],
        max_value=SHORT_ABANDON_SECONDS_BOUNDS[1],
        label="Short hang-up under (seconds)",
        required=False,
    )

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        start, end = data.get("start"), data.get("end")
        if start and end:
            try:
                check_range(start, end)
            except RangeInvalid as refused:
                raise forms.ValidationError(str(refused)) from None
        return data


@dataclass(frozen=True, slots=True)
class Tile:
    label: str
    value: str  # "—" when there was nothing to measure
    detail: str  # below the value: its numerator and denominator
    hover: str = ""  # exactly what is counted


@dataclass(frozen=True, slots=True)
class Section:
    """A section another app registered (crm.extensions.DashboardSection), ready to draw."""

    key: str
    title: str
    caption: str
    columns: list[str]
    rows: list[list[str]]
    chart: charts.Chart | None


def dashboard_view(request: HttpRequest) -> HttpResponse:
    if not may(request.user, Area.FIGURES):
        raise PermissionDenied("The dashboard is for supervisors.")
    now = timezone.now()
    today = clinic_today(now)
    thresholds = Thresholds.from_settings()
    start, end = today - dt.timedelta(days=DEFAULT_DAYS - 1), today
    form = RangeForm(
        request.GET if "start" in request.GET else None,
        initial={"start": start, "end": end, **asdict(thresholds)},
    )
    if form.is_bound and form.is_valid():
        chosen = form.cleaned_data
        start, end = chosen["start"], chosen["end"]
        thresholds = Thresholds.from_settings(
            fcr_repeat_days=chosen["fcr_repeat_days"],
            short_abandon_seconds=chosen["short_abandon_seconds"],
        )
    figures = supervisor_figures(start=start, end=end, now=now, thresholds=thresholds)
    context = {
        **site.each_context(request),
        "title": "Supervisor dashboard",
        "form": form,
        "figures": figures,
        "tiles": tiles(figures),
        "charts": build_charts(figures),
        "rows": table(figures),
        "sections": sections(figures),
        "presets": [
            (name, (today - dt.timedelta(days=days - 1)).isoformat(), today.isoformat())
            for name, days in PRESETS
        ],
        "pending": f"{PENDING_CAP}+" if figures.pending_events >= PENDING_CAP else "",
        "pipeline": pipeline_panel(now),
        "churn": churn_panel(churn_figures(end=end, now=now)),
    }
    return TemplateResponse(request, "admin/crm/dashboard.html", context)


def tiles(figures: SupervisorFigures) -> list[Tile]:
    total, limits = figures.total, figures.thresholds

    def hover(key: str) -> str:
        return BY_KEY[key].caption(limits)

    return [
        Tile(
            "Calls",
            f"{total.calls:,}",
            _channels(total),
            "Every logged call, text and chat, in both directions.",
        ),
        Tile(
            "First-contact resolution",
            _rate(total.fcr_rate),
            f"{total.resolved_first_contact:,} of {total.first_contacts:,} resolved "
            f"(no repeat within {_days(limits.fcr_repeat_days)}); "
            f"{total.marked_unresolved:,} marked unresolved, "
            f"{total.contacted_again:,} came back, "
            f"{total.awaiting_repeat_window:,} still inside their window",
            hover("fcr_rate"),
        ),
        Tile(
            "Average handle time",
            fmt.duration(total.average_handle_seconds) or "—",
            f"over {total.handled:,} handled contacts",
            hover("average_handle_seconds"),
        ),
        Tile(
            "Abandonment",
            _rate(total.abandonment_rate),
            f"{total.abandoned:,} of {total.queued:,} inbound; "
            f"{total.short_hang_ups:,} hang-ups under {limits.short_abandon_seconds} s left out; "
            f"of those, {total.abandoned - total.missed:,} hung up in the queue and "
            f"{total.missed:,} were missed",
            hover("abandonment_rate"),
        ),
        Tile(
            "No-shows",
            _rate(total.no_show_rate),
            f"{total.no_shows:,} of {total.visits_closed:,} visits",
            hover("no_show_rate"),
        ),
        Tile(
            "Reminders confirmed by text",
            _rate(total.reminder_confirmation_rate),
            f"{total.confirmed_by_text:,} of {total.reminded_appointments:,} reminded visits",
            hover("reminder_confirmation_rate"),
        ),
        Tile(
            "Text opt-outs",
            _rate(total.opt_out_rate),
            f"{total.opt_outs:,} opt-outs over {total.reminders_sent:,} reminder texts",
            hover("opt_out_rate"),
        ),
        Tile(
            "Satisfaction (CSAT)",
            _rate(total.csat_rate),
            f"{total.csat_satisfied:,} of {total.csat_responses:,} answered 4 or 5",
            hover("csat_rate"),
        ),
    ]


def build_charts(figures: SupervisorFigures) -> list[charts.Chart]:
    periods = [charts.Period(p.start, _period_label(p, figures.bucket)) for p in figures.periods]
    by = figures.periods
    total = figures.total
    per = "week" if figures.bucket == "week" else "day"

    def rate_line(key: str, rate_key: str) -> charts.Chart:
        """A rate's line; its caption says what it counts and the range's numerator and
        denominator, and each point's tooltip its own."""
        rate = BY_KEY[rate_key]
        percent = rate_key != "average_handle_seconds"
        return charts.line(
            key=key,
            title=rate.title,
            caption=f"{rate.caption(figures.thresholds)} Over the range: {rate.fraction(total)}.",
            periods=periods,
            values=[getattr(p, rate_key) for p in by],
            notes=[rate.fraction(p) for p in by],
            label=(lambda v: f"{v * 100:.0f}%") if percent else _minutes,
            ceiling=1.0 if percent else None,
            unit=1.0 if percent else 60,
        )

    return [
        charts.stacked_bars(
            key="calls",
            title=f"Calls per {per} by channel",
            caption="Every logged call, text and chat, in both directions: "
            f"{total.calls:,} in the range ({_channels(total)}).",
            periods=periods,
            series=[(c, fmt.channel_label(c)) for c in figures.channels],
            value=lambda index, channel: by[index].calls_by_channel.get(channel, 0),
        ),
        rate_line("fcr", "fcr_rate"),
        rate_line("aht", "average_handle_seconds"),
        rate_line("abandonment", "abandonment_rate"),
        rate_line("no-shows", "no_show_rate"),
        rate_line("reminder-confirmations", "reminder_confirmation_rate"),
        rate_line("opt-outs", "opt_out_rate"),
        rate_line("csat", "csat_rate"),
    ]


def sections(figures: SupervisorFigures) -> list[Section]:
    """Other apps' sections: a table each, and a bar chart when they give one."""
    drawn = []
    for key, section in figures.sections.items():
        chart = section.get("chart")
        drawn.append(
            Section(
                key=key,
                title=section["title"],
                caption=section.get("caption", ""),
                columns=list(section["columns"]),
                rows=[[_cell(value) for value in row] for row in section["rows"]],
                chart=charts.category_bars(
                    key=f"section-{key}",
                    title=section["title"],
                    caption="",
                    labels=[str(label) for label in chart["labels"]],
                    series=[(s["name"], s["values"]) for s in chart["series"]],
                )
                if chart
                else None,
            )
        )
    return drawn


def table(figures: SupervisorFigures) -> list[list[str]]:
    rows = []
    for period in [*figures.periods, figures.total]:
        name = "Total" if period is figures.total else _period_label(period, figures.bucket)
        rows.append(
            [
                name,
                f"{period.calls:,}",
                _rate_cell(period, "fcr_rate"),
                fmt.duration(period.average_handle_seconds) or "—",
                _rate_cell(period, "abandonment_rate"),
                _rate_cell(period, "no_show_rate"),
                _rate_cell(period, "reminder_confirmation_rate"),
                _rate_cell(period, "opt_out_rate"),
                _rate_cell(period, "csat_rate"),
            ]
        )
    return rows


def _rate_cell(period: Figures, key: str) -> str:
    """ "50.0% (1 / 2)": the rate with its numerator and denominator."""
    part, whole = BY_KEY[key].counts(period)
    rate = getattr(period, key)
    return "—" if rate is None else f"{_rate(rate)} ({part:,} / {whole:,})"


def _period_label(period: Figures, bucket: str) -> str:
    if bucket == "week":
        return f"Week of {period.start:%b} {period.start.day}"
    return f"{period.start:%a %b} {period.start.day}"


def _channels(total: Figures) -> str:
    parts = [f"{count:,} {fmt.channel_label(c)}" for c, count in total.calls_by_channel.items()]
    return ", ".join(parts) or "none logged"


def _cell(value: object) -> str:
    if value is None:
        return "—"
    if isinstance(value, float):
        return f"{value:,.2f}".rstrip("0").rstrip(".")
    if isinstance(value, int):
        return f"{value:,}"
    return str(value)


def _days(count: int) -> str:
    return "1 day" if count == 1 else f"{count} days"


def _rate(rate: float | None) -> str:
    return fmt.percent(rate) or "—"


def _minutes(seconds: float) -> str:
    whole = round(seconds)
    return f"{whole // 60}:{whole % 60:02d}"
