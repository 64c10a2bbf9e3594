"""Query parameters of the reminder lists."""

from __future__ import annotations

import django_filters
from django.db.models import QuerySet

from crm.api.filtersets import AwareDateTimeFilter
from reminders.models import Reminder
from reminders.status import STATES


class ReminderFilter(django_filters.FilterSet):
    status = django_filters.ChoiceFilter(
        choices=[(s, s) for s in STATES],
        method="filter_status",
        help_text="Only reminders in this state (as shown in `state`).",
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
        self, queryset: QuerySet[Reminder], name: str, value: str
    ) -> QuerySet[Reminder]:
        # `current_state` is annotated by the views (reminders.status.state_expression).
        return queryset.filter(**{"current_state": value})


class PatientReminderFilter(ReminderFilter):
    patient = None  # type: ignore[assignment]
