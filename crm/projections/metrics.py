"""The `metrics` catch-up projection: daily call and appointment figures for supervisors."""

from __future__ import annotations

import datetime as dt
import zoneinfo
from collections import Counter, defaultdict
from collections.abc import Sequence

from django.conf import settings
from django.db.models import F

from crm.domain import events as ev
from crm.domain.recorded import RecordedEvent
from crm.models import DailyAppointmentStats, DailyCallStats
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


class MetricsProjection(CatchUpProjection):
    name = "metrics"
    read_models = (DailyCallStats, DailyAppointmentStats)

    def handle(self, events: Sequence[RecordedEvent]) -> None:
        clinic = zoneinfo.ZoneInfo(settings.TIME_ZONE)
        calls: defaultdict[tuple[dt.date, ev.Channel, ev.CallDirection], Counter[str]] = (
            defaultdict(Counter)
        )
        visits: defaultdict[dt.date, Counter[str]] = defaultdict(Counter)
        for recorded in events:
            event = recorded.event
            if isinstance(event, ev.CallLogged):
                key = (event.started_at.astimezone(clinic).date(), event.channel, event.direction)
                counts = calls[key]
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
            elif (counter := _APPOINTMENT_COUNTERS.get(type(event))) is not None:
                visits[recorded.occurred_at.astimezone(clinic).date()][counter] += 1
        for (day, channel, direction), counts in sorted(calls.items()):
            row, _ = DailyCallStats.objects.get_or_create(
                day=day, channel=channel.value, direction=direction.value
            )
            DailyCallStats.objects.filter(pk=row.pk).update(
                **{name: F(name) + value for name, value in counts.items()}
            )
        for day, counts in sorted(visits.items()):
            stats, _ = DailyAppointmentStats.objects.get_or_create(day=day)
            DailyAppointmentStats.objects.filter(pk=stats.pk).update(
                **{name: F(name) + value for name, value in counts.items()}
            )
