"""The dashboard's churn panel: churn per month and 12-month retention drawn by crm.admin.charts,
each month's numerator and denominator, the breakdowns as tables, the definition beside them."""

from __future__ import annotations

from dataclasses import dataclass

from crm.admin import charts
from crm.admin import formatting as fmt
from crm.selectors.churn import ChurnFigures, Counts, Group, caption


@dataclass(frozen=True, slots=True)
class ChurnPanel:
    definition: str
    charts: list[charts.Chart]
    months: list[list[str]]  # Month, in care at start, lapsed, churn, retention, left out
    groups: list[tuple[str, list[list[str]]]]  # ("By visit type", rows), ("By language", rows)
    pending: int


def churn_panel(figures: ChurnFigures) -> ChurnPanel:
    months = figures.months
    periods = [charts.Period(m.month, m.label + (" (so far)" if m.partial else "")) for m in months]
    lapsed_types = sorted({key for m in months for key, c in m.by_visit_type.items() if c.lapsed})
    over = figures.over_the_months
    return ChurnPanel(
        definition=caption(figures.rules),
        charts=[
            charts.line(
                key="churn",
                title="Churn per month",
                caption=(
                    "Patients who lapsed in the month over those in care at its start. Over "
                    f"the 12 months: {over.lapsed:,} lapsed of {over.in_care_at_start:,} "
                    "in care at the months' starts (added up)."
                ),
                periods=periods,
                values=[m.total.churn_rate for m in months],
                notes=[_churn_words(m.total) for m in months],
                label=_percent,
                unit=0.01,
            ),
            charts.line(
                key="retention",
                title="12-month retention",
                caption=(
                    "Of the patients in care 12 months before each month's end (and not left "
                    "out since), those still in care at its end."
                ),
                periods=periods,
                values=[m.total.retention_rate for m in months],
                notes=[_retention_words(m.total) for m in months],
                label=_percent,
                ceiling=1.0,
            ),
            charts.stacked_bars(
                key="lapsed-by-visit-type",
                title="Lapsed per month by visit type",
                caption="By the type of each patient's last visit, which sets their lapse period.",
                periods=periods,
                series=[(key, _type_label(figures, key)) for key in lapsed_types],
                value=lambda index, key: (
                    months[index].by_visit_type[key].lapsed
                    if key in months[index].by_visit_type
                    else 0
                ),
            ),
        ],
        months=[
            [
                periods[index].label,
                f"{m.total.in_care_at_start:,}",
                f"{m.total.lapsed:,}",
                _cell(m.total.churn_rate, m.total.lapsed, m.total.in_care_at_start),
                _cell(m.total.retention_rate, m.total.retained, m.total.retention_base),
                ", ".join(f"{count:,} {why.replace('_', ' ')}" for why, count in m.left_out.items())
                or "none",
            ]
            for index, m in enumerate(months)
        ],
        groups=[
            ("By visit type", [_group_row(g) for g in figures.by_visit_type]),
            ("By language", [_group_row(g) for g in figures.by_language]),
        ],
        pending=figures.pending_events,
    )


def _type_label(figures: ChurnFigures, key: str) -> str:
    return next((g.label for g in figures.by_visit_type if g.key == key), key)


def _group_row(group: Group) -> list[str]:
    return [
        group.label,
        _cell(group.churn.churn_rate, group.churn.lapsed, group.churn.in_care_at_start),
        _cell(
            group.retention.retention_rate, group.retention.retained, group.retention.retention_base
        ),
    ]


def _churn_words(counts: Counts) -> str:
    return f"{counts.lapsed:,} lapsed of {counts.in_care_at_start:,} in care at the start"


def _retention_words(counts: Counts) -> str:
    return f"{counts.retained:,} still in care of {counts.retention_base:,}"


def _cell(rate: float | None, part: int, whole: int) -> str:
    """ "12.5% (1 / 8)": the rate with its numerator and denominator."""
    return "—" if rate is None else f"{fmt.percent(rate)} ({part:,} / {whole:,})"


def _percent(value: float) -> str:
    return f"{value * 100:.0f}%" if value * 100 >= 10 or value == 0 else f"{value * 100:.1f}%"
