"""Small charts drawn on the server as inline SVG, no JavaScript: this does the arithmetic, the
template places the shapes; a period with nothing to measure is a gap, never a fake zero."""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

WIDTH = 640
HEIGHT = 220
LEFT = 52
RIGHT = 12
TOP = 12
BOTTOM = 30
PLOT_WIDTH = WIDTH - LEFT - RIGHT
PLOT_HEIGHT = HEIGHT - TOP - BOTTOM
MAX_X_LABELS = 8
LABEL_CHAR_WIDTH = 7.5  # about one character of a 12px label, in the chart's units
COLOURS = 8  # crm-series-0 to crm-series-7 in admin.css; more series reuse them


@dataclass(frozen=True, slots=True)
class Rect:
    x: float
    y: float
    width: float
    height: float
    series: int  # colour index, below COLOURS
    title: str  # the tooltip: the exact figure


@dataclass(frozen=True, slots=True)
class Point:
    x: float
    y: float
    title: str


@dataclass(frozen=True, slots=True)
class Tick:
    at: float  # y for the value axis, x for the date axis
    label: str


@dataclass(slots=True)
class Chart:
    key: str
    title: str
    caption: str
    width: int = WIDTH
    height: int = HEIGHT
    plot_left: int = LEFT
    plot_right: int = WIDTH - RIGHT
    plot_bottom: int = HEIGHT - BOTTOM
    rects: list[Rect] = field(default_factory=list)
    lines: list[str] = field(default_factory=list)  # polyline "x,y x,y" strings
    points: list[Point] = field(default_factory=list)
    y_ticks: list[Tick] = field(default_factory=list)
    x_ticks: list[Tick] = field(default_factory=list)
    legend: list[tuple[int, str]] = field(default_factory=list)

    @property
    def has_data(self) -> bool:
        return bool(self.rects or self.points)


@dataclass(frozen=True, slots=True)
class Period:
    """What a chart needs of a period: where it starts, and a label for tooltips."""

    start: dt.date
    label: str


def stacked_bars(
    *,
    key: str,
    title: str,
    caption: str,
    periods: Sequence[Period],
    series: Sequence[tuple[str, str]],  # (key, label)
    value: Callable[[int, str], int],  # (period index, series key) -> count
) -> Chart:
    chart = Chart(key=key, title=title, caption=caption)
    slot = _stack(
        chart,
        labels=[period.label for period in periods],
        series=[(name, [value(i, s) for i in range(len(periods))]) for s, name in series],
        share=0.75,
        describe=lambda label, count, name: f"{label}: {count} by {name}",
        of_total=True,
    )
    chart.x_ticks = _x_ticks(periods, slot)
    return chart


def category_bars(
    *,
    key: str,
    title: str,
    caption: str,
    labels: Sequence[str],
    series: Sequence[tuple[str, Sequence[float | None]]],  # (name, one value per label)
) -> Chart:
    """Stacked bars over named categories (suggestion kinds, reminder states...), for the
    sections other apps add to the dashboard. Labels are shown under every bar that fits."""
    chart = Chart(key=key, title=title, caption=caption)
    slot = _stack(
        chart,
        labels=labels,
        series=series,
        share=0.6,
        describe=lambda label, value, name: f"{label}: {value:g} {name}",
    )
    # Every category is named (a bar without its name says nothing), cut to fit its slot.
    fits = max(3, int(slot / LABEL_CHAR_WIDTH))
    chart.x_ticks = [
        Tick(at=round(LEFT + index * slot + slot / 2, 2), label=_short(label, fits))
        for index, label in enumerate(labels)
    ]
    return chart


def _stack(
    chart: Chart,
    *,
    labels: Sequence[str],
    series: Sequence[tuple[str, Sequence[float | None]]],  # (name, one value per label)
    share: float,  # of its slot a bar takes
    describe: Callable[[str, float, str], str],  # (label, value, series name) -> tooltip
    of_total: bool = False,  # the tooltip also says of how many in the bar
) -> float:
    """A bar per label, the series stacked bottom up; the legend and the value axis too.
    Returns the width of a label's slot, for the ticks under the bars."""
    chart.legend = [(index % COLOURS, name) for index, (name, _) in enumerate(series)]
    totals = [sum(values[i] or 0 for _, values in series) for i in range(len(labels))]
    top = _nice_ceiling(max(totals, default=0))
    chart.y_ticks = _y_ticks(top, lambda v: f"{v:g}")
    slot = PLOT_WIDTH / max(len(labels), 1)
    bar = max(slot * share, 1.0)
    for index, label in enumerate(labels):
        base: float = 0
        for number, (name, values) in enumerate(series):
            value = values[index] or 0
            if value <= 0:
                continue
            y_top, y_bottom = _y(base + value, top), _y(base, top)
            chart.rects.append(
                Rect(
                    x=round(LEFT + index * slot + (slot - bar) / 2, 2),
                    y=round(y_top, 2),
                    width=round(bar, 2),
                    height=round(y_bottom - y_top, 2),
                    series=number % COLOURS,
                    title=describe(label, value, name)
                    + (f" (of {totals[index]:g})" if of_total else ""),
                )
            )
            base += value
    return slot


def _short(label: str, most: int) -> str:
    return label if len(label) <= most else label[: most - 1] + "…"


def line(
    *,
    key: str,
    title: str,
    caption: str,
    periods: Sequence[Period],
    values: Sequence[float | None],
    label: Callable[[float], str],
    notes: Sequence[str] | None = None,
    ceiling: float | None = None,
    unit: float = 1.0,
) -> Chart:
    """A line over the periods; None values break it. `ceiling` fixes the top (e.g. 100%);
    otherwise the top is a round number of `unit`s (60 puts durations on whole minutes).
    `notes`, one per period, follow each point's value in its tooltip (what it counts)."""
    chart = Chart(key=key, title=title, caption=caption)
    present = [v for v in values if v is not None]
    top = ceiling if ceiling is not None else _nice_ceiling(max(present, default=0.0) / unit) * unit
    chart.y_ticks = _y_ticks(top, label)
    slot = PLOT_WIDTH / max(len(periods), 1)
    segment: list[str] = []
    for index, (period, value) in enumerate(zip(periods, values, strict=True)):
        if value is None:
            if segment:
                chart.lines.append(" ".join(segment))
            segment = []
            continue
        x, y = round(LEFT + index * slot + slot / 2, 2), round(_y(value, top), 2)
        segment.append(f"{x},{y}")
        note = f" ({notes[index]})" if notes is not None else ""
        chart.points.append(Point(x=x, y=y, title=f"{period.label}: {label(value)}{note}"))
    if segment:
        chart.lines.append(" ".join(segment))
    chart.x_ticks = _x_ticks(periods, slot)
    return chart


def _y(value: float, top: float) -> float:
    return TOP + PLOT_HEIGHT * (1 - (value / top if top else 0))


def _nice_ceiling(value: float) -> float:
    """The smallest 1, 2, 4 or 5 times a power of ten at or above `value` (1 for nothing)."""
    if value <= 0:
        return 1.0
    power = 10 ** math.floor(math.log10(value))
    for step in (1, 2, 4, 5, 10):
        if value <= step * power:
            return float(step * power)
    return float(10 * power)


def _y_ticks(top: float, label: Callable[[float], str]) -> list[Tick]:
    return [Tick(at=round(_y(top * i / 4, top), 2), label=label(top * i / 4)) for i in range(5)]


def _x_ticks(periods: Sequence[Period], slot: float) -> list[Tick]:
    every = max(1, math.ceil(len(periods) / MAX_X_LABELS))
    return [
        Tick(at=round(LEFT + index * slot + slot / 2, 2), label=f"{p.start:%b} {p.start.day}")
        for index, p in enumerate(periods)
        if index % every == 0
    ]
