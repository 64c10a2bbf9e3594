"""Filters of the suggestion queue: kind, patient, status (as of now), assignee."""

from __future__ import annotations

from typing import Any

import django_filters
from django.db.models import QuerySet
from django.utils import timezone

from crm.api.filtersets import ChoiceInFilter
from engagement.domain.suggestions import Kind, Status
from engagement.models import Suggestion
from engagement.selectors import with_status


class SuggestionFilter(django_filters.FilterSet):
    kind = ChoiceInFilter(
        field_name="kind",
        lookup_expr="in",
        choices=[(k.value, k.value) for k in Kind],
        help_text="Only these kinds: kind=crisis_follow_up&kind=callback, or comma-separated "
        "(crisis_follow_up,callback).",
    )
    patient = django_filters.UUIDFilter(field_name="patient_id", help_text="One patient's.")
    status = ChoiceInFilter(
        method="filter_status",
        choices=[(s.value, s.value) for s in Status],
        help_text="Only these statuses as of now (a claim or a snooze that ran out counts "
        "as open): status=open&status=claimed, or comma-separated. Default: open and claimed.",
    )
    assignee = django_filters.CharFilter(
        method="filter_assignee", help_text="Claimed by this username (claims still holding)."
    )

    class Meta:
        model = Suggestion
        fields: list[str] = []

    def filter_status(
        self, queryset: QuerySet[Suggestion], name: str, value: list[str]
    ) -> QuerySet[Suggestion]:
        return with_status(queryset, value, timezone.now())

    def filter_assignee(
        self, queryset: QuerySet[Suggestion], name: str, value: Any
    ) -> QuerySet[Suggestion]:
        held = with_status(queryset, [Status.CLAIMED.value], timezone.now())
        return held.filter(assignee=value)
