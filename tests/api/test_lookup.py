"""GET /api/v1/patients/lookup: the screen pop when a call rings."""

from __future__ import annotations

import datetime as dt
import uuid

import pytest

from crm import handlers, timeline
from crm.domain import events as ev
from crm.extensions import screen_pop_sections
from crm.models import AccessLogEntry, Event, PatientProfile
from tests.api.conftest import problem
from tests.crm.parking import insert_raw

pytestmark = pytest.mark.django_db

LOOKUP = "/api/v1/patients/lookup"


def test_a_caller_is_greeted_by_name_with_what_is_coming_up(agent, patient, booked, desk):
    handlers.consent_record(
        patient_id=patient,
        channel=ev.Channel.SMS,
        purpose=ev.ConsentPurpose.APPOINTMENT_REMINDERS,
        source=ev.ConsentSource.VERBAL,
        actor=desk,
    )

    response = agent.get(LOOKUP, {"phone": "(617) 555-0134"})

    assert response.status_code == 200
    body = response.json()
    assert body["phone"] == "+16175550134"
    assert body["match_count"] == 1
    pop = body["patient"]
    assert pop["patient_id"] == str(patient)
    assert pop["display_name"] == "Rowan Testpatient"
    assert pop["date_of_birth"] == "1984-05-17"
    assert pop["phone_display"] == "(617) 555-0134"
    assert pop["crisis_flag"] is False
    assert [a["appointment_id"] for a in pop["upcoming_appointments"]] == [str(booked)]
    assert pop["upcoming_appointments"][0]["provider"] == "Dr. Lee"
    assert pop["consents"] == [
        {
            "channel": "sms",
            "purpose": "appointment_reminders",
            "granted": True,
            "at": pop["consents"][0]["at"],
            "source": "verbal",
        }
    ]
    assert [e["type"] for e in body["recent_timeline"]] == [
        "ConsentRecorded",
        "AppointmentScheduled",
        "PatientRegistered",
    ]
    assert "Dr. Lee" in body["recent_timeline"][1]["summary"]
    assert response["ETag"] == '"3"'
    assert response["Cache-Control"] == "no-store"


@pytest.mark.parametrize(
    "typed",
    ["617-555-0134", "617.555.0134", "+1 617 555 0134", "1 (617) 555-0134", "+16175550134"],
)
def test_the_number_is_found_however_the_desktop_formats_it(agent, patient, typed):
    response = agent.get(LOOKUP, {"phone": typed})

    assert response.status_code == 200
    assert response.json()["patient"]["patient_id"] == str(patient)


def test_a_plus_left_unencoded_in_the_url_still_finds_the_caller(agent, patient):
    response = agent.get(LOOKUP + "?phone=+16175550134")

    assert response.status_code == 200
    assert response.json()["patient"]["patient_id"] == str(patient)


def test_the_screen_pop_carries_the_last_ten_entries_newest_first(agent, patient, desk):
    for n in range(12):
        handlers.note_add(patient_id=patient, text=f"note {n}", actor=desk)

    timeline = agent.get(LOOKUP, {"phone": "6175550134"}).json()["recent_timeline"]

    assert [e["version"] for e in timeline] == list(range(13, 3, -1))
    assert timeline[0]["summary"] == "Note by frontdesk.one: note 11"


def test_an_open_crisis_is_flagged_on_the_screen_pop(agent, patient, desk):
    handlers.crisis_contact_record(
        patient_id=patient,
        risk_level=ev.RiskLevel.HIGH,
        handoff=ev.CrisisHandoff.CLINICIAN,
        safety_plan=ev.SafetyPlan.REVIEWED,
        actor=desk,
    )

    pop = agent.get(LOOKUP, {"phone": "6175550134"}).json()["patient"]

    assert pop["crisis_flag"] is True
    assert pop["last_crisis"]["risk_level"] == "high"


def test_a_deceased_patient_is_shown_as_deceased_so_nobody_asks_for_them(agent, patient, desk):
    handlers.patient_mark_deceased(patient_id=patient, actor=desk)

    pop = agent.get(LOOKUP, {"phone": "6175550134"}).json()["patient"]

    assert pop["deceased"] is True


def test_a_household_sharing_one_phone_gets_candidates_to_tell_apart(agent, register):
    parent = register(first_name="Morgan", date_of_birth=dt.date(1980, 2, 1))
    child = register(first_name="Riley", date_of_birth=dt.date(2012, 9, 30))

    response = agent.get(LOOKUP, {"phone": "617 555 0134"})

    assert response.status_code == 200
    body = response.json()
    assert body["match_count"] == 2
    assert body["patient"] is None
    assert body["recent_timeline"] == []
    assert {(c["first_name"], c["date_of_birth"]) for c in body["candidates"]} == {
        ("Morgan", "1980-02-01"),
        ("Riley", "2012-09-30"),
    }
    assert {c["patient_id"] for c in body["candidates"]} == {str(parent), str(child)}
    assert "ETag" not in response


def test_the_agent_picks_one_of_the_household_for_the_full_screen_pop(agent, register):
    register(first_name="Morgan")
    riley = register(first_name="Riley")

    response = agent.get(LOOKUP, {"phone": "6175550134", "patient": str(riley)})

    assert response.status_code == 200
    assert response.json()["patient"]["first_name"] == "Riley"
    assert response["ETag"] == '"1"'


def test_picking_someone_who_does_not_have_the_number_is_a_404(agent, patient, register):
    other = register(first_name="Jules", phone="(617) 555-0188")

    body = problem(agent.get(LOOKUP, {"phone": "6175550134", "patient": str(other)}), 404)
    assert body["normalized_phone"] == "+16175550134"


def test_a_record_merged_into_another_is_not_offered(agent, register, desk):
    survivor = register(first_name="Rowan")
    duplicate = register(first_name="Rowan")
    handlers.patients_merge(
        surviving_patient_id=survivor, duplicate_patient_id=duplicate, actor=desk
    )

    body = agent.get(LOOKUP, {"phone": "6175550134"}).json()

    assert body["match_count"] == 1
    assert body["patient"]["patient_id"] == str(survivor)


def test_an_unknown_number_is_a_404_that_says_which_number_was_searched(agent, patient):
    body = problem(agent.get(LOOKUP, {"phone": "(617) 555-0199"}), 404)

    assert body["normalized_phone"] == "+16175550199"
    assert "+16175550199" in body["detail"]
    assert body["type"].endswith("/patient-not-found")


@pytest.mark.parametrize("typed", ["hello", "555-0134", "12", "+44 20", "6" * 41])
def test_something_that_is_not_a_phone_number_is_a_400_naming_the_field(agent, typed):
    body = problem(agent.get(LOOKUP, {"phone": typed}), 400)

    assert list(body["errors"]) == ["phone"]
    assert body["detail"].startswith("phone: ")


def test_a_lookup_without_a_number_says_the_phone_is_required(agent):
    body = problem(agent.get(LOOKUP), 400)

    assert body["errors"] == {"phone": ["This field is required."]}


def test_a_misspelled_parameter_is_refused_rather_than_ignored(agent):
    body = problem(agent.get(LOOKUP, {"phone": "6175550134", "patinet": "x"}), 400)

    assert list(body["errors"]) == ["patinet"]


def test_the_screen_pop_takes_a_bounded_number_of_queries(
    agent, patient, booked, desk, django_assert_max_num_queries
):
    for n in range(30):
        handlers.note_add(patient_id=patient, text=f"note {n}", actor=desk)

    # the token with its user and roles, the profile, the last entries, the audit row, and
    # one per section other apps add (crm.extensions: open suggestions...)
    with django_assert_max_num_queries(4 + len(screen_pop_sections())):
        body = agent.get(LOOKUP, {"phone": "6175550134"}).json()

    assert {section.key for section in screen_pop_sections()} <= set(body)


def test_a_household_lookup_takes_a_bounded_number_of_queries(
    agent, register, django_assert_max_num_queries
):
    for n in range(25):
        register(first_name=f"Member{n}")

    # the token with its user and roles, the candidates, how many there are, the audit rows
    with django_assert_max_num_queries(4):
        body = agent.get(LOOKUP, {"phone": "6175550134"}).json()

    assert body["match_count"] == 25
    assert len(body["candidates"]) == 20


def test_every_lookup_is_audited_without_the_number_itself(agent, register):
    first = register(first_name="Morgan")
    second = register(first_name="Riley")

    agent.get(LOOKUP, {"phone": "6175550134"})  # several
    agent.get(LOOKUP, {"phone": "6175550134", "patient": str(first)})  # picked
    agent.get(LOOKUP, {"phone": "6175550199"})  # nobody

    rows = list(AccessLogEntry.objects.order_by("id"))
    assert [(r.patient_id, r.outcome, r.status_code) for r in rows] == [
        (first, "several_matches", 200),
        (second, "several_matches", 200),
        (first, "selected", 200),
        (None, "no_match", 404),
    ]
    assert {r.username for r in rows} == {"agent.avery"}
    assert {r.endpoint for r in rows} == {"GET /api/v1/patients/lookup"}
    assert rows[0].query_digest == rows[2].query_digest != rows[3].query_digest
    for row in rows:
        assert "555" not in row.query_digest and "0134" not in row.query_digest


def test_the_visit_an_entry_names_is_read_with_the_recent_history(
    agent, patient, booked, desk, monkeypatch
):
    for n in range(12):  # the booking itself falls out of the last 10 entries
        handlers.note_add(patient_id=patient, text=f"note {n}", actor=desk)
    handlers.appointment_confirm(patient_id=patient, appointment_id=booked, actor=desk)

    def separate_query(*args: object) -> None:
        raise AssertionError("the screen pop looked the visit up in a query of its own")

    monkeypatch.setattr(timeline, "references_for", separate_query)
    body = agent.get(LOOKUP, {"phone": "6175550134"}).json()

    confirmed = body["recent_timeline"][0]
    assert confirmed["type"] == "AppointmentConfirmed"
    assert "Dr. Lee" in confirmed["summary"]


def test_a_visit_booked_by_a_newer_release_is_named_as_an_appointment(agent, patient):
    booking = uuid.uuid4()
    # Written past the store (its commands would refuse a stream they cannot read), with the
    # metadata every command records.
    recorded = {"actor": "agent.one", "role": "agent", "channel": "api"}
    insert_raw(patient, event_type="AppointmentScheduled", schema_version=9)  # unreadable
    for n in range(12):  # the booking falls out of the last 10 entries
        note = ev.NoteAdded(note_id=uuid.uuid4(), text=f"note {n}", author="agent.one")
        insert_raw(patient, event_type="NoteAdded", data=note.to_data(), metadata=recorded)
    insert_raw(
        patient,
        event_type="AppointmentConfirmed",
        data={"appointment_id": str(booking), "via": "voice"},
        metadata=recorded,
    )
    # The newer release that wrote both would have projected them: its profile's version.
    latest = Event.objects.filter(stream_id=patient).order_by("-version").first()
    PatientProfile.objects.filter(patient_id=patient).update(version=latest.version)

    response = agent.get(LOOKUP, {"phone": "6175550134"})

    assert response.status_code == 200
    confirmed = response.json()["recent_timeline"][0]
    assert confirmed["summary"] == "Visit confirmed by phone: an appointment"


def test_an_event_a_newer_release_wrote_among_the_latest_still_pops_the_record(agent, patient):
    # A rolling upgrade: the new release has written an event this one cannot read, and the
    # projected profile. The agent still gets the caller and the rest of the history.
    insert_raw(patient, metadata={"actor": "agent.one", "role": "agent", "channel": "api"})
    latest = Event.objects.filter(stream_id=patient).order_by("-version").first()
    PatientProfile.objects.filter(patient_id=patient).update(version=latest.version)

    response = agent.get(LOOKUP, {"phone": "6175550134"})

    assert response.status_code == 200
    body = response.json()
    assert body["patient"]["patient_id"] == str(patient)
    unreadable, *earlier = body["recent_timeline"]
    assert unreadable["version"] == latest.version and unreadable["readable"] is False
    assert unreadable["type"] == "LetterMailed" and unreadable["data"] == {}
    assert unreadable["summary"] == "LetterMailed (not readable by this version)"
    assert earlier and all(entry["readable"] for entry in earlier)


def test_an_event_recorded_without_its_channel_shows_a_null_channel(agent, patient):
    # Written past the store, without the metadata every command records: the schema's enum
    # of channels (which every answer here is checked against) still holds.
    note = ev.NoteAdded(note_id=uuid.uuid4(), text="Left a message.", author="agent.one")
    insert_raw(patient, event_type="NoteAdded", data=note.to_data(), metadata={"channel": "fax"})
    insert_raw(patient, event_type="NoteAdded", data=note.to_data())
    latest = Event.objects.filter(stream_id=patient).order_by("-version").first()
    PatientProfile.objects.filter(patient_id=patient).update(version=latest.version)

    response = agent.get(LOOKUP, {"phone": "6175550134"})

    assert response.status_code == 200
    bare, unknown = response.json()["recent_timeline"][:2]
    assert bare["recorded_by"] == {"name": "", "role": "", "channel": None}
    assert unknown["recorded_by"]["channel"] is None
