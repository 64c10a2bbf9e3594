"""The `metrics` catch-up projection: daily sums, one row per logged call and one per appointment,
each a function of the events alone (no clock, no threshold), so a rebuild gives the same (I5)."""

from __future__ import annotations

import datetime as dt
import uuid
import zoneinfo
from collections import Counter, defaultdict
from collections.abc import Iterable, Sequence
from typing import Any

from django.conf import settings
from django.db.models import F, Q

from crm.domain import events as ev
from crm.domain import times
from crm.domain.recorded import RecordedEvent
from crm.models import (
    DailyAppointmentStats,
    DailyCallStats,
    DailyReminderStats,
    DailySatisfactionStats,
    LoggedCall,
    RemindedAppointment,
)
from crm.projections.runner import CatchUpProjection

_UNANSWERED = {
    ev.CallDisposition.VOICEMAIL,
    ev.CallDisposition.NO_ANSWER,
    ev.CallDisposition.BUSY,
    ev.CallDisposition.MISSED,
}
_APPOINTMENT_COUNTERS: dict[type[ev.DomainEvent], str] = {
    ev.AppointmentScheduled: "scheduled",
    ev.AppointmentRescheduled: "rescheduled",
    ev.AppointmentConfirmed: "confirmed",
    ev.AppointmentCancelled: "cancelled",
    ev.AppointmentCompleted: "completed",
    ev.AppointmentNoShowRecorded: "no_shows",
}
# Scores of 4 and 5 out of 5 count as satisfied (the usual CSAT "top two boxes").
SATISFIED_FROM = 4
# Consent withdrawn by text rather than by a person: what the opt-out rate counts.
_OPT_OUT_COUNTERS = {
    ev.ConsentSource.SMS_KEYWORD: "opt_outs_by_keyword",
    ev.ConsentSource.CARRIER: "opt_outs_by_carrier",
}
_FOLLOWED = (
    ev.AppointmentScheduled,
    ev.AppointmentRescheduled,
    ev.AppointmentConfirmed,
    ev.AppointmentCancelled,
    ev.AppointmentCompleted,
    ev.AppointmentNoShowRecorded,
)
ChainKey = tuple[uuid.UUID, str]
DailySums = DailyCallStats | DailyAppointmentStats | DailySatisfactionStats | DailyReminderStats


class MetricsProjection(CatchUpProjection):
    name = "metrics"
    read_models = (
        DailyCallStats,
        DailyAppointmentStats,
        DailySatisfactionStats,
        LoggedCall,
        DailyReminderStats,
        RemindedAppointment,
    )

    def handle(self, events: Sequence[RecordedEvent]) -> None:
        clinic = zoneinfo.ZoneInfo(settings.TIME_ZONE)
        calls: defaultdict[tuple[dt.date, ev.Channel, ev.CallDirection], Counter[str]] = (
            defaultdict(Counter)
        )
        visits: defaultdict[dt.date, Counter[str]] = defaultdict(Counter)
        satisfaction: defaultdict[dt.date, Counter[str]] = defaultdict(Counter)
        texts: defaultdict[dt.date, Counter[str]] = defaultdict(Counter)
        logged: list[LoggedCall] = []
        wrapped: list[RecordedEvent] = []
        for recorded in events:
            event = recorded.event
            if isinstance(event, ev.CallLogged):
                day = _day(event.started_at, clinic)
                _count_call(calls[(day, event.channel, event.direction)], event)
                logged.append(_logged_call(recorded, event, day))
            elif isinstance(event, ev.CallWrappedUp):
                wrapped.append(recorded)
            elif isinstance(event, ev.SatisfactionRecorded):
                counts = satisfaction[_day(recorded.occurred_at, clinic)]
                counts["responses"] += 1
                counts["satisfied"] += int(event.score >= SATISFIED_FROM)
                counts["score_total"] += event.score
            elif isinstance(event, ev.SmsSent) and event.reminder_id is not None:
                texts[_day(recorded.occurred_at, clinic)]["reminders_sent"] += 1
            elif isinstance(event, ev.ConsentRevoked) and _opted_out_by_text(event):
                day = _day(recorded.occurred_at, clinic)
                texts[day][_OPT_OUT_COUNTERS[event.source]] += 1
            elif (counter := _APPOINTMENT_COUNTERS.get(type(event))) is not None:
                visits[_day(recorded.occurred_at, clinic)][counter] += 1
        for (day, channel, direction), counts in sorted(calls.items()):
            _add(DailyCallStats, counts, day=day, channel=channel.value, direction=direction.value)
        for model, by_day in (
            (DailyAppointmentStats, visits),
            (DailySatisfactionStats, satisfaction),
            (DailyReminderStats, texts),
        ):
            for day, counts in sorted(by_day.items()):
                _add(model, counts, day=day)
        _save_logged_calls(logged)
        _apply_wrap_ups(wrapped)
        _follow_appointments(events, clinic)


def _day(moment: dt.datetime, clinic: zoneinfo.ZoneInfo) -> dt.date:
    """The clinic's day of `moment`; a time stored at the calendar's edge counts as is."""
    return times.in_zone(moment, clinic).date()


def _count_call(counts: Counter[str], event: ev.CallLogged) -> None:
    counts["calls"] += 1
    if event.disposition is ev.CallDisposition.CONNECTED:
        counts["connected"] += 1
        counts["talk_seconds"] += event.duration_seconds - event.hold_seconds
        counts["hold_seconds"] += event.hold_seconds
        counts["wrap_up_seconds"] += event.wrap_up_seconds
    elif event.disposition is ev.CallDisposition.ABANDONED:
        counts["abandoned"] += 1
    elif event.disposition in _UNANSWERED:
        counts["unanswered"] += 1
    if event.resolved_first_contact:
        counts["resolved_first_contact"] += 1


def _opted_out_by_text(event: ev.ConsentRevoked) -> bool:
    return event.channel is ev.Channel.SMS and event.source in _OPT_OUT_COUNTERS


def _add(model: type[DailySums], counts: Counter[str], **key: Any) -> None:
    """Add `counts` to the row of `key`, created at zero if this is its first event."""
    row, _ = model.objects.get_or_create(**key)
    model.objects.filter(pk=row.pk).update(
        **{name: F(name) + value for name, value in counts.items()}
    )


def _logged_call(recorded: RecordedEvent, event: ev.CallLogged, day: dt.date) -> LoggedCall:
    return LoggedCall(
        position=recorded.position,
        patient_id=recorded.stream_id,
        day=day,
        started_at=event.started_at,
        channel=event.channel.value,
        direction=event.direction.value,
        disposition=event.disposition.value,
        duration_seconds=event.duration_seconds,
        # The code of the clinic's list, as recorded: two calls are on the same reason when
        # their codes are equal, whatever words the agents used.
        reason_key=event.reason_code,
        resolved_first_contact=event.resolved_first_contact,
        call_id=event.call_id,
        wrap_up_seconds=event.wrap_up_seconds,
    )


def _apply_wrap_ups(wrapped: Sequence[RecordedEvent]) -> None:
    """A wrap-up completes its logged call: the row takes its reason, resolution and wrap-up
    time, the day's sums move by the difference, and both reasons' chains are relinked."""
    if not wrapped:
        return
    rows = {
        (row.patient_id, row.call_id): row
        for row in LoggedCall.objects.filter(
            call_id__in={r.event.call_id for r in wrapped if isinstance(r.event, ev.CallWrappedUp)}
        )
    }
    relink: set[ChainKey] = set()
    for recorded in wrapped:
        event = recorded.event
        assert isinstance(event, ev.CallWrappedUp)
        row = rows.get((recorded.stream_id, event.call_id))
        if row is None:  # the decision refuses a wrap-up without its call: nothing to complete
            continue
        counts: Counter[str] = Counter()
        counts["resolved_first_contact"] = int(event.resolved_first_contact) - int(
            row.resolved_first_contact
        )
        if row.disposition == ev.CallDisposition.CONNECTED.value:
            counts["wrap_up_seconds"] = event.wrap_up_seconds - row.wrap_up_seconds
        if any(counts.values()):
            key = {"day": row.day, "channel": row.channel, "direction": row.direction}
            _add(DailyCallStats, counts, **key)
        relink |= {(row.patient_id, row.reason_key), (row.patient_id, event.reason_code)}
        row.reason_key = event.reason_code
        row.resolved_first_contact = event.resolved_first_contact
        row.wrap_up_seconds = event.wrap_up_seconds
    LoggedCall.objects.bulk_update(
        rows.values(), ["reason_key", "resolved_first_contact", "wrap_up_seconds"], batch_size=500
    )
    keys = {(patient, reason) for patient, reason in relink if reason}
    if keys:
        stored = _stored_chains(keys)
        for call in stored:  # a call that left a chain keeps no gap to it
            call.previous_gap_seconds = call.next_gap_seconds = None
        _link(chains=_group(stored), stored=set())
        LoggedCall.objects.bulk_update(
            stored, ["previous_gap_seconds", "next_gap_seconds"], batch_size=500
        )
        LoggedCall.objects.filter(
            patient_id__in={patient for patient, _ in relink},
            call_id__in={r.event.call_id for r in wrapped if isinstance(r.event, ev.CallWrappedUp)},
        ).exclude(pk__in=[call.pk for call in stored]).update(
            previous_gap_seconds=None, next_gap_seconds=None
        )


def _stored_chains(keys: set[tuple[uuid.UUID, str]]) -> list[LoggedCall]:
    """The stored handled calls of these (patient, reason) pairs: the chains a call links into."""
    return [
        call
        for call in LoggedCall.objects.filter(
            patient_id__in={patient for patient, _ in keys},
            disposition=ev.CallDisposition.CONNECTED.value,
        ).exclude(reason_key="")
        if (call.patient_id, call.reason_key) in keys
    ]


def _in_chain(call: LoggedCall) -> bool:
    return call.disposition == ev.CallDisposition.CONNECTED.value and bool(call.reason_key)


def _save_logged_calls(new: list[LoggedCall]) -> None:
    """Insert the batch's calls, linking each handled one to its neighbours on the same
    patient and reason by time (not by log order: a call can be logged late)."""
    chained = [call for call in new if _in_chain(call)]
    if chained:
        keys = {(call.patient_id, call.reason_key) for call in chained}
        earlier = _stored_chains(keys)
        changed = _link(chains=_group([*earlier, *chained]), stored={c.pk for c in earlier})
        LoggedCall.objects.bulk_update(
            changed, ["previous_gap_seconds", "next_gap_seconds"], batch_size=500
        )
    LoggedCall.objects.bulk_create(new, batch_size=500)


def _group(calls: Iterable[LoggedCall]) -> dict[ChainKey, list[LoggedCall]]:
    chains: defaultdict[ChainKey, list[LoggedCall]] = defaultdict(list)
    for call in calls:
        chains[(call.patient_id, call.reason_key)].append(call)
    return chains


def _link(*, chains: dict[ChainKey, list[LoggedCall]], stored: set[int]) -> list[LoggedCall]:
    """Set every call's gaps to its neighbours; return the stored calls whose gaps moved."""
    changed: list[LoggedCall] = []
    for chain in chains.values():
        chain.sort(key=lambda call: (call.started_at, call.position))
        for index, call in enumerate(chain):
            before = chain[index - 1] if index else None
            after = chain[index + 1] if index + 1 < len(chain) else None
            gaps = (
                None if before is None else _seconds(call.started_at - before.started_at),
                None if after is None else _seconds(after.started_at - call.started_at),
            )
            if gaps != (call.previous_gap_seconds, call.next_gap_seconds):
                call.previous_gap_seconds, call.next_gap_seconds = gaps
                if call.position in stored:
                    changed.append(call)
    return changed


def _seconds(delta: dt.timedelta) -> int:
    return int(delta.total_seconds())


# --- reminders and confirmations by text -----------------------------------------------


def _follow_appointments(events: Sequence[RecordedEvent], clinic: zoneinfo.ZoneInfo) -> None:
    """Keep one row per appointment: its start, whether it is still open, when its first
    reminder text went out and whether the patient confirmed by text after that. Applied
    in log order in memory, then saved, so a rebuild in any batch size writes the same."""
    followed = [
        recorded
        for recorded in events
        if isinstance(recorded.event, _FOLLOWED)
        or (isinstance(recorded.event, ev.SmsSent) and recorded.event.reminder_id is not None)
    ]
    if not followed:
        return
    named = {
        recorded.event.appointment_id
        for recorded in followed
        if isinstance(recorded.event, (*_FOLLOWED, ev.SmsSent))
        and recorded.event.appointment_id is not None
    }
    # Patients whose texts name no visit: their open visits are the candidates.
    texted = {
        r.stream_id
        for r in followed
        if isinstance(r.event, ev.SmsSent) and r.event.appointment_id is None
    }
    rows = {
        row.appointment_id: row
        for row in RemindedAppointment.objects.filter(
            Q(appointment_id__in=named) | Q(patient_id__in=texted, is_open=True)
        )
    }
    created: dict[uuid.UUID, RemindedAppointment] = {}
    changed: set[uuid.UUID] = set()
    for recorded in followed:
        event = recorded.event
        if isinstance(event, ev.SmsSent):
            row = (
                rows.get(event.appointment_id)
                if event.appointment_id is not None
                # Texts recorded before they named their visit: the soonest open one.
                else _reminded(rows.values(), recorded.stream_id, recorded.occurred_at)
            )
            if row is not None and row.first_reminder_at is None:
                row.first_reminder_at = recorded.occurred_at
                row.reminded_day = _day(recorded.occurred_at, clinic)
                changed.add(row.appointment_id)
            continue
        assert isinstance(event, _FOLLOWED)
        if isinstance(event, ev.AppointmentScheduled):
            row = RemindedAppointment(
                appointment_id=event.appointment_id,
                patient_id=recorded.stream_id,
                starts_at=event.starts_at,
            )
            rows[row.appointment_id] = created[row.appointment_id] = row
            continue
        found = rows.get(event.appointment_id)
        if found is None:  # booked before the metrics followed appointments: nothing to say
            continue
        if isinstance(event, ev.AppointmentRescheduled):
            found.starts_at = event.starts_at
        elif isinstance(event, ev.AppointmentConfirmed):
            if (
                event.via is ev.Channel.SMS
                and found.first_reminder_at is not None
                and found.confirmed_by_text_at is None
            ):
                found.confirmed_by_text_at = recorded.occurred_at
        else:
            found.is_open = False
        changed.add(found.appointment_id)
    RemindedAppointment.objects.bulk_create(created.values(), batch_size=500)
    RemindedAppointment.objects.bulk_update(
        [rows[key] for key in sorted(changed - set(created))],
        ["starts_at", "is_open", "first_reminder_at", "reminded_day", "confirmed_by_text_at"],
        batch_size=500,
    )


def _reminded(
    rows: Iterable[RemindedAppointment], patient_id: uuid.UUID, sent_at: dt.datetime
) -> RemindedAppointment | None:
    """The visit a reminder sent at `sent_at` is about: the patient's soonest open one after."""
    ahead = [
        row
        for row in rows
        if row.patient_id == patient_id and row.is_open and row.starts_at > sent_at
    ]
    return min(ahead, key=lambda row: (row.starts_at, str(row.appointment_id)), default=None)
