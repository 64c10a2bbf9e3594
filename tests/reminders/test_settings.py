"""A bad reminders setting stops the process at start, naming the variable."""

from __future__ import annotations

import datetime as dt

import pytest
from django.core.exceptions import ImproperlyConfigured

from reminders import conf


def test_offsets_read_as_hours_largest_first(monkeypatch):
    monkeypatch.setenv("REMINDERS_OFFSETS_HOURS", "24, 72,24")
    monkeypatch.setenv("REMINDERS_OFFSETS_BY_KIND", "therapy=48;psychiatry/telehealth=24,1;test=")

    assert conf.env_offsets("REMINDERS_OFFSETS_HOURS", "72,24") == (72, 24)
    assert conf.env_offsets_by_kind("REMINDERS_OFFSETS_BY_KIND") == {
        "therapy": (48,),
        "psychiatry/telehealth": (24, 1),
        "test": (),
    }


@pytest.mark.parametrize(
    ("name", "value", "reader"),
    [
        (
            "REMINDERS_OFFSETS_HOURS",
            "72,soon",
            lambda: conf.env_offsets("REMINDERS_OFFSETS_HOURS", ""),
        ),
        (
            "REMINDERS_OFFSETS_BY_KIND",
            "dentistry=24",
            lambda: conf.env_offsets_by_kind("REMINDERS_OFFSETS_BY_KIND"),
        ),
        (
            "REMINDERS_SEND_WINDOW",
            "21:00-08:00",
            lambda: conf.env_window("REMINDERS_SEND_WINDOW", ""),
        ),
        ("REMINDERS_SEND_WINDOW", "8-21", lambda: conf.env_window("REMINDERS_SEND_WINDOW", "")),
    ],
)
def test_a_bad_value_names_its_variable(monkeypatch, name, value, reader):
    monkeypatch.setenv(name, value)

    with pytest.raises(ImproperlyConfigured, match=name):
        reader()


def test_the_window_reads_as_two_local_times(monkeypatch):
    monkeypatch.setenv("REMINDERS_SEND_WINDOW", "09:30-20:00")

    assert conf.env_window("REMINDERS_SEND_WINDOW", "08:00-21:00") == (dt.time(9, 30), dt.time(20))


def test_a_clinic_name_that_hints_at_the_care_given_stops_the_start(monkeypatch):
    monkeypatch.setenv("CLINIC_SHORT_NAME", "Riverside Behavioral Health")

    with pytest.raises(ImproperlyConfigured, match=r"CLINIC_SHORT_NAME=.* says Behavioral"):
        conf.env_sms_safe_name("CLINIC_SHORT_NAME", "Harbor Clinic")
    monkeypatch.setenv("CLINIC_SHORT_NAME", "  Riverside   Health ")
    assert conf.env_sms_safe_name("CLINIC_SHORT_NAME", "Harbor Clinic") == "Riverside Health"
