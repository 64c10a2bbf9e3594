"""May this reminder or survey go now? Consent, blocks, the visit, quiet hours and the
frequency cap checked once more right before sending (I8), and the text's words."""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from django.conf import settings

from crm.domain import events as ev
from crm.eventstore.records import describe
from crm.models import PatientProfile
from reminders.dispatch.texts import render
from reminders.domain.schedule import local_text, next_allowed
from reminders.domain.sms_safe import SafeNames
from reminders.domain.texts import reminder_context
from reminders.models import MessageKind, MessageStatus, OutboundMessage, Reminder, ReminderState

log = logging.getLogger(__name__)

# How long a row held for a reason that may pass on its own (projection lag, a block
# under review) waits before it is looked at again.
RECHECK = dt.timedelta(minutes=5)
# A text whose preparation failed (a template or a value no one foresaw) is tried again.
UNPREPARED_RETRY = dt.timedelta(hours=1)


@dataclass(frozen=True, slots=True)
class Verdict:
    status: str  # SENDING (send it), or a waiting / final status, or "" to forget the row
    body: str = ""
    reason: str = ""
    next_attempt_at: dt.datetime | None = None


def judge(
    row: OutboundMessage,
    reminder: Reminder | None,
    profile: PatientProfile | None,
    number_block: str | None,
    recent: list[dt.datetime],
    now: dt.datetime,
    templates: Mapping[tuple[str, str], str],
    names: SafeNames,
) -> Verdict:
    """May this reminder or survey go now? I8, checked once more right before sending."""
    if reminder is None or reminder.state != ReminderState.SCHEDULED or reminder.due_at > now:
        # The schedule no longer wants it now (moved, cancelled, blocked): its row says why.
        return Verdict("")
    if profile is None or profile.merged_into is not None or profile.deceased:
        return _recheck(now, "The record changed; waiting for the schedule to catch up.")
    if not profile.phone or profile.phone != row.to:
        return _recheck(now, "The patient's number changed; waiting for the schedule to catch up.")
    is_survey = row.kind == MessageKind.SATISFACTION
    purpose = ev.ConsentPurpose.SURVEYS if is_survey else ev.ConsentPurpose.APPOINTMENT_REMINDERS
    consent = profile.consents.get(f"sms:{purpose.value}") or {}
    if not consent.get("granted"):
        return _recheck(now, "No SMS consent at sending time.")
    if number_block:
        return _recheck(now, number_block)
    appointment = None if is_survey else _visit(profile, reminder)
    if not is_survey:
        if appointment is None:
            return _recheck(now, "The appointment changed; waiting for the schedule to catch up.")
        if reminder.appointment_starts_at <= now:
            return Verdict(
                MessageStatus.DROPPED,
                reason="Too late: the appointment had already started when this reminder came up.",
            )
    zone, window = profile.timezone, settings.REMINDERS_SEND_WINDOW
    allowed = next_allowed(now, zone, window)
    if allowed > now:
        return _later(reminder, allowed, zone, "quiet hours")
    cap_until = _cap_until(recent, now)
    if cap_until > now:
        return _later(reminder, next_allowed(cap_until, zone, window), zone, "the frequency cap")
    body = _words(profile, reminder, appointment, templates, names)
    return Verdict(MessageStatus.SENDING, body=body)


def unprepared(row: OutboundMessage, exc: Exception, now: dt.datetime) -> Verdict:
    """Held, visibly, and tried again later (after a fix is deployed): never dropped in
    silence, and never in the way of the texts behind it (I11)."""
    log.exception("text %s could not be prepared; held", row.message_id)
    return Verdict(
        MessageStatus.HELD,
        reason=f"Held: this text could not be prepared ({describe(exc)}); tried again at "
        f"{local_text(now + UNPREPARED_RETRY, settings.TIME_ZONE)}.",
        next_attempt_at=now + UNPREPARED_RETRY,
    )


def _visit(profile: PatientProfile, reminder: Reminder) -> dict[str, Any] | None:
    """The profile's upcoming visit the reminder is about, if it still starts when the
    reminder says."""
    for appointment in profile.upcoming_appointments:
        if appointment["appointment_id"] == str(reminder.appointment_id):
            starts_at = dt.datetime.fromisoformat(appointment["starts_at"])
            return appointment if starts_at == reminder.appointment_starts_at else None
    return None


def _words(
    profile: PatientProfile,
    reminder: Reminder,
    appointment: Mapping[str, Any] | None,
    templates: Mapping[tuple[str, str], str],
    names: SafeNames,
) -> str:
    first_name = profile.preferred_name or profile.first_name
    if appointment is None:
        context = {"first_name": first_name}
        return render("satisfaction", profile.language, context, templates=templates, names=names)
    context = reminder_context(
        first_name=first_name,
        starts_at=reminder.appointment_starts_at,
        timezone=profile.timezone,
        location=appointment["location"],
        provider=appointment["provider"],
        telehealth=appointment["modality"] == ev.Modality.TELEHEALTH.value,
        language=profile.language,
        names=names,
    )
    return render("reminder", profile.language, context, templates=templates, names=names)


def _recheck(now: dt.datetime, reason: str) -> Verdict:
    return Verdict(MessageStatus.BLOCKED, reason=reason, next_attempt_at=now + RECHECK)


def _later(reminder: Reminder, allowed: dt.datetime, zone: str, by: str) -> Verdict:
    when = local_text(allowed, zone)
    if reminder.kind == "reminder" and allowed >= reminder.appointment_starts_at:
        return Verdict(
            MessageStatus.DROPPED,
            reason=f"Dropped: {by} would hold it until {when}, after the appointment.",
        )
    return Verdict(
        MessageStatus.HELD, reason=f"Held by {by} until {when}.", next_attempt_at=allowed
    )


def _cap_until(recent: list[dt.datetime], now: dt.datetime) -> dt.datetime:
    """When one more text to this number fits both caps (now, if it fits already)."""
    until = now
    for window, cap in (
        (dt.timedelta(days=1), settings.REMINDERS_CAP_PER_DAY),
        (dt.timedelta(days=7), settings.REMINDERS_CAP_PER_WEEK),
    ):
        inside = sorted(t for t in recent if t > now - window)
        if len(inside) >= cap:
            until = max(until, inside[-cap] + window)
    return until
