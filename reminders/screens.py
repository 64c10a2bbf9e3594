"""What reminders add to crm's screens (through crm.extensions, so crm never imports us):
a panel on the admin's patient page and a section of the supervisor dashboard."""

from __future__ import annotations

import datetime as dt
import uuid
import zoneinfo
from collections import Counter
from typing import Any

from django.conf import settings

from crm.admin import formatting as fmt
from crm.extensions import DashboardSection, Panel, PatientPanel
from reminders.domain import replies
from reminders.models import MessageStatus, Reminder, ReminderState
from reminders.selectors import current_state

PANEL_ROWS = 20
_TONES = {
    ReminderState.FAILED: "danger",
    ReminderState.BLOCKED: "warning",
    ReminderState.DROPPED: "warning",
    MessageStatus.HELD: "warning",
    MessageStatus.RETRYING: "warning",
}


def patient_panel() -> PatientPanel:
    return PatientPanel(key="reminders", order=30, load=_load_panel)


# Not yet gone and not given up: what the front desk may still see happen.
_AHEAD = frozenset(
    {
        ReminderState.SCHEDULED,
        MessageStatus.HELD,
        MessageStatus.RETRYING,
        MessageStatus.SENDING,
        ReminderState.BLOCKED,
    }
)


def _load_panel(patient_id: uuid.UUID, zone: str, now: dt.datetime) -> Panel:
    """What comes next first (soonest first), then the history folded below (newest first)."""
    reminders = list(
        Reminder.objects.filter(patient_id=patient_id)
        .select_related("outbound")
        .order_by("due_at", "reminder_id")
    )
    ahead: list[tuple[Reminder, str, str]] = []
    past: list[tuple[Reminder, str, str]] = []
    for reminder in reminders:
        state, reason = current_state(reminder)
        coming = state in _AHEAD and reminder.appointment_starts_at > now
        (ahead if coming else past).append((reminder, state, reason))
    shown = ahead[:PANEL_ROWS] + past[::-1][:PANEL_ROWS]
    rows: list[tuple[str, ...]] = []
    tones: list[str] = []
    for reminder, state, reason in shown:
        what = (
            f"{reminder.offset_hours} h before"
            if reminder.kind == "reminder"
            else "satisfaction text"
        )
        rows.append(
            (
                fmt.moment(reminder.due_at, zone),
                f"{what} the visit of {fmt.moment(reminder.appointment_starts_at, zone)}",
                _state_and_reply(reminder, state, zone),
                reason,
            )
        )
        tones.append(_TONES.get(state, ""))  # type: ignore[call-overload]
    upcoming = min(len(ahead), PANEL_ROWS)
    return Panel(
        title="Text reminders",
        headers=("When", "For", "State", "Why"),
        rows=rows,
        tones=tones,
        empty="No text reminders coming up." if past else "No text reminders for this patient.",
        history_from=upcoming if past else None,
        history_title="Earlier text reminders",
    )


def _state_and_reply(reminder: Reminder, state: str, zone: str) -> str:
    """The state, and the patient's answer to the text when there was one."""
    reply = replies.words(reminder.reply_intent, reminder.reply_text)
    if not reply or reminder.replied_at is None:
        return state
    return f"{state}; replied {reply}, {fmt.moment(reminder.replied_at, zone)}"


def dashboard_section() -> DashboardSection:
    return DashboardSection(key="reminders", load=_load_dashboard)


def _load_dashboard(first: dt.date, last: dt.date, now: dt.datetime) -> dict[str, Any]:
    """Reminders due in the range by what became of them; not-sent ones by reason."""
    tz = zoneinfo.ZoneInfo(str(settings.TIME_ZONE))
    start = dt.datetime.combine(first, dt.time(0), tzinfo=tz)
    end = dt.datetime.combine(last + dt.timedelta(days=1), dt.time(0), tzinfo=tz)
    states: Counter[str] = Counter()
    reasons: Counter[tuple[str, str]] = Counter()
    for reminder in Reminder.objects.filter(due_at__gte=start, due_at__lt=end).select_related(
        "outbound"
    ):
        state, reason = current_state(reminder)
        states[state] += 1
        if state in (
            ReminderState.BLOCKED,
            ReminderState.DROPPED,
            ReminderState.FAILED,
            MessageStatus.HELD,
        ):
            reasons[(state, _reason_kind(reason))] += 1
    order = ["sent", "delivered", "failed", "scheduled", "held", "retrying", "sending"]
    order += ["blocked", "dropped", "cancelled"]
    rows: list[list[Any]] = [[state, states.get(state, 0)] for state in order]
    rows += [[f"{state}: {why}", count] for (state, why), count in sorted(reasons.items())]
    return {
        "title": "Text reminders due in the range",
        "columns": ["State", "Reminders"],
        "rows": rows,
        "chart": {
            "labels": order,
            "series": [{"name": "Reminders", "values": [states.get(s, 0) for s in order]}],
        },
    }


def _reason_kind(reason: str) -> str:
    """A reason without its times and dates, so like reasons add up."""
    head = reason.split(" until ")[0].split(" on ")[0].split(":")[0]
    return head.rstrip(".") or "unknown"
