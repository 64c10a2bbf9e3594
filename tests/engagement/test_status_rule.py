"""The queue's status rule read two ways, for a row in hand and as a query, gives one answer."""

from __future__ import annotations

import datetime as dt
import itertools
import uuid

import pytest
from django.utils import timezone

from engagement.domain.suggestions import Status
from engagement.models import Suggestion
from engagement.screens import SCREEN_POP_LIMIT, open_suggestions
from engagement.selectors import ACTIONABLE, status_at, with_status

pytestmark = pytest.mark.django_db

NOW = timezone.now().replace(microsecond=0)
MOMENTS = (None, NOW - dt.timedelta(minutes=5), NOW, NOW + dt.timedelta(minutes=5))


def test_every_row_reads_the_same_in_python_and_in_the_query():
    rows = []
    combinations = itertools.product([status.value for status in Status], MOMENTS, MOMENTS)
    for number, (status, claimed_until, snoozed_until) in enumerate(combinations):
        rows.append(
            Suggestion(
                suggestion_id=f"callback.rule-{number}",
                patient_id="00000000-0000-4000-8000-000000000001",
                kind="callback",
                priority=1,
                status=status,
                opened_at=NOW,
                due_at=NOW,
                reason="Missed call",
                claimed_until=claimed_until,
                snoozed_until=snoozed_until,
                evaluated_at=NOW,
            )
        )
    Suggestion.objects.bulk_create(rows)

    for status in Status:
        queried = set(
            with_status(Suggestion.objects.all(), [status.value], NOW).values_list(
                "suggestion_id", flat=True
            )
        )
        in_hand = {row.suggestion_id for row in rows if status_at(row, NOW) == status.value}
        assert queried == in_hand, status


def test_the_screen_pops_compiled_rule_answers_as_the_queryset():
    # engagement.screens compiles `with_status` once with stand-in values; run with other
    # patients and other moments it must pick and order the rows as the QuerySet does.
    patients = [uuid.UUID(int=n, version=4) for n in (11, 12, 13)]
    combinations = itertools.product([status.value for status in Status], MOMENTS, MOMENTS)
    Suggestion.objects.bulk_create(
        Suggestion(
            suggestion_id=f"callback.compiled-{number}",
            patient_id=patients[number % len(patients)],
            kind="callback",
            priority=number % 3,
            status=status,
            opened_at=NOW,
            due_at=NOW + dt.timedelta(minutes=number % 7),
            reason="Missed call",
            claimed_until=claimed_until,
            snoozed_until=snoozed_until,
            evaluated_at=NOW,
        )
        for number, (status, claimed_until, snoozed_until) in enumerate(combinations)
    )
    for now, asked in itertools.product(MOMENTS[1:], (patients[:1], patients[1:], patients)):
        queryset = with_status(Suggestion.objects.filter(patient_id__in=asked), ACTIONABLE, now)
        expected: dict[uuid.UUID, list[str]] = {}
        for row in queryset.order_by("patient_id", "priority", "due_at", "suggestion_id"):
            expected.setdefault(row.patient_id, []).append(row.suggestion_id)
        loaded = open_suggestions(asked, now)
        shown = {pid: ids[:SCREEN_POP_LIMIT] for pid, ids in expected.items()}
        assert {pid: [d["suggestion_id"] for d in docs] for pid, docs in loaded.items()} == shown
        assert expected, "each set of patients has actionable rows"
