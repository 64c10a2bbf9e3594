"""The import end to end through the one write path: what lands in the log, safe to run again,
a newer version appends only the change, a dry run writes nothing, bad resources refused."""

from __future__ import annotations

import datetime as dt
import io
import json

import pytest
from django.core.management import call_command

from crm import eventstore
from crm.domain.state import AppointmentStatus, fold
from crm.fhir.matching import new_patient_id
from crm.models import CommandRecord, Event, PatientIdentifier, PatientProfile
from tests.fhir import builders as b
from tests.fhir.conftest import SOURCE

pytestmark = pytest.mark.django_db

PATIENT = new_patient_id(SOURCE, "Patient/pat-1")


def _types(patient_id=PATIENT):
    return [e.event_type for e in eventstore.read_stream(patient_id)]


def _v(resource, version, **changes):
    return {
        **resource,
        **changes,
        "meta": {"versionId": str(version), "lastUpdated": "2026-10-30T10:00:00Z"},
    }


def test_a_patient_and_their_visits_become_events_with_where_they_came_from(ehr, now):
    summary = ehr(
        b.patient(),
        b.encounter(),
        b.appointment(start="2026-11-20T15:00:00Z", end="2026-11-20T15:30:00Z"),
    )

    assert summary.imported == {"Patient": 1, "Encounter": 1, "Appointment": 1}
    assert _types() == [
        "PatientRegistered",
        "PatientIdentifierRecorded",
        "PatientIdentifierRecorded",
        "AppointmentScheduled",
        "AppointmentScheduled",
        "AppointmentCompleted",
    ]
    events = eventstore.read_stream(PATIENT)
    visit = events[-1]
    assert visit.metadata["source"] == "fhir"
    assert (visit.metadata["resource_type"], visit.metadata["resource_id"]) == (
        "Encounter",
        "enc-1",
    )
    assert visit.metadata["resource_version"] == "1"
    assert visit.metadata["idempotency_key"].endswith("Encounter/enc-1/_history/1")
    # The clinical time: the visit's end, not the time of the import.
    assert visit.occurred_at == dt.datetime(2025, 3, 4, 14, 40, tzinfo=dt.UTC)
    state = fold(PATIENT, events)
    assert state.last_visit_by_type["annual_wellness"] == dt.datetime(
        2025, 3, 4, 14, 0, tzinfo=dt.UTC
    )
    profile = PatientProfile.objects.get(patient_id=PATIENT)
    assert (profile.display_name, profile.language, profile.phone) == (
        "Ave Testpatient",
        "es",
        "+16175550134",
    )
    assert [row[:2] for row in profile.identifiers] == [
        [SOURCE, "Patient/pat-1"],
        [b.MRN_SYSTEM, "MRN-pat-1"],
    ]


def test_importing_the_same_files_twice_appends_nothing_the_second_time(ehr):
    resources = (b.patient(), b.encounter(), b.appointment(), {"resourceType": "Claim", "id": "c1"})
    ehr(*resources)
    before = Event.objects.count()

    again = ehr(*resources)

    assert Event.objects.count() == before
    assert again.imported == {}
    assert again.unchanged == {"Patient": 1, "Encounter": 1, "Appointment": 1}
    assert again.skipped == {"Claim": 1}


def test_a_newer_version_appends_only_what_changed(ehr):
    patient, booking = b.patient(), b.appointment()
    ehr(patient, booking)

    newer_phone = _v(
        patient, 2, telecom=[{"system": "phone", "value": "(617) 555-0177", "use": "mobile"}]
    )
    moved = _v(booking, 2, start="2026-11-24T16:00:00Z", end="2026-11-24T16:30:00Z")
    summary = ehr(newer_phone, moved)

    assert _types()[-2:] == ["ContactDetailsChanged", "AppointmentRescheduled"]
    assert summary.events == {"ContactDetailsChanged": 1, "AppointmentRescheduled": 1}
    cancelled = _v(moved, 3, status="cancelled")
    ehr(cancelled)
    assert _types()[-1] == "AppointmentCancelled"
    # The same content under a new version changes nothing.
    assert ehr(_v(patient, 4, telecom=newer_phone["telecom"])).events == {}


def test_a_dry_run_writes_nothing_and_reports_what_would_change(ehr):
    summary = ehr(b.patient(), b.encounter(), dry_run=True)

    assert Event.objects.count() == CommandRecord.objects.count() == 0
    assert PatientIdentifier.objects.count() == 0
    assert summary.imported == {"Patient": 1, "Encounter": 1}
    assert summary.events == {
        "PatientRegistered": 1,
        "PatientIdentifierRecorded": 2,
        "AppointmentScheduled": 1,
        "AppointmentCompleted": 1,
    }
    # After the real import a dry run finds nothing to do.
    ehr(b.patient(), b.encounter())
    assert ehr(b.patient(), b.encounter(), dry_run=True).unchanged == {"Patient": 1, "Encounter": 1}


def test_one_patients_bad_resources_are_refused_and_the_rest_imports(ehr, tmp_path, now):
    ehr(
        b.patient(),
        b.appointment(
            "apt-done", status="fulfilled", start="2026-10-01T15:00:00Z", end="2026-10-01T15:30:00Z"
        ),
    )
    path = tmp_path / "mixed.ndjson"
    path.write_text(
        "\n".join(
            [
                json.dumps(b.encounter("enc-ok")),
                '{"resourceType": "Encounter", "id": "enc-broken", ',
                json.dumps(b.encounter("enc-bad", status="completed")),
                json.dumps(
                    _v(
                        b.appointment(
                            "apt-done",
                            status="cancelled",
                            start="2026-10-01T15:00:00Z",
                            end="2026-10-01T15:30:00Z",
                        ),
                        2,
                    )
                ),
                json.dumps(b.encounter("enc-nobody", subject={"reference": "Patient/nobody"})),
                json.dumps(
                    b.appointment(
                        "apt-ok", start="2026-11-25T15:00:00Z", end="2026-11-25T15:30:00Z"
                    )
                ),
            ]
        )
    )
    from crm.fhir.importer import Importer

    before = _types()
    summary = Importer(source=SOURCE, now=now).import_files([path])

    refused = {(p.where, p.resource): p.reason for p in summary.refused}
    assert set(refused) == {
        ("line 2", "not read"),
        ("line 3", "Encounter/enc-bad"),
        ("line 4", "Appointment/apt-done"),
        ("line 5", "Encounter/enc-nobody"),
    }
    assert refused[("line 2", "not read")].startswith("invalid JSON")
    assert "'completed' is not an R4 Encounter status" in refused[("line 3", "Encounter/enc-bad")]
    assert (
        "says the visit is cancelled, but the CRM has it completed"
        in refused[("line 4", "Appointment/apt-done")]
    )
    assert (
        "its patient Patient/nobody is not in the CRM"
        in refused[("line 5", "Encounter/enc-nobody")]
    )
    assert all(p.file == str(path) for p in summary.refused)
    # The patient's good resources went in; the refused ones left no trace.
    # Appointments go in before encounters (a pass each).
    assert _types()[len(before) :] == [
        "AppointmentScheduled",
        "AppointmentScheduled",
        "AppointmentCompleted",
    ]
    state = fold(PATIENT, eventstore.read_stream(PATIENT))
    assert sorted(a.status for a in state.appointments.values()) == [
        AppointmentStatus.COMPLETED,
        AppointmentStatus.COMPLETED,
        AppointmentStatus.SCHEDULED,
    ]


def test_a_resource_whose_type_is_written_with_escapes_imports_and_is_counted_once(
    ehr, tmp_path, now
):
    ehr(b.patient())
    path = tmp_path / "escaped.ndjson"
    appointment = json.dumps(b.appointment())
    # "Appointm\u0065nt" is the JSON for "Appointment": a search of the text misses it.
    path.write_text(appointment.replace('"Appointment"', '"Appointm\\u0065nt"', 1) + "\n")
    from crm.fhir.importer import Importer

    summary = Importer(source=SOURCE, now=now).import_files([path])

    assert (summary.read, summary.imported) == ({"Appointment": 1}, {"Appointment": 1})
    assert _types()[-1] == "AppointmentScheduled"
    assert summary.rows()[-1] == ("total", 1, 1, 0, 0, 0, 0)


def test_a_bundle_written_as_one_ndjson_line_imports_its_entries(ehr):
    summary = ehr(
        b.patient(),
        b.bundle(b.encounter(), b.appointment(), kind="transaction"),
    )

    assert summary.imported == {"Patient": 1, "Encounter": 1, "Appointment": 1}
    assert summary.rows()[-1] == ("total", 3, 3, 0, 0, 0, 0)


def test_an_entered_in_error_appointment_cancels_the_open_visit_it_booked(ehr):
    booking = b.appointment()
    ehr(b.patient(), booking)

    ehr(_v(booking, 2, status="entered-in-error"))

    [cancelled] = [
        e for e in eventstore.read_stream(PATIENT) if e.event_type == "AppointmentCancelled"
    ]
    assert cancelled.event.reason == "Entered in error in the EHR."


def test_an_encounter_of_a_booked_appointment_completes_that_visit_not_a_second_one(ehr):
    ehr(b.patient(), b.appointment(start="2026-10-01T15:00:00Z", end="2026-10-01T15:30:00Z"))

    ehr(
        b.encounter(
            appointment=[{"reference": "Appointment/apt-1"}],
            period={"start": "2026-10-01T15:02:00Z", "end": "2026-10-01T15:31:00Z"},
        )
    )

    state = fold(PATIENT, eventstore.read_stream(PATIENT))
    assert [a.status for a in state.appointments.values()] == [AppointmentStatus.COMPLETED]


def test_a_telephone_encounter_is_logged_once_as_a_call(ehr):
    phone = b.encounter(
        "enc-phone",
        type=[{"coding": [{"system": b.SNOMED, "code": "185317003"}], "text": "Refill question"}],
        period={"start": "2025-06-01T13:00:00Z", "end": "2025-06-01T13:06:00Z"},
    )
    ehr(b.patient(), phone)
    ehr(_v(phone, 2, period={"start": "2025-06-01T13:00:00Z", "end": "2025-06-01T13:09:00Z"}))

    calls = [e for e in eventstore.read_stream(PATIENT) if e.event_type == "CallLogged"]
    assert len(calls) == 1
    assert (calls[0].event.duration_seconds, calls[0].event.reason) == (360, "Refill question")
    assert calls[0].occurred_at == dt.datetime(2025, 6, 1, 13, 0, tzinfo=dt.UTC)


def test_a_bundle_with_urn_references_imports_like_an_export(ehr, tmp_path, now):
    patient = b.patient()
    del patient["id"]
    encounter = b.encounter(subject={"reference": "urn:uuid:8b1e5a5e-0000-4000-8000-000000000001"})
    del encounter["id"]
    bundle = {
        "resourceType": "Bundle",
        "type": "transaction",
        "entry": [
            {
                "fullUrl": "urn:uuid:8b1e5a5e-0000-4000-8000-000000000001",
                "resource": patient,
                "request": {"method": "POST", "url": "Patient"},
            },
            {
                "fullUrl": "urn:uuid:8b1e5a5e-0000-4000-8000-000000000002",
                "resource": encounter,
                "request": {"method": "POST", "url": "Encounter"},
            },
        ],
    }
    path = b.write_json(tmp_path / "transaction.json", bundle)
    from crm.fhir.importer import Importer

    summary = Importer(source=SOURCE, now=now).import_files([path])

    assert summary.imported == {"Patient": 1, "Encounter": 1}
    assert summary.refused == []


def test_the_command_prints_the_summary_table_and_each_refusal(tmp_path):
    b.write_json(
        tmp_path / "export.json",
        b.bundle(
            b.patient(),
            b.encounter(),
            b.encounter("enc-x", status="bogus"),
            {"resourceType": "ExplanationOfBenefit", "id": "e1"},
        ),
    )
    out = io.StringIO()

    call_command("import_fhir", str(tmp_path), "--source", SOURCE, "--no-progress", stdout=out)

    text = out.getvalue()
    assert "resource" in text and "imported" in text and "unchanged" in text
    lines = {
        line.split()[0]: line.split()[1:]
        for line in text.splitlines()
        if line and line.split()[0] in ("Patient", "Encounter", "ExplanationOfBenefit", "total")
    }
    assert lines["Encounter"] == ["2", "1", "0", "0", "1", "0"]
    assert lines["ExplanationOfBenefit"] == ["1", "0", "0", "1", "0", "0"]
    place = f"{tmp_path / 'export.json'}, entry 3: Encounter/enc-x"
    assert f"{place}: status 'bogus' is not an R4 Encounter status" in text


def test_the_command_names_the_files_of_a_directory_it_did_not_read(tmp_path):
    b.write_ndjson(tmp_path / "Patient.ndjson", b.patient())
    (tmp_path / "Encounter.csv").write_text("id,subject\nenc-1,Patient/pat-1\n")
    out = io.StringIO()

    call_command("import_fhir", str(tmp_path), "--source", SOURCE, "--no-progress", stdout=out)

    text = out.getvalue()
    assert "Files not read (not .json, .ndjson or .jsonl by name): 1" in text
    assert f"  {tmp_path / 'Encounter.csv'}" in text
    assert PatientProfile.objects.filter(patient_id=PATIENT).exists()


def test_the_command_refuses_files_and_a_server_together_and_a_bad_since(tmp_path):
    from django.core.management.base import CommandError

    with pytest.raises(CommandError, match="one of the two"):
        call_command("import_fhir", str(tmp_path), "--server", "http://127.0.0.1:1/fhir")
    with pytest.raises(CommandError, match="not an ISO 8601"):
        call_command("import_fhir", "--server", "http://127.0.0.1:1/fhir", "--since", "yesterday")


def test_a_command_that_fails_in_a_batch_sends_the_batch_round_again_one_by_one(ehr, monkeypatch):
    """A desk change between the plan and the command: the batch rolls back whole, then
    runs resource by resource; the refused one leaves no trace, the others go in once."""
    from crm.fhir import decide
    from crm.fhir.resources import Refused

    ehr(b.patient())
    real, calls = decide.visit, {"enc-2": 0}

    def visit(state, record, *, now):
        if record.key == "Encounter/enc-2":
            calls["enc-2"] += 1
            if calls["enc-2"] >= 2:  # planned fine, refused once it runs
                raise Refused("the desk closed it meanwhile")
        return real(state, record, now=now)

    monkeypatch.setattr(decide, "visit", visit)
    before = Event.objects.count()

    summary = ehr(b.encounter("enc-1"), b.encounter("enc-2"), b.encounter("enc-3"))

    assert summary.imported == {"Encounter": 2}
    assert [p.reason for p in summary.refused] == ["the desk closed it meanwhile"]
    ids = [e.metadata["resource_id"] for e in Event.objects.order_by("position")[before:]]
    assert ids == ["enc-1", "enc-1", "enc-3", "enc-3"]
    assert not CommandRecord.objects.filter(key__contains="Encounter/enc-2").exists()


def test_what_the_import_keeps_per_patient_stays_under_its_caps_and_later_files_still_resolve(
    tmp_path, now, monkeypatch
):
    """Memory bounded in the export's size: past the caps, a patient's state and record id
    are read again from the database, so appointments and the encounters that complete them,
    in a later file, land on the right patient once, and a second import appends nothing."""
    from crm.fhir import applying, importer

    monkeypatch.setattr(applying, "_STATES_KEPT", 2)
    monkeypatch.setattr(importer, "_PATIENTS_KEPT", 2)
    ids = [f"pat-{n}" for n in range(1, 7)]
    patients = b.write_ndjson(
        tmp_path / "patients.ndjson",
        *[
            b.patient(
                pid,
                name=[{"use": "official", "family": f"Capped{pid[-1]}", "given": ["Avery"]}],
                telecom=[{"system": "phone", "value": f"(617) 555-01{n:02d}", "use": "mobile"}],
            )
            for n, pid in enumerate(ids)
        ],
    )
    visits = b.write_ndjson(
        tmp_path / "visits.ndjson",
        *[
            resource
            for pid in ids
            for resource in (
                b.appointment(
                    f"{pid}-a",
                    f"Patient/{pid}",
                    start="2026-10-01T15:00:00Z",
                    end="2026-10-01T15:30:00Z",
                ),
                b.encounter(
                    f"{pid}-e",
                    f"Patient/{pid}",
                    appointment=[{"reference": f"Appointment/{pid}-a"}],
                    period={"start": "2026-10-01T15:02:00Z", "end": "2026-10-01T15:31:00Z"},
                ),
            )
        ],
    )

    run = importer.Importer(source=SOURCE, now=now, batch_size=2)
    run.import_files([patients])
    summary = run.import_files([visits])

    assert len(run._planner.states) <= 2
    assert len(run._patients) <= 2
    assert not summary.refused
    assert summary.imported == {"Patient": 6, "Appointment": 6, "Encounter": 6}
    for pid in ids:
        patient_id = new_patient_id(SOURCE, f"Patient/{pid}")
        booked = fold(patient_id, eventstore.read_stream(patient_id)).appointments.values()
        assert [a.status for a in booked] == [AppointmentStatus.COMPLETED]
    before = Event.objects.count()
    again = importer.Importer(source=SOURCE, now=now, batch_size=2).import_files([patients, visits])
    assert Event.objects.count() == before
    assert again.unchanged == {"Patient": 6, "Appointment": 6, "Encounter": 6}


def test_a_visit_naming_its_patient_by_identifier_lands_on_the_patient_with_that_mrn(ehr):
    # A logical reference (Reference.identifier, FHIR R4 3.1.3.4): the MRN, no literal one.
    mrn = {"system": b.MRN_SYSTEM, "value": "MRN-pat-1"}
    ehr(b.patient())

    summary = ehr(
        b.encounter("enc-by-mrn", subject={"identifier": mrn, "display": "Avery Testpatient"}),
        b.encounter("enc-typed", subject={"type": "Patient", "identifier": mrn}),
        b.appointment(
            "apt-by-mrn",
            start="2026-11-25T15:00:00Z",
            end="2026-11-25T15:30:00Z",
            participant=[
                {"actor": {"type": "Patient", "identifier": mrn}, "status": "accepted"},
                {"actor": {"reference": "Practitioner/pr-1"}, "status": "accepted"},
            ],
        ),
        b.encounter("enc-stranger", subject={"identifier": {**mrn, "value": "MRN|pat-1"}}),
        b.encounter("enc-group", subject={"type": "Group", "identifier": mrn}),
    )

    assert summary.imported == {"Encounter": 2, "Appointment": 1}
    assert _types().count("AppointmentCompleted") == 2
    assert "AppointmentScheduled" in _types()
    refused = {p.resource: p.reason for p in summary.refused}
    assert refused == {
        "Encounter/enc-stranger": f"its patient is named by identifier 'MRN|pat-1' "
        f"({b.MRN_SYSTEM}), which no CRM patient has",
        "Encounter/enc-group": "names no Patient (subject)",
    }
