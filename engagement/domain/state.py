"""What the rules need to know about a patient: crm's `PatientState` plus the history it folds
away and the agents' ledger, merged records included (docs/engagement.md, Merged records)."""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Iterable
from dataclasses import dataclass, field

from crm.domain import events as ev
from crm.domain.recorded import RecordedEvent
from crm.domain.state import PatientState

# Events of a merged record that describe the record rather than the person's care.
_RECORD_ONLY = (
    ev.PatientRegistered,
    ev.DemographicsChanged,
    ev.ContactDetailsChanged,
    ev.PatientsMerged,
    ev.PatientMergedInto,
)
_FAILED_ATTEMPT = {
    ev.CallDisposition.NO_ANSWER,
    ev.CallDisposition.BUSY,
    ev.CallDisposition.VOICEMAIL,
    ev.CallDisposition.WRONG_NUMBER,
}
# Channels on which a connected call is a live conversation (a crisis check needs one).
LIVE_CHANNELS = {ev.Channel.VOICE, ev.Channel.CHAT}


@dataclass(frozen=True, slots=True)
class Evidence:
    """An event a suggestion rests on: where it is in which stream, and what it was."""

    patient_id: uuid.UUID
    version: int
    event_type: str
    occurred_at: dt.datetime


@dataclass(frozen=True, slots=True)
class Call:
    call_id: uuid.UUID
    at: dt.datetime
    direction: ev.CallDirection
    channel: ev.Channel
    disposition: ev.CallDisposition
    evidence: Evidence

    @property
    def connected(self) -> bool:
        return self.disposition is ev.CallDisposition.CONNECTED

    @property
    def failed_attempt(self) -> bool:
        return self.direction is ev.CallDirection.OUTBOUND and self.disposition in _FAILED_ATTEMPT


@dataclass(frozen=True, slots=True)
class Attempt:
    """An outbound attempt that did not reach the patient (a call or a text that failed)."""

    attempt_id: uuid.UUID
    at: dt.datetime
    channel: ev.Channel
    what: str  # "no answer", "voicemail", "text failed"...
    evidence: Evidence


@dataclass(frozen=True, slots=True)
class Crisis:
    crisis_id: uuid.UUID
    at: dt.datetime
    risk_level: ev.RiskLevel
    handoff: ev.CrisisHandoff
    evidence: Evidence


@dataclass(frozen=True, slots=True)
class Text:
    message_id: uuid.UUID
    at: dt.datetime
    intent: ev.SmsIntent
    evidence: Evidence


@dataclass(slots=True)
class Booking:
    """When an appointment was booked, confirmed and moved (crm keeps only where it is)."""

    scheduled_at: dt.datetime
    evidence: Evidence
    confirmed_at: dt.datetime | None = None
    moved_at: list[dt.datetime] = field(default_factory=list)
    closed_evidence: Evidence | None = None


@dataclass(frozen=True, slots=True)
class LedgerEntry:
    """What an agent did with a suggestion: claimed, released, completed, dismissed, snoozed."""

    action: str
    at: dt.datetime
    agent: str
    until: dt.datetime | None = None
    outcome: str = ""
    reason: str = ""


@dataclass(slots=True)
class EngagementState:
    patient: PatientState
    calls: list[Call] = field(default_factory=list)
    failed_attempts: list[Attempt] = field(default_factory=list)
    crises: list[Crisis] = field(default_factory=list)
    texts: list[Text] = field(default_factory=list)
    bookings: dict[uuid.UUID, Booking] = field(default_factory=dict)
    tests_evidence: dict[uuid.UUID, Evidence] = field(default_factory=dict)
    sms_consent_on_file_at: dt.datetime | None = None
    sms_revoked_at: list[dt.datetime] = field(default_factory=list)
    crisis_cleared_at: dt.datetime | None = None
    deceased_at: dt.datetime | None = None
    ledger: dict[str, list[LedgerEntry]] = field(default_factory=dict)
    # Moments a patient was in touch: a connected call, a text from them, a visit attended.
    contacts: list[tuple[dt.datetime, str]] = field(default_factory=list)
    completed_visits: list[tuple[uuid.UUID, dt.datetime, Evidence]] = field(default_factory=list)
    # Outreach the clinic started: calls placed (any outcome) and texts sent, for the cap.
    outreach: list[dt.datetime] = field(default_factory=list)
    no_shows: list[tuple[uuid.UUID, dt.datetime, Evidence]] = field(default_factory=list)

    @property
    def patient_id(self) -> uuid.UUID:
        return self.patient.patient_id

    # --- questions the rules ask ---------------------------------------------------------

    def contact_after(self, moment: dt.datetime) -> tuple[dt.datetime, str] | None:
        """The first time the patient was in touch after `moment`, and how."""
        later = [c for c in self.contacts if c[0] > moment]
        return min(later) if later else None

    def reached_after(self, moment: dt.datetime) -> Call | None:
        """The first live conversation (a connected call, either way) after `moment`."""
        calls = [
            c for c in self.calls if c.connected and c.channel in LIVE_CHANNELS and c.at > moment
        ]
        return min(calls, key=lambda c: c.at) if calls else None

    # --- the fold ------------------------------------------------------------------------

    def apply(self, recorded: RecordedEvent) -> None:
        own = recorded.stream_id == self.patient.patient_id
        event = recorded.event
        if own:
            self.patient.apply(recorded)
        elif isinstance(event, _RECORD_ONLY):
            return
        else:
            # Care on a merged record: into the state, but the survivor keeps its version.
            version, last = self.patient.version, self.patient.last_recorded_at
            self.patient.apply(recorded)
            self.patient.version, self.patient.last_recorded_at = version, last
        applier = _APPLIERS.get(type(event))
        if applier is not None:
            evidence = Evidence(
                recorded.stream_id, recorded.version, event.event_type, recorded.occurred_at
            )
            applier(self, event, recorded.occurred_at, evidence)

    def apply_all(self, recorded: Iterable[RecordedEvent]) -> EngagementState:
        for item in recorded:
            self.apply(item)
        return self


def fold_engagement(patient_id: uuid.UUID, recorded: Iterable[RecordedEvent]) -> EngagementState:
    """Fold the survivor's events and those of records merged into it, in log order."""
    ordered = sorted(recorded, key=lambda r: r.position)
    return EngagementState(patient=PatientState(patient_id=patient_id)).apply_all(ordered)


# --- appliers ----------------------------------------------------------------------------


def _call(s: EngagementState, e: ev.CallLogged, at: dt.datetime, evidence: Evidence) -> None:
    call = Call(e.call_id, e.started_at, e.direction, e.channel, e.disposition, evidence)
    s.calls.append(call)
    if e.direction is ev.CallDirection.OUTBOUND:
        s.outreach.append(e.started_at)
    if call.connected:
        s.contacts.append((e.started_at, f"{e.channel.value} call"))
    elif call.failed_attempt:
        what = e.disposition.value.replace("_", " ")
        s.failed_attempts.append(Attempt(e.call_id, e.started_at, e.channel, what, evidence))


def _sms_sent(s: EngagementState, e: ev.SmsSent, at: dt.datetime, evidence: Evidence) -> None:
    s.outreach.append(at)


def _sms_failed(s: EngagementState, e: ev.SmsFailed, at: dt.datetime, evidence: Evidence) -> None:
    s.failed_attempts.append(Attempt(e.message_id, at, ev.Channel.SMS, "text failed", evidence))


def _sms_received(
    s: EngagementState, e: ev.SmsReceived, at: dt.datetime, evidence: Evidence
) -> None:
    if any(text.message_id == e.message_id for text in s.texts):
        # The same text on a record merged into this one (both had the number): one text.
        return
    s.texts.append(Text(e.message_id, at, e.intent, evidence))
    s.contacts.append((at, "text"))


def _crisis(
    s: EngagementState, e: ev.CrisisContactRecorded, at: dt.datetime, evidence: Evidence
) -> None:
    s.crises.append(Crisis(e.crisis_id, at, e.risk_level, e.handoff, evidence))
    s.contacts.append((at, "crisis contact"))


def _crisis_cleared(
    s: EngagementState, e: ev.CrisisFlagCleared, at: dt.datetime, evidence: Evidence
) -> None:
    s.crisis_cleared_at = at


def _scheduled(
    s: EngagementState, e: ev.AppointmentScheduled, at: dt.datetime, evidence: Evidence
) -> None:
    s.bookings[e.appointment_id] = Booking(scheduled_at=at, evidence=evidence)


def _rescheduled(
    s: EngagementState, e: ev.AppointmentRescheduled, at: dt.datetime, evidence: Evidence
) -> None:
    booking = s.bookings.get(e.appointment_id)
    if booking is not None:
        booking.moved_at.append(at)
        booking.confirmed_at = None


def _confirmed(
    s: EngagementState, e: ev.AppointmentConfirmed, at: dt.datetime, evidence: Evidence
) -> None:
    booking = s.bookings.get(e.appointment_id)
    if booking is not None:
        booking.confirmed_at = at


def _closed(s: EngagementState, appointment_id: uuid.UUID, evidence: Evidence) -> None:
    booking = s.bookings.get(appointment_id)
    if booking is not None:
        booking.closed_evidence = evidence


def _cancelled(
    s: EngagementState, e: ev.AppointmentCancelled, at: dt.datetime, evidence: Evidence
) -> None:
    _closed(s, e.appointment_id, evidence)


def _completed(
    s: EngagementState, e: ev.AppointmentCompleted, at: dt.datetime, evidence: Evidence
) -> None:
    _closed(s, e.appointment_id, evidence)
    s.completed_visits.append((e.appointment_id, at, evidence))
    s.contacts.append((at, "visit"))


def _no_show(
    s: EngagementState, e: ev.AppointmentNoShowRecorded, at: dt.datetime, evidence: Evidence
) -> None:
    _closed(s, e.appointment_id, evidence)
    s.no_shows.append((e.appointment_id, at, evidence))


def _test_ordered(
    s: EngagementState, e: ev.TestOrdered, at: dt.datetime, evidence: Evidence
) -> None:
    s.tests_evidence[e.test_id] = evidence


def _consent_recorded(
    s: EngagementState, e: ev.ConsentRecorded, at: dt.datetime, evidence: Evidence
) -> None:
    if e.channel is ev.Channel.SMS and s.sms_consent_on_file_at is None:
        s.sms_consent_on_file_at = at


def _consent_revoked(
    s: EngagementState, e: ev.ConsentRevoked, at: dt.datetime, evidence: Evidence
) -> None:
    if e.channel is ev.Channel.SMS:
        # A "no" is an answer on file too: never ask again someone who said stop.
        if s.sms_consent_on_file_at is None:
            s.sms_consent_on_file_at = at
        s.sms_revoked_at.append(at)


def _deceased(
    s: EngagementState, e: ev.PatientDeceased, at: dt.datetime, evidence: Evidence
) -> None:
    if s.deceased_at is None:
        s.deceased_at = at


def _ledger(action: str):  # type: ignore[no-untyped-def]
    def apply(s: EngagementState, e: ev.DomainEvent, at: dt.datetime, evidence: Evidence) -> None:
        entry = LedgerEntry(
            action=action,
            at=at,
            agent=getattr(e, "agent", ""),
            until=getattr(e, "until", None),
            outcome=getattr(e, "outcome", ""),
            reason=getattr(e, "reason", ""),
        )
        s.ledger.setdefault(getattr(e, "suggestion_id", ""), []).append(entry)

    return apply


_APPLIERS = {
    ev.CallLogged: _call,
    ev.SmsSent: _sms_sent,
    ev.SmsFailed: _sms_failed,
    ev.SmsReceived: _sms_received,
    ev.CrisisContactRecorded: _crisis,
    ev.CrisisFlagCleared: _crisis_cleared,
    ev.AppointmentScheduled: _scheduled,
    ev.AppointmentRescheduled: _rescheduled,
    ev.AppointmentConfirmed: _confirmed,
    ev.AppointmentCancelled: _cancelled,
    ev.AppointmentCompleted: _completed,
    ev.AppointmentNoShowRecorded: _no_show,
    ev.TestOrdered: _test_ordered,
    ev.ConsentRecorded: _consent_recorded,
    ev.ConsentRevoked: _consent_revoked,
    ev.PatientDeceased: _deceased,
    ev.SuggestionClaimed: _ledger("claimed"),
    ev.SuggestionReleased: _ledger("released"),
    ev.SuggestionCompleted: _ledger("completed"),
    ev.SuggestionDismissed: _ledger("dismissed"),
    ev.SuggestionSnoozed: _ledger("snoozed"),
}
