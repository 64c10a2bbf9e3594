"""The crisis rules: a follow-up call within hours of a crisis contact, then caring contacts over
the year after it."""

from __future__ import annotations

import datetime as dt

from crm.domain import events as ev
from engagement.domain.config import RuleConfig
from engagement.domain.rules.words import Words
from engagement.domain.state import LIVE_CHANNELS, Crisis, EngagementState
from engagement.domain.suggestions import Kind, Need, suggestion_id


def crisis_follow_up(s: EngagementState, c: RuleConfig, w: Words) -> list[Need]:
    """A live conversation within 24 h of a crisis contact, tried again and again until
    the patient is reached (the safety-plan check), and by 72 h at the latest. Never paused.
    """
    needs: list[Need] = []
    for index, crisis in enumerate(s.crises):
        sid = suggestion_id(Kind.CRISIS_FOLLOW_UP, crisis.crisis_id)
        window_ends = crisis.at + c.crisis_window
        attempts = _crisis_attempts(s, sid, crisis)
        due = crisis.at + c.crisis_first_call
        if attempts:
            due = min(max(attempts) + c.crisis_retry, window_ends)
        handoff = crisis.handoff.value.replace("_", " ")
        reason = (
            f"Crisis contact {w.time(crisis.at)}: risk {crisis.risk_level.value}, "
            f"handoff: {handoff}. Call within "
            f"{_hours(c.crisis_first_call)} to check on the patient and their safety plan"
        )
        if attempts:
            reason += f"; {len(attempts)} attempt(s) so far, last {w.time(max(attempts))}"
        reason += (
            f"; keep trying until reached, by {w.time(window_ends)} at the latest. "
            f"Crisis line: {c.crisis_line}."
        )
        need = Need(
            sid,
            Kind.CRISIS_FOLLOW_UP,
            opened_at=crisis.at,
            due_at=due,
            reason=reason,
            evidence=[crisis.evidence],
            payload={
                "crisis_id": str(crisis.crisis_id),
                "crisis_line": c.crisis_line,
                "risk_level": crisis.risk_level.value,
                "window_ends_at": window_ends.astimezone(dt.UTC).isoformat(),
                "attempts": len(attempts),
            },
        )
        reached = s.reached_after(crisis.at)
        if reached is not None:
            need.met(
                reached.at, f"Patient reached by {reached.channel.value} {w.time(reached.at)}."
            )
            need.evidence.append(reached.evidence)
        later = s.crises[index + 1] if index + 1 < len(s.crises) else None
        if later is not None:
            need.lapses(later.at, _superseded_by_crisis(w, later))
        if s.crisis_cleared_at is not None and s.crisis_cleared_at > crisis.at:
            need.lapses(
                s.crisis_cleared_at,
                f"A clinician cleared the crisis flag {w.time(s.crisis_cleared_at)}.",
            )
        needs.append(need)
    return needs


def _crisis_attempts(s: EngagementState, sid: str, crisis: Crisis) -> list[dt.datetime]:
    """Times someone tried and did not reach the patient since the crisis contact."""
    tried = [
        a.at
        for a in s.failed_attempts
        if a.at > crisis.at and a.channel in LIVE_CHANNELS | {ev.Channel.SMS}
    ]
    tried += [
        entry.at
        for entry in s.ledger.get(sid, [])
        if entry.action == "completed" and entry.outcome == "not_reached"
    ]
    return tried


def _superseded_by_crisis(w: Words, later: Crisis) -> str:
    return f"Superseded by the crisis contact {w.time(later.at)}, which has its own follow-up."


def _hours(delta: dt.timedelta) -> str:
    return f"{int(delta.total_seconds() // 3600)} h"


def caring_contacts(s: EngagementState, c: RuleConfig, w: Words) -> list[Need]:
    """Brief messages that ask nothing of the patient, on a schedule over the year after
    a crisis contact, whether or not the patient answers. A new crisis starts a new series."""
    needs: list[Need] = []
    total = len(c.caring_contacts)
    for index, crisis in enumerate(s.crises):
        later = s.crises[index + 1] if index + 1 < len(s.crises) else None
        opens = [crisis.at + offset for offset in c.caring_contacts]
        for number, opened in enumerate(opens, start=1):
            if later is not None and opened >= later.at:
                break
            need = Need(
                suggestion_id(Kind.CARING_CONTACT, crisis.crisis_id, number),
                Kind.CARING_CONTACT,
                opened_at=opened,
                due_at=opened,
                reason=(
                    f"Caring contact {number} of {total} after the crisis contact "
                    f"{w.day(crisis.at)}: a short, warm message that asks nothing of the "
                    "patient. Send it whether or not they answered the last one."
                ),
                evidence=[crisis.evidence],
                payload={
                    "crisis_id": str(crisis.crisis_id),
                    "number": number,
                    "of": total,
                    "crisis_line": c.crisis_line,
                },
            )
            if number < total:
                need.lapses(
                    opens[number],
                    f"Superseded by caring contact {number + 1} of {total}, due "
                    f"{w.day(opens[number])}.",
                )
            else:
                need.lapses(
                    opened + c.caring_contact_last_window,
                    f"The last caring contact's window passed "
                    f"({c.caring_contact_last_window.days} days).",
                )
            if later is not None:
                need.lapses(
                    later.at, _superseded_by_crisis(w, later).replace("follow-up", "series")
                )
            needs.append(need)
    return needs
