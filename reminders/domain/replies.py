"""How a patient's answer to a text reads on a reminder row: what they typed, and what it
was read as (reminders.domain.keywords), e.g. '"C" (confirm)' or 'other: "Running late"'."""

from __future__ import annotations

from crm.domain import events as ev

_MEANING: dict[str, str] = {
    ev.SmsIntent.CONFIRM: "confirm",
    ev.SmsIntent.RESCHEDULE: "reschedule",
    ev.SmsIntent.OPT_OUT: "opt out",
    ev.SmsIntent.OPT_IN: "opt in",
    ev.SmsIntent.HELP: "help",
    ev.SmsIntent.SATISFACTION: "satisfaction score",
    ev.SmsIntent.STOP_REQUEST: "asks us to stop",
}
_LONGEST = 60  # characters of the patient's words shown on a row


def words(intent: str, text: str) -> str:
    """The reply as a row shows it; "" when there was none."""
    if not intent:
        return ""
    quoted = text if len(text) <= _LONGEST else text[: _LONGEST - 1].rstrip() + "…"
    meaning = _MEANING.get(intent)
    if meaning is None:
        return f'other: "{quoted}"'
    return f'"{quoted}" ({meaning})'
