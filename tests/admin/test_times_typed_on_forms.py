"""A time typed on a form means one moment, or the form says why it cannot."""

from __future__ import annotations

import datetime as dt

import pytest
from django.contrib.auth.models import AnonymousUser

from crm.admin.forms import ScheduleForm
from crm.models import PatientProfile

pytestmark = pytest.mark.django_db

BEFORE_THE_CHANGES = dt.datetime(2027, 1, 4, 15, 0, tzinfo=dt.UTC)


def booking(patient_id, day: str, time: str) -> ScheduleForm:
    profile = PatientProfile.objects.get(pk=patient_id)
    data = {
        "appointment_type": "follow_up",
        "modality": "in_person",
        "day": day,
        "time": time,
        "time_zone": "America/New_York",
        "duration_minutes": "30",
        "provider": "Dr. Sam Oakridge",
        "location": "Main Street Clinic",
        "expected_version": str(profile.version),
        "form_token": "5b0f3a52-9d0e-4a47-8c44-3f3f2bd1b7a1",
    }
    return ScheduleForm(data, patient=profile, user=AnonymousUser(), now=BEFORE_THE_CHANGES)


def test_an_hour_the_clocks_skip_is_refused_rather_than_guessed(patient):
    form = booking(patient(), "2027-03-14", "02:30")

    assert not form.is_valid()
    assert "does not exist on that day" in form.errors["time"][0]


def test_an_hour_the_clocks_repeat_is_refused_rather_than_guessed(patient):
    form = booking(patient(), "2027-11-07", "01:30")

    assert not form.is_valid()
    assert "happens twice on that day" in form.errors["time"][0]


def test_an_ordinary_hour_is_that_hour_on_the_clinic_wall_clock(patient):
    form = booking(patient(), "2027-03-15", "09:00")

    assert form.is_valid(), form.errors
    assert form.cleaned_data["starts_at"] == dt.datetime(2027, 3, 15, 13, 0, tzinfo=dt.UTC)
