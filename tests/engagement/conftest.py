"""Fixtures for the suggestion queue: the projection's clock pinned to the test's `now`,
and a way to bring the queue up to date."""

from __future__ import annotations

import datetime as dt

import pytest

from crm.projections import runner
from engagement.models import Suggestion
from engagement.projection import PROJECTION
from tests.api.conftest import (  # noqa: F401  (API fixtures for the queue's tests)
    _answers_follow_the_schema,
    _fresh_throttle_counts,
    agent,
    client_for,
    clinician,
    desk,
    front_desk,
    make_user,
    patient,
    supervisor,
)


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch, now: dt.datetime):  # type: ignore[no-untyped-def]
    """The moment the projection evaluates at; tests move it with clock.set(...)."""

    class Clock:
        moment = now

        def set(self, moment: dt.datetime) -> None:
            self.moment = moment

    pinned = Clock()
    monkeypatch.setattr(PROJECTION, "clock", lambda: pinned.moment)
    return pinned


@pytest.fixture
def catch_up(clock):  # type: ignore[no-untyped-def]
    def run() -> int:
        return runner.catch_up(PROJECTION)

    return run


def rows(patient_id) -> dict[str, Suggestion]:  # type: ignore[no-untyped-def]
    return {s.suggestion_id: s for s in Suggestion.objects.filter(patient_id=patient_id)}


def of_kind(patient_id, kind: str) -> list[Suggestion]:  # type: ignore[no-untyped-def]
    return [s for s in rows(patient_id).values() if s.kind == kind]
