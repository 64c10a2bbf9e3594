"""One wording of every event: crm.timeline describes each event type of the catalogue
with a title of its own, and every time it mentions is in the patient's zone, labelled,
with the clinic's clock beside it."""

from __future__ import annotations

import dataclasses
import datetime as dt
import enum
import re
import types
import typing
import uuid
import zoneinfo
from typing import Any

import pytest

from crm import timeline
from crm.domain import events as ev
from crm.domain.events.base import bounds_of

CHICAGO = zoneinfo.ZoneInfo("America/Chicago")
NEW_YORK = zoneinfo.ZoneInfo("America/New_York")
# Noon in Chicago, 1 PM at the clinic in New York.
NOON_IN_CHICAGO = dt.datetime(2026, 11, 17, 18, 0, tzinfo=dt.UTC)
SHOWN = "Tue Nov 17, 2026, 12:00 PM CST (clinic: 1:00 PM EST)"


def _value(hint: Any, name: str) -> Any:
    if typing.get_origin(hint) in (typing.Union, types.UnionType):
        (inner,) = [arg for arg in typing.get_args(hint) if arg is not type(None)]
        return _value(inner, name)
    if isinstance(hint, type) and issubclass(hint, enum.Enum):
        return next(iter(hint))
    return {
        str: f"{name} words",
        bool: True,
        int: 125,
        dt.datetime: NOON_IN_CHICAGO,
        dt.date: dt.date(2026, 11, 3),
        # The same id for the same field name: a confirmation names the booked visit.
        uuid.UUID: uuid.uuid5(uuid.NAMESPACE_URL, name),
    }[hint]


def _sample(cls: type[ev.DomainEvent]) -> ev.DomainEvent:
    hints = typing.get_type_hints(cls)
    shapes = typing.get_type_hints(cls, include_extras=True)
    values = {
        field.name: next(
            (bound.example for bound in bounds_of(shapes[field.name]) if bound.example), None
        )
        or _value(hints[field.name], field.name)
        for field in dataclasses.fields(cls)  # type: ignore[arg-type]
    }
    return cls(**values)


def _references() -> timeline.References:
    references = timeline.References()
    references.add(1, _sample(ev.AppointmentScheduled))
    references.add(2, _sample(ev.TestOrdered))
    return references


def _described(event: ev.DomainEvent, *, visible: bool = True) -> timeline.Description:
    return timeline.describe(
        event,
        version=9,
        zone=CHICAGO,
        clinic=NEW_YORK,
        references=_references(),
        restricted_visible=visible,
    )


def _without_clinic_times(text: str) -> str:
    return re.sub(r" \(clinic: [^)]*\)", "", text)


CATALOGUE = sorted(ev.registered_types())


def test_the_describer_knows_every_event_type_of_the_catalogue():
    assert set(ev.registered_types().values()) <= set(timeline.described_types())


@pytest.mark.parametrize("event_type", CATALOGUE)
def test_every_event_type_gets_a_title_of_its_own_and_times_in_the_patients_zone(event_type):
    event = _sample(ev.event_class(event_type))

    described = _described(event)

    assert described.kind and described.title.strip()
    # Specific: described by a writer of its own, saying more than the type's name.
    assert type(event) in set(timeline.described_types())
    assert described.title.replace(" ", "").lower() != event_type.lower() or described.detail
    text = f"{described.title} {described.detail}"
    for time in described.times:
        assert time.shown == SHOWN and time.at == NOON_IN_CHICAGO
        assert time.shown in text
    # No time in another zone's words: every clock in the text is Chicago's, labelled.
    outside = _without_clinic_times(text)
    assert not re.search(r"\b(EST|EDT|UTC|GMT)\b", outside), text
    assert outside.count(" CST") == len(described.times)


def test_no_two_event_types_read_alike():
    titles = {
        event_type: _described(_sample(ev.event_class(event_type))).title
        for event_type in CATALOGUE
    }

    assert len(set(titles.values())) == len(titles), titles


def test_a_visit_that_took_place_is_named_with_its_time():
    completed = _described(_sample(ev.AppointmentCompleted))

    assert completed.title == "Visit completed"
    assert completed.detail == f"annual wellness visit with provider words on {SHOWN}"
    assert [time.role for time in completed.times] == ["visit"]


def test_a_calls_duration_is_its_talk_time_with_the_hold_apart():
    call = ev.CallLogged(
        call_id=uuid.uuid4(),
        direction=ev.CallDirection.INBOUND,
        channel=ev.Channel.VOICE,
        agent="agent.cedar",
        started_at=NOON_IN_CHICAGO,
        duration_seconds=250,
        hold_seconds=10,
        disposition=ev.CallDisposition.CONNECTED,
        reason="Prescription refill question",
        resolved_first_contact=True,
    )

    described = _described(call)

    assert described.title == "Inbound call, connected: Prescription refill question"
    assert described.detail == (
        "by agent.cedar, talk 4 min 00 s, hold 10 s, resolved on first contact"
    )
    assert described.sentence == (
        "Inbound call, connected: Prescription refill question; by agent.cedar, talk 4 min "
        "00 s, hold 10 s, resolved on first contact"
    )


def test_a_text_that_failed_for_good_reads_as_not_delivered():
    failed = ev.SmsFailed(
        message_id=uuid.uuid4(), error_code="30006", error_message="Landline", permanent=True
    )

    assert _described(failed).title == "Text not delivered (will not be retried)"


def test_a_restricted_notes_text_is_a_part_only_for_a_reader_who_may_see_it():
    note = ev.NoteAdded(
        note_id=uuid.uuid4(), text="Discussed side effects.", author="lee", restricted=True
    )

    hidden, shown = _described(note, visible=False), _described(note, visible=True)

    assert hidden.restricted and shown.restricted
    assert hidden.detail == "" and "side effects" not in hidden.sentence
    assert shown.detail == "Discussed side effects."
    assert hidden.title == shown.title == "Restricted note (clinicians only) by lee"


def test_a_crisis_contact_without_handoff_or_plan_says_both():
    crisis = ev.CrisisContactRecorded(
        crisis_id=uuid.uuid4(),
        risk_level=ev.RiskLevel.LOW,
        handoff=ev.CrisisHandoff.NONE,
        safety_plan=ev.SafetyPlan.NONE,
        agent="crisis.jo",
    )

    described = _described(crisis)

    assert described.title == "Crisis contact: low risk, no handoff"
    assert described.detail == "No safety plan, by crisis.jo"
