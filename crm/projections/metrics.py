"""The `metrics` catch-up projection: the supervisor's figures, kept from the log.

Daily sums (calls by channel and direction, handle time, appointments, satisfaction) and
one row per logged call for what a sum cannot answer: repeat contacts on the same reason
and how long a caller waited before hanging up. Every row is a function of the events
alone (clinic days in TIME_ZONE), never of the clock or a threshold setting, so a rebuild
reproduces the live rows whatever the batch boundaries were (I5).
"""

from __future__ import annotations

import datetime as dt
import uuid
import zoneinfo
from collections import Counter, defaultdict
from collections.abc import Iterable, Sequence

from django.conf import settings
from django.db.models import F

from crm.domain import events as ev
from crm.domain.recorded import RecordedEvent
from crm.models import (
    DailyAppointmentStats,
    DailyCallStats,
    DailySatisfactionStats,
    LoggedCall,
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
_REASON_KEY_LENGTH = LoggedCall._meta.get_field("reason_key").max_length or 200

ChainKey = tuple[uuid.UUID, str]
DailySums = DailyCallStats | DailyAppointmentStats | DailySatisfactionStats


def reason_key(reason: str) -> str:
    """The reason as compared for repeat contacts: "Billing  question" == "billing question"."""
    return " ".join(reason.split()).casefold()[:_REASON_KEY_LENGTH]


class MetricsProjection(CatchUpProjection):
    name = "metrics"
    read_models = (DailyCallStats, DailyAppointmentStats, DailySatisfactionStats, LoggedCall)

    def handle(self, events: Sequence[RecordedEvent]) -> None:
        clinic = zoneinfo.ZoneInfo(settings.TIME_ZONE)
        calls: defaultdict[tuple[dt.date, ev.Channel, ev.CallDirection], Counter[str]] = (
            defaultdict(Counter)
        )
        visits: defaultdict[dt.date, Counter[str]] = defaultdict(Counter)
        satisfaction: defaultdict[dt.date, Counter[str]] = defaultdict(Counter)
        logged: list[LoggedCall] = []
        for recorded in events:
            event = recorded.event
            if isinstance(event, ev.CallLogged):
                day = event.started_at.astimezone(clinic).date()
                _count_call(calls[(day, event.channel, event.direction)], event)
                logged.append(_logged_call(recorded, event, day))
            elif isinstance(event, ev.SatisfactionRecorded):
                counts = satisfaction[recorded.occurred_at.astimezone(clinic).date()]
                counts["responses"] += 1
                counts["satisfied"] += int(event.score >= SATISFIED_FROM)
                counts["score_total"] += event.score
            elif (counter := _APPOINTMENT_COUNTERS.get(type(event))) is not None:
                visits[recorded.occurred_at.astimezone(clinic).date()][counter] += 1
        for (day, channel, direction), counts in sorted(calls.items()):
            row, _ = DailyCallStats.objects.get_or_create(
                day=day, channel=channel.value, direction=direction.value
            )
            _add(DailyCallStats, row.pk, counts)
        for day, counts in sorted(visits.items()):
            stats, _ = DailyAppointmentStats.objects.get_or_create(day=day)
            _add(DailyAppointmentStats, stats.pk, counts)
        for day, counts in sorted(satisfaction.items()):
            answers, _ = DailySatisfactionStats.objects.get_or_create(day=day)
            _add(DailySatisfactionStats, answers.pk, counts)
        _save_logged_calls(logged)


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


def _add(model: type[DailySums], pk: int, counts: Counter[str]) -> None:
    model.objects.filter(pk=pk).update(**{name: F(name) + value for name, value in counts.items()})


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
        reason_key=reason_key(event.reason),
    )


def _in_chain(call: LoggedCall) -> bool:
    return call.disposition == ev.CallDisposition.CONNECTED.value and bool(call.reason_key)


def _save_logged_calls(new: list[LoggedCall]) -> None:
    """Insert the batch's calls, linking each handled one to its neighbours on the same
    patient and reason by time (not by log order: a call can be logged late)."""
    chained = [call for call in new if _in_chain(call)]
    if chained:
        keys = {(call.patient_id, call.reason_key) for call in chained}
        earlier = [
            call
            for call in LoggedCall.objects.filter(
                patient_id__in={patient for patient, _ in keys},
                disposition=ev.CallDisposition.CONNECTED.value,
            ).exclude(reason_key="")
            if (call.patient_id, call.reason_key) in keys
        ]
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
