"""CHURN_LAPSE_DAYS from the environment: days by visit type with `other` for the rest, and a
value that cannot be read stops the start naming the variable and what is wrong."""

from __future__ import annotations

import pytest
from django.core.exceptions import ImproperlyConfigured

from config.env import env_days_by_type

DEFAULT = {"therapy": 90, "psychiatry": 90, "other": 180}


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        (None, DEFAULT),
        ("therapy=60,other=120", {"therapy": 60, "other": 120}),
        ("annual_wellness=400", {"annual_wellness": 400, "other": 180}),
        ("45", {"other": 45}),
    ],
)
def test_the_lapse_days_read_by_type(monkeypatch, raw, expected):
    if raw is None:
        monkeypatch.delenv("CHURN_LAPSE_DAYS", raising=False)
    else:
        monkeypatch.setenv("CHURN_LAPSE_DAYS", raw)
    assert env_days_by_type("CHURN_LAPSE_DAYS", DEFAULT) == expected


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        ("massage=90", "unknown type 'massage'; types are annual_wellness, follow_up"),
        ("therapy=0", "0 must be at least 1 day"),
        ("therapy=soon", "'soon' is not a whole number of days"),
        ("therapy", "write type=days pairs such as therapy=90,other=180"),
    ],
)
def test_a_lapse_days_setting_that_cannot_be_read_stops_the_start(monkeypatch, raw, message):
    monkeypatch.setenv("CHURN_LAPSE_DAYS", raw)
    with pytest.raises(ImproperlyConfigured, match="CHURN_LAPSE_DAYS=") as refused:
        env_days_by_type("CHURN_LAPSE_DAYS", DEFAULT)
    assert message in str(refused.value)
