"""The schedule rules: which reminders a patient's history calls for, and their state; plain
Python over the recorded events, so the same events and settings give the same reminders (I5)."""

from __future__ import annotations

import datetime as dt
import uuid
import zoneinfo
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field

from crm.domain import events as ev
from crm.domain import moments
from crm.domain.phones import timezone_for_phone
from crm.domain.recorded import RecordedEvent
from crm.domain.state import AppointmentState, AppointmentStatus, PatientState, consent_key, fold

# Reminder ids are uuid5 names in this namespace, so a rebuild yields the same ids.
NAMESPACE = uuid.UUID("6f1f7f0e-4a55-4c3e-9f5e-1d2b3c4d5e6f")

SCHEDULED = "scheduled"
SENT = "sent"
DELIVERED = "delivered"
FAILED = "failed"
CANCELLED = "cancelled"
DROPPED = "dropped"
BLOCKED = "blocked"


@dataclass(frozen=True, slots=True)
class ScheduleConfig:
    offsets: tuple[int, ...]  # hours before the visit, the default for every kind
    offsets_by_kind: Mapping[str, tuple[int, ...]]  # "therapy", "telehealth", "therapy/telehealth"
    window: tuple[dt.time, dt.time]  # local hours in which texts may go out
    clinic_timezone: str
    satisfaction: bool = False
    satisfaction_delay: dt.timedelta = dt.timedelta(hours=2)

    def offsets_for(self, appointment: AppointmentState) -> tuple[int, ...]:
        kind, modality = appointment.appointment_type.value, appointment.modality.value
        for key in (f"{kind}/{modality}", kind, modality):
            if key in self.offsets_by_kind:
                return self.offsets_by_kind[key]
        return self.offsets

    def all_offsets(self) -> tuple[int, ...]:
        every = set(self.offsets).union(*self.offsets_by_kind.values())
        return tuple(sorted(every, reverse=True))


@dataclass(slots=True)
class PlannedReminder:
    reminder_id: uuid.UUID
    patient_id: uuid.UUID
    appointment_id: uuid.UUID
    kind: str  # reminder, satisfaction
    offset_hours: int | None
    appointment_starts_at: dt.datetime
    planned_at: dt.datetime
    due_at: dt.datetime
    timezone: str
    phone: str | None
    language: str
    state: str = SCHEDULED
    reason: str = ""
    message_id: uuid.UUID | None = None
    sent_at: dt.datetime | None = None
    delivered_at: dt.datetime | None = None
    failed_at: dt.datetime | None = None
    error_code: str = ""
    # The patient's first text back after this one (C, R, STOP, a score, anything else):
    # what it was read as, as typed, and when it came.
    reply_intent: str = ""
    reply_text: str = ""
    replied_at: dt.datetime | None = None


def reminder_id(appointment_id: uuid.UUID, offset_hours: int, starts_at: dt.datetime) -> uuid.UUID:
    """One reminder per appointment, offset and start time: a new time is a new reminder."""
    moment = starts_at.astimezone(dt.UTC).isoformat()
    return uuid.uuid5(NAMESPACE, f"{appointment_id}:{offset_hours}h:{moment}")


def satisfaction_id(appointment_id: uuid.UUID) -> uuid.UUID:
    return uuid.uuid5(NAMESPACE, f"{appointment_id}:satisfaction")


def patient_timezone(state: PatientState, clinic_timezone: str) -> str:
    """The zone the profile shows the patient in: theirs, their number's, or the clinic's."""
    if state.timezone:
        return state.timezone
    if state.phone:
        zone = timezone_for_phone(state.phone)
        if zone:
            return zone
    return clinic_timezone


def next_allowed(moment: dt.datetime, zone: str, window: tuple[dt.time, dt.time]) -> dt.datetime:
    """`moment`, or the start of the next sending window when it falls in quiet hours."""
    tz = zoneinfo.ZoneInfo(zone)
    local = moment.astimezone(tz)
    start, end = window
    if start <= local.time() < end:
        return moment
    day = local.date() if local.time() < start else local.date() + dt.timedelta(days=1)
    return dt.datetime.combine(day, start, tzinfo=tz).astimezone(dt.UTC)


def local_text(moment: dt.datetime, zone: str) -> str:
    """How a time reads in a reason, as on every screen: 'Tue Nov 3, 2026, 8:00 AM EST'."""
    return moments.moment(moment, moments.zone_named(zone))


@dataclass(slots=True)
class _Texts:
    """What the stream says about the texts we sent: by reminder, and by message."""

    sent: dict[uuid.UUID, tuple[uuid.UUID, dt.datetime]] = field(default_factory=dict)
    failed_by_reminder: dict[uuid.UUID, tuple[dt.datetime, ev.SmsFailed]] = field(
        default_factory=dict
    )
    delivered: dict[uuid.UUID, dt.datetime] = field(default_factory=dict)
    failed_by_message: dict[uuid.UUID, tuple[dt.datetime, ev.SmsFailed]] = field(
        default_factory=dict
    )
    replies: dict[uuid.UUID, tuple[dt.datetime, ev.SmsReceived]] = field(default_factory=dict)
    # The latest reminder or survey text on the stream and the number it went to: what a
    # text from that number answers, as the inbound C is tied to the latest reminder.
    latest: tuple[uuid.UUID, str] | None = None

    def answer(self, at: dt.datetime, received: ev.SmsReceived) -> None:
        if self.latest is None:
            return
        reminder, number = self.latest
        if received.from_number == number and reminder not in self.replies:
            self.replies[reminder] = (at, received)


@dataclass(slots=True)
class _History:
    """What the stream says beyond the folded state: the texts, when each visit's current
    time was booked, its earlier times (for rows already sent), and when it took place."""

    texts: _Texts = field(default_factory=_Texts)
    booked_at: dict[uuid.UUID, dt.datetime] = field(default_factory=dict)
    earlier: dict[uuid.UUID, list[dt.datetime]] = field(default_factory=dict)
    completed_at: dict[uuid.UUID, dt.datetime] = field(default_factory=dict)
    # Visits imported from the EHR: when the CRM learned of their current time, and those
    # it learned of as already over (history: no reminder and no survey after the fact).
    imported_at: dict[uuid.UUID, dt.datetime] = field(default_factory=dict)
    imported_completions: set[uuid.UUID] = field(default_factory=set)

    @classmethod
    def read(cls, recorded: Sequence[RecordedEvent]) -> _History:
        history = cls()
        texts = history.texts
        for item in recorded:
            event = item.event
            if isinstance(event, ev.AppointmentScheduled | ev.AppointmentRescheduled):
                history.booked_at[event.appointment_id] = item.occurred_at
                if item.imported:
                    history.imported_at[event.appointment_id] = item.recorded_at
                else:
                    history.imported_at.pop(event.appointment_id, None)
                if isinstance(event, ev.AppointmentRescheduled):
                    history.earlier.setdefault(event.appointment_id, []).append(
                        event.previous_starts_at
                    )
            elif isinstance(event, ev.AppointmentCompleted):
                history.completed_at[event.appointment_id] = item.occurred_at
                if item.imported:
                    history.imported_completions.add(event.appointment_id)
            elif isinstance(event, ev.SmsSent) and event.reminder_id is not None:
                texts.sent[event.reminder_id] = (event.message_id, item.occurred_at)
                texts.latest = (event.reminder_id, event.to)
            elif isinstance(event, ev.SmsReceived):
                texts.answer(item.occurred_at, event)
            elif isinstance(event, ev.SmsDelivered):
                texts.delivered.setdefault(event.message_id, item.occurred_at)
            elif isinstance(event, ev.SmsFailed):
                texts.failed_by_message[event.message_id] = (item.occurred_at, event)
                if event.reminder_id is not None:
                    texts.failed_by_reminder[event.reminder_id] = (item.occurred_at, event)
        return history


def derive(
    patient_id: uuid.UUID,
    recorded: Sequence[RecordedEvent],
    config: ScheduleConfig,
    blocked: Callable[[str], str | None],
) -> list[PlannedReminder]:
    """Every reminder this patient's history calls for, with its state and reason.

    The one input from outside the stream is `blocked`, the number-level block list (opt-outs
    by keyword or at the carrier, holds for review), which the dispatcher checks again right
    before it hands a text over (I8).
    """
    state = fold(patient_id, recorded)
    if not state.registered:
        return []
    plan = _Plan(
        state,
        _History.read(recorded),
        config,
        zone=patient_timezone(state, config.clinic_timezone),
        number_block=blocked(state.phone) if state.phone else None,
    )
    planned = [
        row
        for appointment in state.appointments.values()
        for row in (*plan.reminders(appointment), *plan.survey(appointment))
    ]
    return sorted(planned, key=lambda r: (r.due_at, str(r.reminder_id)))


@dataclass(frozen=True, slots=True)
class _Plan:
    """One patient's reminders, planned from their state and history."""

    state: PatientState
    history: _History
    config: ScheduleConfig
    zone: str
    number_block: str | None

    def reminders(self, appointment: AppointmentState) -> list[PlannedReminder]:
        """A row per offset for the visit's current time, and for each earlier time the rows
        a text was already recorded for."""
        current = appointment.starts_at
        texts = self.history.texts
        starts = [*self.history.earlier.get(appointment.appointment_id, []), current]
        rows: list[PlannedReminder] = []
        for starts_at in dict.fromkeys(starts):
            for offset in _offsets_seen(self.config, appointment, starts_at, texts):
                rid = reminder_id(appointment.appointment_id, offset, starts_at)
                if (
                    starts_at != current
                    and rid not in texts.sent
                    and (rid not in texts.failed_by_reminder)
                ):
                    continue  # a reminder for an earlier time that never went: moved
                at = starts_at - dt.timedelta(hours=offset)
                rows.append(self._row(appointment, rid, "reminder", offset, starts_at, at))
        return rows

    def survey(self, appointment: AppointmentState) -> list[PlannedReminder]:
        """The satisfaction survey after a visit that took place, when the clinic sends one."""
        completed = self.history.completed_at.get(appointment.appointment_id)
        if not self.config.satisfaction or completed is None:
            return []
        if appointment.appointment_id in self.history.imported_completions:
            return []  # a visit the EHR import recorded as over: history asks nothing
        at = completed + self.config.satisfaction_delay
        rid = satisfaction_id(appointment.appointment_id)
        return [self._row(appointment, rid, "satisfaction", None, appointment.starts_at, at)]

    def _row(
        self,
        appointment: AppointmentState,
        rid: uuid.UUID,
        kind: str,
        offset: int | None,
        starts_at: dt.datetime,
        at: dt.datetime,
    ) -> PlannedReminder:
        row = PlannedReminder(
            reminder_id=rid,
            patient_id=self.state.patient_id,
            appointment_id=appointment.appointment_id,
            kind=kind,
            offset_hours=offset,
            appointment_starts_at=starts_at,
            planned_at=at,
            due_at=next_allowed(at, self.zone, self.config.window),
            timezone=self.zone,
            phone=self.state.phone,
            language=self.state.language,
        )
        history = self.history
        if not _handed_over(row, history.texts):
            _held(row, self.state, appointment, self.number_block, self.config, history)
        return row


def _offsets_seen(
    config: ScheduleConfig, appointment: AppointmentState, starts_at: dt.datetime, texts: _Texts
) -> list[int]:
    """The offsets this kind of visit gets now, plus any configured offset a text was
    already recorded for (after a settings change, a sent reminder still shows)."""
    offsets = list(config.offsets_for(appointment))
    recorded = set(texts.sent) | set(texts.failed_by_reminder)
    if recorded:
        for hours in config.all_offsets():
            if hours not in offsets and (
                reminder_id(appointment.appointment_id, hours, starts_at) in recorded
            ):
                offsets.append(hours)
    return offsets


def _reply(row: PlannedReminder, texts: _Texts) -> None:
    """The patient's answer to a text that went out: the first text back from its number
    before the next reminder, and (for a visit's reminder) before the visit began."""
    answer = texts.replies.get(row.reminder_id)
    if answer is None:
        return
    at, received = answer
    if row.kind == "reminder" and at >= row.appointment_starts_at:
        return
    row.reply_intent = received.intent.value or ev.SmsIntent.FREE_TEXT.value
    row.reply_text, row.replied_at = received.body, at


_CLOSED = {
    AppointmentStatus.CANCELLED: "The appointment was cancelled.",
    AppointmentStatus.COMPLETED: "The appointment took place.",
    AppointmentStatus.NO_SHOW: "The appointment was marked as a no-show.",
}


def _handed_over(row: PlannedReminder, texts: _Texts) -> bool:
    """Give a row the stream recorded a text for its state: sent (then delivered, failed,
    answered), or refused by the provider. False when no text was recorded for it."""
    sent = texts.sent.get(row.reminder_id)
    if sent is not None:
        # Handed over: the patient has the text, so it stays sent (then delivered, failed,
        # answered) whatever became of the visit since; never "cancelled" afterwards.
        row.message_id, row.sent_at = sent
        row.state = SENT
        delivered = texts.delivered.get(row.message_id)
        failed = texts.failed_by_message.get(row.message_id)
        if delivered is not None:
            row.state, row.delivered_at = DELIVERED, delivered
        elif failed is not None:
            row.state, row.failed_at = FAILED, failed[0]
            row.error_code = failed[1].error_code
            row.reason = f"Not delivered: {failed[1].error_message} ({failed[1].error_code})."
        _reply(row, texts)
        return True
    refused = texts.failed_by_reminder.get(row.reminder_id)
    if refused is not None:
        at, failure = refused
        row.state, row.failed_at, row.message_id = FAILED, at, failure.message_id
        row.error_code = failure.error_code
        row.reason = f"The SMS provider refused it: {failure.error_message} ({failure.error_code})."
        return True
    return False


def _held(
    row: PlannedReminder,
    state: PatientState,
    appointment: AppointmentState,
    number_block: str | None,
    config: ScheduleConfig,
    history: _History,
) -> None:
    """Give a row not (or not yet) sent its state, and the reason it is held back, dropped,
    or moved out of quiet hours."""
    is_survey = row.kind == "satisfaction"
    purpose = ev.ConsentPurpose.SURVEYS if is_survey else ev.ConsentPurpose.APPOINTMENT_REMINDERS
    if not is_survey and appointment.status is not AppointmentStatus.SCHEDULED:
        row.state, row.reason = CANCELLED, _CLOSED[appointment.status]
    elif state.merged_into is not None:
        row.state = CANCELLED
        row.reason = f"This record was merged into patient {state.merged_into}."
    elif state.deceased:
        row.state, row.reason = CANCELLED, "The patient is recorded as deceased."
    elif not state.phone:
        row.state, row.reason = BLOCKED, "No mobile number on file."
    elif not state.has_consent(ev.Channel.SMS, purpose):
        row.state, row.reason = BLOCKED, _consent_reason(state, purpose, row.timezone)
    elif number_block:
        row.state, row.reason = BLOCKED, number_block
    elif not is_survey and row.due_at >= row.appointment_starts_at:
        row.state = DROPPED
        row.reason = (
            f"Quiet hours: the first allowed time, {local_text(row.due_at, row.timezone)}, "
            "is not before the appointment."
        )
    elif not is_survey and row.planned_at < history.imported_at.get(
        row.appointment_id, row.planned_at
    ):
        row.state = DROPPED
        row.reason = "Imported from the EHR after this reminder's time: no text after the fact."
    elif not is_survey and row.planned_at < history.booked_at.get(
        row.appointment_id, row.planned_at
    ):
        row.state = DROPPED
        row.reason = (
            f"The appointment was booked or moved less than {row.offset_hours} hours ahead."
        )
    elif row.due_at != row.planned_at:
        window = f"{config.window[0]:%H:%M}-{config.window[1]:%H:%M}"
        row.reason = (
            f"Moved out of quiet hours (texts go out {window} local time) from "
            f"{local_text(row.planned_at, row.timezone)}."
        )


def _consent_reason(state: PatientState, purpose: ev.ConsentPurpose, zone: str) -> str:
    wording = (
        "appointment reminders"
        if purpose is ev.ConsentPurpose.APPOINTMENT_REMINDERS
        else ("surveys")
    )
    consent = state.consents.get(consent_key(ev.Channel.SMS, purpose))
    if consent is None:
        return f"No SMS consent for {wording}."
    source = {
        "sms_keyword": " by texting STOP",
        "carrier": " at the carrier (the number is unsubscribed)",
    }.get(consent.source, "")
    return f"SMS consent for {wording} was withdrawn{source} on {local_text(consent.at, zone)}."
