"""The supervisor's dashboard: the contact center's figures over a chosen date range.

The numbers come from `crm.selectors.metrics`, the same function the metrics API calls;
this module only picks the range and turns the figures into charts and a table.
"""

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
from crm.admin.forms.base import clinic_today, date_field
from crm.admin.pipeline import pipeline_panel
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
    detail: str


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
    }
    return TemplateResponse(request, "admin/crm/dashboard.html", context)


def tiles(figures: SupervisorFigures) -> list[Tile]:
    total, limits = figures.total, figures.thresholds
    return [
        Tile("Calls", f"{total.calls:,}", _channels(total)),
        Tile(
            "First-contact resolution",
            _rate(total.fcr_rate),
            f"{total.resolved_first_contact:,} of {total.first_contacts:,} resolved "
            f"(no repeat within {_days(limits.fcr_repeat_days)})",
        ),
        Tile(
            "Average handle time",
            fmt.duration(total.average_handle_seconds) or "—",
            f"over {total.handled:,} handled contacts",
        ),
        Tile(
            "Abandonment",
            _rate(total.abandonment_rate),
            f"{total.abandoned:,} of {total.queued:,} inbound; "
            f"{total.short_hang_ups:,} hang-ups under {limits.short_abandon_seconds} s left out",
        ),
        Tile(
            "No-shows",
            _rate(total.no_show_rate),
            f"{total.no_shows:,} of {total.visits_closed:,} visits",
        ),
        Tile(
            "Reminders confirmed by text",
            _rate(total.reminder_confirmation_rate),
            f"{total.confirmed_by_text:,} of {total.reminded_appointments:,} reminded visits",
        ),
        Tile(
            "Text opt-outs",
            _rate(total.opt_out_rate),
            f"{total.opt_outs:,} opt-outs over {total.reminders_sent:,} reminder texts",
        ),
        Tile(
            "Satisfaction (CSAT)",
            _rate(total.csat_rate),
            f"{total.csat_satisfied:,} of {total.csat_responses:,} answered 4 or 5",
        ),
    ]


def build_charts(figures: SupervisorFigures) -> list[charts.Chart]:
    periods = [charts.Period(p.start, _period_label(p, figures.bucket)) for p in figures.periods]
    by = figures.periods
    limits = figures.thresholds
    per = "week" if figures.bucket == "week" else "day"

    def percent_line(
        key: str, title: str, caption: str, values: list[float | None]
    ) -> charts.Chart:
        return charts.line(
            key=key,
            title=title,
            caption=caption,
            periods=periods,
            values=values,
            label=lambda v: f"{v * 100:.0f}%",
            ceiling=1.0,
        )

    return [
        charts.stacked_bars(
            key="calls",
            title=f"Calls per {per} by channel",
            caption="Every logged call, text and chat, in both directions.",
            periods=periods,
            series=[(c, fmt.channel_label(c)) for c in figures.channels],
            value=lambda index, channel: by[index].calls_by_channel.get(channel, 0),
        ),
        percent_line(
            "fcr",
            "First-contact resolution",
            f"Inbound handled contacts with no repeat on the same reason within "
            f"{_days(limits.fcr_repeat_days)}. {figures.total.awaiting_repeat_window:,} recent "
            "contacts are still inside their window and not counted yet.",
            [p.fcr_rate for p in by],
        ),
        charts.line(
            key="aht",
            title="Average handle time",
            caption="Talk + hold + wrap-up, over handled contacts.",
            periods=periods,
            values=[p.average_handle_seconds for p in by],
            label=_minutes,
            unit=60,
        ),
        percent_line(
            "abandonment",
            "Abandonment",
            "Inbound calls and chats that hung up before reaching an agent; hang-ups under "
            f"{limits.short_abandon_seconds} s are left out.",
            [p.abandonment_rate for p in by],
        ),
        percent_line(
            "no-shows",
            "No-show rate",
            "No-shows over visits closed (completed or no-show), by the day they were closed.",
            [p.no_show_rate for p in by],
        ),
        percent_line(
            "reminder-confirmations",
            "Reminders confirmed by text",
            "Visits whose first reminder went out that day and that the patient then "
            "confirmed by replying to the text.",
            [p.reminder_confirmation_rate for p in by],
        ),
        percent_line(
            "opt-outs",
            "Text opt-outs",
            "Patients who stopped texts (STOP, or the carrier's opt-out) over reminder texts sent.",
            [p.opt_out_rate for p in by],
        ),
        percent_line(
            "csat",
            "Satisfaction (CSAT)",
            "Share of survey answers scoring 4 or 5 out of 5.",
            [p.csat_rate for p in by],
        ),
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
                _rate(period.fcr_rate),
                fmt.duration(period.average_handle_seconds) or "—",
                _rate(period.abandonment_rate),
                _rate(period.no_show_rate),
                _rate(period.reminder_confirmation_rate),
                _rate(period.opt_out_rate),
                _rate(period.csat_rate),
            ]
        )
    return rows


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
