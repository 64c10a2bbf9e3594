"""Churn per month and 12-month retention from the `churn` read models, evaluated as of `now` when
read (crm.domain.churn; docs/churn.md), for the dashboard and the metrics API alike."""

from __future__ import annotations

import datetime as dt
import uuid
import zoneinfo
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from typing import Any

from django.conf import settings

from crm.domain import churn
from crm.domain import events as ev
from crm.domain.languages import language_name
from crm.domain.vocabulary import label
from crm.models import ChurnAppointment, ChurnContact, ChurnPatient, Event
from crm.projections.churn import ChurnProjection
from crm.projections.runner import checkpoint_of

MONTHS = 12
PENDING_CAP = 1000


def churn_rules() -> churn.ChurnRules:
    """The definition's thresholds as the settings say (read per call: tests change them)."""
    return churn.ChurnRules.of(settings.CHURN_ACTIVE_MONTHS, settings.CHURN_LAPSE_DAYS)


@dataclass(slots=True)
class Counts:
    """One group's figures in a month: churn = lapsed / in_care_at_start, retention over
    the 12 months ending with the month = retained / retention_base."""

    in_care_at_start: int = 0
    lapsed: int = 0
    retention_base: int = 0
    retained: int = 0

    @property
    def churn_rate(self) -> float | None:
        return self.lapsed / self.in_care_at_start if self.in_care_at_start else None

    @property
    def retention_rate(self) -> float | None:
        return self.retained / self.retention_base if self.retention_base else None

    def add(self, other: Counts) -> None:
        self.in_care_at_start += other.in_care_at_start
        self.lapsed += other.lapsed
        self.retention_base += other.retention_base
        self.retained += other.retained

    def as_dict(self) -> dict[str, Any]:
        return {
            "in_care_at_start": self.in_care_at_start,
            "lapsed": self.lapsed,
            "churn_rate": self.churn_rate,
            "retention_base": self.retention_base,
            "retained": self.retained,
            "retention_rate": self.retention_rate,
        }


@dataclass(slots=True)
class ChurnMonth:
    month: dt.date  # its first day
    start: dt.datetime
    end: dt.datetime  # the next month's first moment, or now while the month runs
    partial: bool
    total: Counts = field(default_factory=Counts)
    left_out: Counter[str] = field(default_factory=Counter)  # at the month's start, by why
    by_visit_type: defaultdict[str, Counts] = field(default_factory=lambda: defaultdict(Counts))
    by_language: defaultdict[str, Counts] = field(default_factory=lambda: defaultdict(Counts))

    @property
    def label(self) -> str:
        return f"{self.month:%b %Y}"

    def as_dict(self) -> dict[str, Any]:
        return {
            "month": f"{self.month:%Y-%m}",
            "start": self.start.astimezone(dt.UTC).isoformat().replace("+00:00", "Z"),
            "end": self.end.astimezone(dt.UTC).isoformat().replace("+00:00", "Z"),
            "partial": self.partial,
            **self.total.as_dict(),
            "left_out": {why.value: self.left_out.get(why.value, 0) for why in churn.Exclusion},
            "by_visit_type": {k: v.as_dict() for k, v in sorted(self.by_visit_type.items())},
            "by_language": {k: v.as_dict() for k, v in sorted(self.by_language.items())},
        }


@dataclass(frozen=True, slots=True)
class Group:
    """A visit type or a language over the months: the churn counts added month by month,
    and the retention of the last month's 12-month window."""

    key: str
    label: str
    churn: Counts
    retention: Counts


@dataclass(frozen=True, slots=True)
class ChurnFigures:
    rules: churn.ChurnRules
    months: list[ChurnMonth]
    by_visit_type: list[Group]
    by_language: list[Group]
    pending_events: int

    @property
    def over_the_months(self) -> Counts:
        total = Counts()
        for month in self.months:
            total.add(Counts(month.total.in_care_at_start, month.total.lapsed))
        return total

    def as_dict(self) -> dict[str, Any]:
        return {
            "definition": definition(self.rules),
            "months": [month.as_dict() for month in self.months],
            "by_visit_type": [_group(g) for g in self.by_visit_type],
            "by_language": [_group(g) for g in self.by_language],
            "pending_events": self.pending_events,
        }


def definition(rules: churn.ChurnRules) -> dict[str, Any]:
    return {
        "active_months": rules.active_months,
        "lapse_days": dict(sorted(rules.lapse_days.items())),
        "other_lapse_days": rules.other_lapse_days,
        "caption": caption(rules),
    }


def caption(rules: churn.ChurnRules) -> str:
    """The definition in words, beside the chart and in the API."""
    named = ", ".join(
        f"{days} days after a {type_label(kind)}" for kind, days in sorted(rules.lapse_days.items())
    )
    return (
        f"In care: a completed visit in the last {rules.active_months} months. Lapsed: in "
        f"care, then no completed visit, nothing booked ahead and no reached contact (a "
        f"connected call, a text from the patient, a crisis contact) for "
        f"{named + ', ' if named else ''}{rules.other_lapse_days} days after any other visit "
        f"type, counted from the last of them; a patient whose last visit turns "
        f"{rules.active_months} months old leaves care then too. Churn: patients who lapsed "
        "in the month over those in care at its start. Retention: of those in care 12 months "
        "before the month's end, those still in care at its end. Deceased, merged and "
        "opted-out-of-everything patients are left out of both and counted apart."
    )


def type_label(kind: str) -> str:
    try:
        return label(ev.AppointmentType(kind))
    except ValueError:
        return kind.replace("_", " ")


def language_label(code: str) -> str:
    return language_name(code)


def _group(group: Group) -> dict[str, Any]:
    return {
        "key": group.key,
        "label": group.label,
        "in_care_at_start": group.churn.in_care_at_start,
        "lapsed": group.churn.lapsed,
        "churn_rate": group.churn.churn_rate,
        "retention_base": group.retention.retention_base,
        "retained": group.retention.retained,
        "retention_rate": group.retention.retention_rate,
    }


# --- reading the rows --------------------------------------------------------------------


@dataclass(slots=True)
class _Patient:
    language: str
    history: churn.CareHistory


def histories(
    *, since: dt.datetime | None = None, patient_ids: set[uuid.UUID] | None = None
) -> dict[uuid.UUID, _Patient]:
    """Each patient's care history from the read models: visits, bookings and contacts from
    `since` on (earlier ones cannot change who is in care after `since` plus the active
    period), merged records' care counted for the survivor."""
    patients = ChurnPatient.objects.all()
    appointments = ChurnAppointment.objects.all()
    contacts = ChurnContact.objects.all()
    if patient_ids is not None:
        patients = patients.filter(pk__in=patient_ids)
        appointments = appointments.filter(patient_id__in=patient_ids)
        contacts = contacts.filter(patient_id__in=patient_ids)
    if since is not None:
        appointments = appointments.filter(starts_at__gte=since)
        contacts = contacts.filter(at__gte=since)
    visits: defaultdict[uuid.UUID, list[churn.Visit]] = defaultdict(list)
    bookings: defaultdict[uuid.UUID, list[churn.Booking]] = defaultdict(list)
    for patient_id, kind, booked_at, starts_at, status, closed_at in appointments.values_list(
        "patient_id", "visit_type", "booked_at", "starts_at", "status", "closed_at"
    ).order_by():
        if status == "completed":
            visits[patient_id].append(churn.Visit(starts_at, kind))
        until = min(starts_at, closed_at) if status == "cancelled" and closed_at else starts_at
        bookings[patient_id].append(churn.Booking(booked_at, until))
    reached: defaultdict[uuid.UUID, list[dt.datetime]] = defaultdict(list)
    for patient_id, at in contacts.values_list("patient_id", "at").order_by():
        reached[patient_id].append(at)
    found = {}
    for row in patients.order_by():
        found[row.patient_id] = _Patient(
            language=row.language,
            history=churn.CareHistory(
                visits=visits.get(row.patient_id, ()),
                bookings=bookings.get(row.patient_id, ()),
                contacts=reached.get(row.patient_id, ()),
                deceased_at=row.deceased_at,
                merged_at=row.merged_at,
                opted_out=[
                    (_moment(start), _moment(end) if end else None) for start, end in row.opted_out
                ],
            ),
        )
    return found


def _moment(text: str) -> dt.datetime:
    return dt.datetime.fromisoformat(text)


# --- the figures ---------------------------------------------------------------------------


def churn_figures(
    *, end: dt.date, now: dt.datetime, rules: churn.ChurnRules | None = None
) -> ChurnFigures:
    """The 12 months up to `end`'s month (in the clinic's zone), as known at `now`."""
    rules = rules or churn_rules()
    clinic = zoneinfo.ZoneInfo(settings.TIME_ZONE)
    today = now.astimezone(clinic).date()
    last = min(end, today).replace(day=1)
    first = churn.add_months(dt.datetime.combine(last, dt.time(0)), -(MONTHS - 1)).date()
    months = [_month(day, clinic, now) for day in churn.month_starts(first, last)]
    # A retention window starts 11 months before its month; being in care then needs a
    # visit up to CHURN_ACTIVE_MONTHS before that.
    window_start = churn.add_months(months[0].start, -(MONTHS - 1))
    since = churn.add_months(window_start, -rules.active_months) - dt.timedelta(days=1)
    for patient in histories(since=since).values():
        _count(patient, rules, months)
    return ChurnFigures(
        rules=rules,
        months=months,
        by_visit_type=_groups(months, "by_visit_type", type_label),
        by_language=_groups(months, "by_language", language_label),
        pending_events=_pending_events(),
    )


def _month(first_day: dt.date, clinic: zoneinfo.ZoneInfo, now: dt.datetime) -> ChurnMonth:
    start = dt.datetime.combine(first_day, dt.time(0), tzinfo=clinic)
    following = (first_day + dt.timedelta(days=32)).replace(day=1)
    next_start = dt.datetime.combine(following, dt.time(0), tzinfo=clinic)
    # In UTC, like the rows: comparing moments of one zone is several times faster.
    return ChurnMonth(
        month=first_day,
        start=start.astimezone(dt.UTC),
        end=min(next_start, now).astimezone(dt.UTC),
        partial=now < next_start,
    )


def _count(patient: _Patient, rules: churn.ChurnRules, months: list[ChurnMonth]) -> None:
    history = patient.history
    spells = churn.spells(history, rules)
    for month in months:
        excluded = history.excluded_at(month.start)
        if excluded is not None:
            month.left_out[excluded.value] += 1
            continue
        spell, lapsed = churn.month_outcome(spells, history, churn.Month(month.start, month.end))
        window = churn.add_months(month.start, -(MONTHS - 1))
        counted, stayed = churn.retained(spells, history, window, month.end)
        if spell is None and not counted:
            continue
        counts = Counts(
            in_care_at_start=int(spell is not None),
            lapsed=int(lapsed),
            retention_base=int(counted),
            retained=int(stayed),
        )
        month.total.add(counts)
        # Grouped by the type of the last visit before the month (or before the retention
        # window, for someone counted there only): what the lapse period was counted from.
        since = month.start if spell is not None else window
        visit_type = _last_visit_type(history, since)
        month.by_visit_type[visit_type].add(counts)
        month.by_language[patient.language].add(counts)


def _last_visit_type(history: churn.CareHistory, moment: dt.datetime) -> str:
    last = None
    for visit in history.visits:
        if visit.at <= moment and (last is None or (visit.at, visit.visit_type) > last):
            last = (visit.at, visit.visit_type)
    return last[1] if last else "none"


def _groups(months: list[ChurnMonth], attribute: str, name: Any) -> list[Group]:
    keys = sorted({key for month in months for key in getattr(month, attribute)})
    groups = []
    for key in keys:
        added = Counts()
        for month in months:
            counts = getattr(month, attribute).get(key)
            if counts is not None:
                added.add(Counts(counts.in_care_at_start, counts.lapsed))
        latest = getattr(months[-1], attribute).get(key) or Counts()
        groups.append(Group(key=key, label=name(key), churn=added, retention=latest))
    return groups


def _pending_events() -> int:
    checkpoint = checkpoint_of(ChurnProjection.name)
    return Event.objects.filter(position__gt=checkpoint)[:PENDING_CAP].count()
