"""The clinic's words for what the log records (enumeration members, phone numbers as people
write them, durations), shared by the describer of events, the admin and the API."""

from __future__ import annotations

import enum

import phonenumbers

from crm.domain import events as ev
from crm.domain.phones import format_national

_WORDS: tuple[tuple[enum.Enum, str], ...] = (
    (ev.Channel.SMS, "text (SMS)"),
    (ev.Channel.VOICE, "phone"),
    (ev.Channel.EMAIL, "email"),
    (ev.Channel.CHAT, "chat"),
    (ev.ConsentPurpose.APPOINTMENT_REMINDERS, "appointment reminders"),
    (ev.ConsentPurpose.CARE_MESSAGES, "care messages"),
    (ev.ConsentPurpose.SURVEYS, "surveys"),
    (ev.ConsentSource.SMS_KEYWORD, "reply keyword (STOP/START)"),
    (ev.CallDisposition.NO_ANSWER, "no answer"),
    (ev.CallDisposition.WRONG_NUMBER, "wrong number"),
    (ev.AppointmentType.ANNUAL_WELLNESS, "annual wellness visit"),
    (ev.AppointmentType.NEW_PATIENT, "new patient visit"),
    (ev.AppointmentType.FOLLOW_UP, "follow-up"),
    (ev.AppointmentType.TEST, "test or lab visit"),
    (ev.Modality.IN_PERSON, "in person"),
    (ev.CrisisHandoff.NONE, "no handoff"),
    (ev.CrisisHandoff.MOBILE_CRISIS_TEAM, "mobile crisis team"),
    (ev.CrisisHandoff.CRISIS_LINE, "crisis line"),
    (ev.CrisisHandoff.EMERGENCY_SERVICES, "emergency services"),
    (ev.SafetyPlan.NONE, "no safety plan"),
    (ev.SafetyPlan.REVIEWED, "safety plan reviewed"),
    (ev.SafetyPlan.CREATED, "safety plan created"),
    (ev.SafetyPlan.UPDATED, "safety plan updated"),
)


# Keyed by enumeration and value: members of string enumerations equal their values, so
# CrisisHandoff.NONE and SafetyPlan.NONE would otherwise be one key ("none").
_LABELS: dict[tuple[type[enum.Enum], object], str] = {
    (type(member), member.value): words for member, words in _WORDS
}


def label(value: enum.Enum) -> str:
    """The clinic's word for an enumeration member: "no answer", "text (SMS)"."""
    return _LABELS.get((type(value), value.value)) or str(value.value).replace("_", " ")


def channel_label(value: str) -> str:
    """A channel stored as text in a read model; one this code does not know reads as is."""
    try:
        return label(ev.Channel(value))
    except ValueError:
        return value


def phone(e164: str | None) -> str:
    if not e164:
        return ""
    try:
        return str(format_national(e164))
    except phonenumbers.NumberParseException:  # shown as stored rather than hidden
        return e164


def duration(seconds: float | None) -> str:
    """ "4 min 05 s", "45 s"; an empty string when there is nothing to show."""
    if seconds is None:
        return ""
    whole = round(seconds)
    minutes, rest = divmod(whole, 60)
    return f"{minutes} min {rest:02d} s" if minutes else f"{rest} s"
