"""The events' own bounds: every text an event keeps fits the read-model column it lands
in, and a door that skips the API's serializers (a handler called by the admin, a job, an
import) is refused by the event's validation before anything is appended."""

from __future__ import annotations

import datetime as dt
import typing

import pytest
from django.db import models

from crm import handlers
from crm.domain import events as ev
from crm.domain.errors import InvalidInput
from crm.domain.events.base import bounds_of
from crm.handlers import Actor
from crm.models import Event, PatientProfile
from engagement.models import Suggestion
from reminders.models import Reminder, SmsNumber

DESK = Actor(name="frontdesk.one", channel="admin", role="front_desk")

# (event type, field) -> the columns it is written to.
LANDS_IN: dict[tuple[type[ev.DomainEvent], str], list[tuple[type[models.Model], str]]] = {
    (ev.PatientRegistered, "first_name"): [(PatientProfile, "first_name")],
    (ev.PatientRegistered, "last_name"): [(PatientProfile, "last_name")],
    (ev.PatientRegistered, "preferred_name"): [(PatientProfile, "preferred_name")],
    (ev.PatientRegistered, "email"): [(PatientProfile, "email")],
    (ev.PatientRegistered, "language"): [(PatientProfile, "language"), (Reminder, "language")],
    (ev.PatientRegistered, "timezone"): [(PatientProfile, "timezone"), (Reminder, "timezone")],
    (ev.PatientRegistered, "phone"): [
        (PatientProfile, "phone"),
        (Reminder, "phone"),
        (SmsNumber, "phone"),
    ],
    (ev.DemographicsChanged, "first_name"): [(PatientProfile, "first_name")],
    (ev.DemographicsChanged, "language"): [(PatientProfile, "language")],
    (ev.ContactDetailsChanged, "phone"): [(PatientProfile, "phone"), (SmsNumber, "phone")],
    (ev.ContactDetailsChanged, "email"): [(PatientProfile, "email")],
    (ev.ContactDetailsChanged, "timezone"): [(PatientProfile, "timezone")],
    (ev.ConsentRevoked, "phone"): [(SmsNumber, "phone")],
    (ev.SuggestionClaimed, "agent"): [(Suggestion, "assignee")],
    (ev.SuggestionClaimed, "suggestion_id"): [(Suggestion, "suggestion_id")],
    (ev.SuggestionClaimed, "kind"): [(Suggestion, "kind")],
    (ev.SuggestionCompleted, "suggestion_id"): [(Suggestion, "suggestion_id")],
    (ev.SuggestionDismissed, "kind"): [(Suggestion, "kind")],
    (ev.SuggestionSnoozed, "suggestion_id"): [(Suggestion, "suggestion_id")],
}


@pytest.mark.parametrize(("event_field", "columns"), list(LANDS_IN.items()), ids=lambda v: str(v))
def test_every_bounded_text_fits_the_columns_it_lands_in(event_field, columns):
    event_type, field = event_field
    hint = typing.get_type_hints(event_type, include_extras=True)[field]
    bounds = bounds_of(hint)

    assert bounds, f"{event_type.__name__}.{field} has no bound"
    for model, column in columns:
        assert max(b.max_length for b in bounds) <= model._meta.get_field(column).max_length


@pytest.mark.django_db
def test_a_name_longer_than_the_profile_holds_is_refused_at_the_handler():
    with pytest.raises(InvalidInput) as refused:
        handlers.patient_register(
            first_name="Rowan",
            last_name="x" * 201,
            date_of_birth=dt.date(1984, 5, 17),
            phone="(617) 555-0134",
            actor=DESK,
        )

    assert (refused.value.field, refused.value.detail) == (
        "last_name",
        "must be at most 200 characters.",
    )
    assert Event.objects.count() == 0


@pytest.mark.django_db
@pytest.mark.parametrize("text", ["before\x00after", "a lone \ud800 surrogate"])
def test_text_no_database_can_store_is_refused_at_the_handler(register, text):
    patient = register()
    before = Event.objects.filter(stream_id=patient).count()

    with pytest.raises(InvalidInput) as refused:
        handlers.note_add(patient_id=patient, text=text, actor=DESK)

    assert refused.value.field == "text"
    assert Event.objects.filter(stream_id=patient).count() == before


@pytest.mark.django_db
def test_a_call_logged_by_a_name_no_username_could_have_is_refused(register):
    patient = register()
    before = Event.objects.filter(stream_id=patient).count()

    with pytest.raises(InvalidInput) as refused:
        handlers.call_log(
            patient_id=patient,
            direction=ev.CallDirection.OUTBOUND,
            started_at=dt.datetime(2026, 11, 3, 9, 0, tzinfo=dt.UTC),
            duration_seconds=60,
            disposition=ev.CallDisposition.CONNECTED,
            actor=Actor(name="a" * 151, channel="job"),
        )

    assert refused.value.field == "agent"
    assert Event.objects.filter(stream_id=patient).count() == before
