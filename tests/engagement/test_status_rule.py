"""The queue's status rule read two ways, for a row in hand and as a query, gives one answer."""

from __future__ import annotations

import datetime as dt
import itertools

import pytest
from django.utils import timezone

from engagement.domain.suggestions import Status
from engagement.models import Suggestion
from engagement.selectors import status_at, with_status

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
