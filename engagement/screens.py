"""What engagement adds to crm's screens through crm.extensions (screen pop, patient page,
patient list, dashboard); each loader costs one query."""

from __future__ import annotations

import datetime as dt
import functools
import uuid
from collections import Counter
from collections.abc import Sequence
from typing import Any

from django.db.models import Count

from crm.admin import formatting as fmt
from crm.extensions import DashboardSection, Panel, PatientCount, PatientPanel, ScreenPopSection
from crm.selectors import rows
from engagement.api.serializers import OpenSuggestionSerializer
from engagement.domain.suggestions import LABEL, Kind, Status
from engagement.models import Suggestion
from engagement.projection import grouped
from engagement.selectors import ACTIONABLE, document, status_at, with_status

SCREEN_POP_LIMIT = 20
RECENTLY_CLOSED = dt.timedelta(days=30)
AGE_BUCKETS: tuple[tuple[str, dt.timedelta | None], ...] = (
    ("< 1 day", dt.timedelta(days=1)),
    ("1-3 days", dt.timedelta(days=3)),
    ("3-7 days", dt.timedelta(days=7)),
    ("> 7 days", None),
)


def open_suggestions(
    patient_ids: Sequence[uuid.UUID], now: dt.datetime
) -> dict[uuid.UUID, list[dict[str, Any]]]:
    if not patient_ids:
        return {}
    wanted = list(dict.fromkeys(patient_ids))
    values: dict[str, Any] = {f"patient{n}": pid for n, pid in enumerate(wanted)}
    by_patient = grouped(_actionable(len(wanted)).fetch({**values, "now": now}))
    return {
        pid: [document(row, now) for row in rows_of[:SCREEN_POP_LIMIT]]
        for pid, rows_of in by_patient.items()
    }


_STAND_IN_NOW = dt.datetime(1901, 2, 3, 4, 5, 6, 789012, tzinfo=dt.UTC)


@functools.lru_cache(maxsize=32)
def _actionable(count: int) -> rows.Template[Suggestion]:
    """The queue's one rule (`with_status`) for `count` patients, compiled once per process:
    the screen pop's hottest query, whose building cost more than the read."""
    ids = [uuid.UUID(int=n + 1) for n in range(count)]
    actionable = with_status(
        Suggestion.objects.filter(patient_id__in=ids), ACTIONABLE, _STAND_IN_NOW
    )
    ordered = actionable.order_by("patient_id", "priority", "due_at", "suggestion_id")
    slots = {f"patient{n}": ("patient_id", pid) for n, pid in enumerate(ids)}
    return rows.template(ordered, {**slots, "now": ("snoozed_until", _STAND_IN_NOW)})


SCREEN_POP = ScreenPopSection(
    key="open_suggestions",
    serializer=OpenSuggestionSerializer,
    load=open_suggestions,
    help_text="What to do for this caller, most urgent first (open or claimed suggestions; "
    "at most 20).",
)


def patient_panel(patient_id: uuid.UUID, zone_name: str, now: dt.datetime) -> Panel:
    rows = list(
        Suggestion.objects.filter(patient_id=patient_id)
        .exclude(closed_at__lt=now - RECENTLY_CLOSED)
        .order_by("priority", "due_at", "suggestion_id")
    )
    active = [r for r in rows if r.closed_at is None]
    closed = sorted(
        (r for r in rows if r.closed_at is not None), key=lambda r: r.closed_at or now, reverse=True
    )
    lines: list[tuple[str, ...]] = []
    tones: list[str] = []
    for suggestion in [*active, *closed]:
        status = status_at(suggestion, now)
        lines.append(
            (
                LABEL[Kind(suggestion.kind)],
                suggestion.reason,
                fmt.moment(suggestion.due_at, zone_name),
                status_words(suggestion, status, zone_name),
            )
        )
        tones.append(_tone(suggestion, status, now))
    return Panel(
        title="Suggested next steps",
        headers=("What to do", "Why", "Due", "Where it stands"),
        rows=lines,
        empty="Nothing to follow up for this patient.",
        tones=tones,
    )


def status_words(suggestion: Suggestion, status: str, zone_name: str) -> str:
    """Where a suggestion stands, in the words the patient page and the work queue show."""
    if status == Status.CLAIMED.value and suggestion.claimed_until is not None:
        until = fmt.moment(suggestion.claimed_until, zone_name)
        return f"Being handled by {suggestion.assignee} until {until}"
    if status == Status.SNOOZED.value:
        if suggestion.paused_reason:
            return suggestion.paused_reason
        snoozed = suggestion.snoozed_until
        return f"Put off until {fmt.moment(snoozed, zone_name)}" if snoozed else "Put off"
    if status in (Status.DONE.value, Status.DISMISSED.value, Status.EXPIRED.value):
        word = {"done": "Done", "dismissed": "Dismissed", "expired": "No longer needed"}[status]
        when = fmt.moment(suggestion.closed_at, zone_name) if suggestion.closed_at else ""
        return f"{word} {when}: {suggestion.closed_reason}".strip()
    return "To do"


def _tone(suggestion: Suggestion, status: str, now: dt.datetime) -> str:
    if status not in ACTIONABLE:
        return ""
    if suggestion.kind == Kind.CRISIS_FOLLOW_UP.value:
        return "danger"
    return "warning" if suggestion.due_at < now else ""


PANEL = PatientPanel(key="suggestions", order=20, load=patient_panel)


def open_counts(patient_ids: Sequence[uuid.UUID], now: dt.datetime) -> dict[uuid.UUID, int]:
    rows = with_status(Suggestion.objects.filter(patient_id__in=patient_ids), ACTIONABLE, now)
    counted = rows.values("patient_id").annotate(n=Count("suggestion_id")).order_by()
    return {row["patient_id"]: row["n"] for row in counted}


COUNT = PatientCount(key="open_suggestions", label="Open suggestions", load=open_counts)


def dashboard(first: dt.date, last: dt.date, now: dt.datetime) -> dict[str, Any]:
    """The queue as it stands now (the date range does not apply to a queue)."""
    rows = with_status(Suggestion.objects.all(), ACTIONABLE, now).values_list("kind", "opened_at")
    counts: Counter[tuple[str, str]] = Counter()
    for kind, opened_at in rows.iterator(chunk_size=5000):
        counts[(kind, _bucket(now - opened_at))] += 1
    kinds = [k for k in Kind if any(counts[(k.value, b)] for b, _ in AGE_BUCKETS)]
    names = [name for name, _ in AGE_BUCKETS]
    table = [[LABEL[k], *(counts[(k.value, b)] for b in names)] for k in kinds]
    return {
        "title": "Open suggestions now, by kind and by how long they have waited",
        "columns": ["Kind", *names],
        "rows": table,
        "chart": {
            "labels": [LABEL[k] for k in kinds],
            "series": [{"name": b, "values": [counts[(k.value, b)] for k in kinds]} for b in names],
        },
    }


def _bucket(age: dt.timedelta) -> str:
    for name, limit in AGE_BUCKETS:
        if limit is None or age < limit:
            return name
    return AGE_BUCKETS[-1][0]


DASHBOARD = DashboardSection(key="suggestions", load=dashboard)
