"""Whatever a clinic's day holds, a rebuild from the log gives the very rows the live
followers wrote (I5), and no follower had to park a stream of valid commands (I11).

Hypothesis writes the days (tests/crm/clinic_script.py); each example runs in its own
transaction, rolled back after it, so every day starts from an empty clinic.
"""

from __future__ import annotations

import datetime as dt
import json
from typing import Any
from unittest import mock

from django.db import models
from django.test import override_settings
from hypothesis import HealthCheck, given, settings
from hypothesis.extra.django import TestCase

from crm.handlers.base import kept_states
from crm.models import Event, ParkedStream, PatientProfile
from crm.projections import profile, runner
from engagement.projection import PROJECTION
from reminders.backends import locmem
from tests.crm.clinic_script import START, Player, Step, steps

# The moment the suggestions are evaluated at, live and in the rebuild alike: past the end
# of any day the script can write, so every rule has something to say.
EVALUATED_AT = START + dt.timedelta(days=200)


def read_models() -> list[type[models.Model]]:
    followers = [m for p in runner.registered().values() for m in p.read_models]
    return [PatientProfile, *followers]


def dump() -> dict[str, list[tuple[str, ...]]]:
    """Every row of every read model, without surrogate ids, in a stable order."""
    result = {}
    for model in read_models():
        fields = [
            f.name for f in model._meta.concrete_fields if not isinstance(f, models.AutoField)
        ]
        rows = model._default_manager.values_list(*fields)
        result[model.__name__] = sorted(tuple(_text(v) for v in row) for row in rows)
    return result


def _text(value: Any) -> str:
    if isinstance(value, dict | list):
        return json.dumps(value, sort_keys=True)
    return str(value)


@override_settings(
    SMS_BACKEND="locmem",
    REMINDERS_SEND_WINDOW=(dt.time(8), dt.time(21)),
    REMINDERS_SATISFACTION_ENABLED=True,
)
class AnyClinicDay(TestCase):
    @settings(
        max_examples=12,
        derandomize=True,
        database=None,
        deadline=None,
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
    )
    @given(script=steps(min_size=30, max_size=60))
    def test_the_rebuilt_read_models_hold_the_rows_the_live_followers_wrote(
        self, script: list[Step]
    ) -> None:
        kept_states.clear()  # states folded in a rolled-back example are not this day's
        PROJECTION.cache.clear()
        locmem.reset()
        with (
            mock.patch.object(PROJECTION, "clock", lambda: EVALUATED_AT),
            self.assertNoLogs("crm.projections", level="WARNING"),  # no batch failed either
        ):
            Player().play(script)
            runner.catch_up_all()
            live = dump()

            for projection in runner.registered().values():
                runner.rebuild(projection, batch_size=25)
            profile.rebuild(batch_size=3)
            rebuilt = dump()

        assert Event.objects.exists()
        assert list(ParkedStream.objects.values_list("projection", "error")) == []
        for name, rows in live.items():
            assert rebuilt[name] == rows, f"{name} differs after the rebuild"
