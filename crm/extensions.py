"""Where engagement and reminders add to crm's screens from their AppConfig.ready(), so crm never
imports them; every loader is bulk or bounded (a fixed number of queries), so no N+1."""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from rest_framework import serializers

__all__ = [
    "DashboardSection",
    "Panel",
    "PatientCount",
    "PatientPanel",
    "ScreenPopSection",
    "dashboard_sections",
    "patient_counts",
    "patient_panels",
    "register_dashboard_section",
    "register_patient_count",
    "register_patient_panel",
    "register_screen_pop_section",
    "screen_pop_sections",
]


@dataclass(frozen=True, slots=True)
class ScreenPopSection:
    """A list added to the screen pop (`GET /api/v1/patients/lookup`) under `key`."""

    key: str
    # One entry's shape, for the OpenAPI schema and the response.
    serializer: type[serializers.Serializer[Any]]
    # (patient ids, now) -> the entries of each patient; at most a few queries in all.
    load: Callable[[Sequence[uuid.UUID], dt.datetime], dict[uuid.UUID, list[Any]]]
    help_text: str = ""


@dataclass(frozen=True, slots=True)
class Panel:
    """A table on the admin's patient page, already worded for the front desk."""

    title: str
    headers: tuple[str, ...]
    rows: list[tuple[str, ...]] = field(default_factory=list)
    empty: str = "Nothing to show."
    # Optional: a row's tone for the template ("", "warning", "danger"), one per row.
    tones: list[str] = field(default_factory=list)
    # Optional: rows from this index on are history, folded below the others under
    # `history_title` (what comes next stays in view).
    history_from: int | None = None
    history_title: str = "History"


@dataclass(frozen=True, slots=True)
class PatientPanel:
    key: str
    order: int
    # (patient id, the patient's zone name, now) -> the panel; a few queries at most.
    load: Callable[[uuid.UUID, str, dt.datetime], Panel]


@dataclass(frozen=True, slots=True)
class PatientCount:
    """A number per patient for the admin's patient list (e.g. open suggestions)."""

    key: str
    label: str
    # (patient ids, now) -> count per patient; one query for the whole page.
    load: Callable[[Sequence[uuid.UUID], dt.datetime], dict[uuid.UUID, int]]


@dataclass(frozen=True, slots=True)
class DashboardSection:
    """Figures for the supervisor dashboard and `GET /api/v1/metrics/` under `key`.

    `load` returns a JSON-ready dict of this shape, rendered as a table (and a stacked bar
    chart, a bar per label, when `chart` is given) on the dashboard, and returned as is by
    the metrics API. A dict of another shape fails the page loudly, naming the key
    (crm.selectors.metrics.checked_section):

        {
            "title": "Open suggestions by kind and age",
            "caption": "What the figures count.",                # optional
            "columns": ["Kind", "< 1 day", "1-3 days", "3-7 days", "> 7 days"],
            "rows": [["Crisis follow-up", 2, 0, 0, 0], ...],   # one cell per column:
                                                                # str, int, float or None
            "chart": {                                          # optional
                "labels": ["Crisis follow-up", ...],
                "series": [{"name": "< 1 day", "values": [2, ...]}, ...],  # a value per label
            },
        }
    """

    key: str
    # (first day, last day, both inclusive in the clinic's zone; now) -> JSON-ready figures.
    load: Callable[[dt.date, dt.date, dt.datetime], dict[str, Any]]


_SCREEN_POP: dict[str, ScreenPopSection] = {}
_PANELS: dict[str, PatientPanel] = {}
_COUNTS: dict[str, PatientCount] = {}
_DASHBOARD: dict[str, DashboardSection] = {}


def _add(registry: dict[str, Any], key: str, entry: Any) -> None:
    # AppConfig.ready() can run twice in tests; the same entry again is fine.
    existing = registry.get(key)
    if existing is not None and existing != entry:
        raise ValueError(f"{key!r} is already registered by another app")
    registry[key] = entry


def register_screen_pop_section(section: ScreenPopSection) -> None:
    _add(_SCREEN_POP, section.key, section)


def register_patient_panel(panel: PatientPanel) -> None:
    _add(_PANELS, panel.key, panel)


def register_patient_count(count: PatientCount) -> None:
    _add(_COUNTS, count.key, count)


def register_dashboard_section(section: DashboardSection) -> None:
    _add(_DASHBOARD, section.key, section)


def screen_pop_sections() -> list[ScreenPopSection]:
    return sorted(_SCREEN_POP.values(), key=lambda s: s.key)


def patient_panels() -> list[PatientPanel]:
    return sorted(_PANELS.values(), key=lambda p: (p.order, p.key))


def patient_counts() -> list[PatientCount]:
    return sorted(_COUNTS.values(), key=lambda c: c.key)


def dashboard_sections() -> list[DashboardSection]:
    return sorted(_DASHBOARD.values(), key=lambda s: s.key)
