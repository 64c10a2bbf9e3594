"""Query parameters of the reminder lists."""

from __future__ import annotations

import datetime as dt

import django_filters
from django.db.models import Q, QuerySet
from django.utils import timezone

from crm.api.filtersets import AwareDateTimeFilter, ChoiceInFilter
from reminders.models import Reminder
from reminders.selectors import STATES

# States of a reminder that has not gone yet, whatever its due time says (the dispatcher
# may be a moment behind it, or holding it for quiet hours or the daily cap).
STILL_TO_GO = ("scheduled", "held", "retrying", "sending")
UPCOMING, PAST, ALL = "upcoming", "past", "all"


def upcoming(now: dt.datetime) -> Q:
    """Due from now on, or due already but still to go."""
    # `current_state` is annotated by the views (reminders.selectors.state_expression).
    return Q(due_at__gte=now) | Q(**{"current_state__in": STILL_TO_GO})


class ReminderFilter(django_filters.FilterSet):
    when = django_filters.ChoiceFilter(
        choices=[(UPCOMING, UPCOMING), (PAST, PAST), (ALL, ALL)],
        method="filter_when",
        help_text="upcoming: due from now on, or due already but not gone yet; past: the "
        "history (due before now and sent, delivered, failed, blocked, dropped or "
        "cancelled); all.",
    )
    status = ChoiceInFilter(
        choices=[(s, s) for s in STATES],
        method="filter_status",
        help_text="Only reminders in these states (as shown in `state`): status=sent&"
        "status=delivered, or comma-separated.",
    )
    due_before = AwareDateTimeFilter(
        field_name="due_at", lookup_expr="lt", help_text="Due before this moment (with offset)."
    )
    due_after = AwareDateTimeFilter(
        field_name="due_at", lookup_expr="gte", help_text="Due at or after this moment."
    )
    patient = django_filters.UUIDFilter(field_name="patient_id", help_text="A patient id.")

    class Meta:
        model = Reminder
        fields: list[str] = []

    def filter_status(
        self, queryset: QuerySet[Reminder], name: str, value: list[str]
    ) -> QuerySet[Reminder]:
        # `current_state` is annotated by the views (reminders.selectors.state_expression).
        return queryset.filter(**{"current_state__in": value})

    def filter_when(
        self, queryset: QuerySet[Reminder], name: str, value: str
    ) -> QuerySet[Reminder]:
        if value == UPCOMING:
            return queryset.filter(upcoming(timezone.now()))
        if value == PAST:
            return queryset.exclude(upcoming(timezone.now()))
        return queryset


class PatientReminderFilter(ReminderFilter):
    patient = None  # type: ignore[assignment]
