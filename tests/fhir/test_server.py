"""`import_fhir --server URL [--since ISO]` against a local FHIR server: search by type, paging
by the Bundle's next link, _lastUpdated for the nightly incremental sync (and its job)."""

from __future__ import annotations

import datetime as dt
import io
import urllib.parse

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from crm import schedules
from crm.fhir import tasks
from crm.fhir.matching import new_patient_id
from crm.models import EhrSync, Event, PatientProfile
from tests.fhir import builders as b
from tests.fhir.fhir_server import serving

pytestmark = pytest.mark.django_db


def _stamped(resource, when):
    return {**resource, "meta": {"versionId": "1", "lastUpdated": when}}


def _export():
    """Five patients with a visit each, two of them changed in November."""
    resources = []
    for n in range(1, 6):
        when = "2026-11-02T10:00:00Z" if n > 3 else "2026-09-01T10:00:00Z"
        resources.append(
            _stamped(
                b.patient(
                    f"p{n}",
                    name=[{"use": "official", "family": f"Testpatient{n}", "given": ["Avery"]}],
                    telecom=[{"system": "phone", "value": f"(617) 555-01{n:02d}", "use": "mobile"}],
                    identifier=[{"system": b.MRN_SYSTEM, "value": f"MRN-{n}"}],
                ),
                when,
            )
        )
        resources.append(_stamped(b.encounter(f"e{n}", f"Patient/p{n}"), when))
    resources.append(
        {"resourceType": "Claim", "id": "c1", "meta": {"lastUpdated": "2026-11-02T10:00:00Z"}}
    )
    return resources


def _queries(server, kind):
    return [
        urllib.parse.parse_qs(urllib.parse.urlsplit(r).query)
        for r in server.requests
        if urllib.parse.urlsplit(r).path.endswith(f"/{kind}")
    ]


def test_the_server_is_searched_type_by_type_following_every_next_page(settings):
    settings.FHIR_PAGE_SIZE = 2
    out = io.StringIO()
    with serving(_export()) as server:
        call_command("import_fhir", "--server", server.base, "--no-progress", stdout=out)

    assert PatientProfile.objects.count() == 5
    assert Event.objects.filter(event_type="AppointmentCompleted").count() == 5
    patients = _queries(server, "Patient")
    assert [q.get("_offset", ["0"])[0] for q in patients] == ["0", "2", "4"]
    assert all(q["_count"] == ["2"] for q in patients)
    assert len(_queries(server, "Appointment")) == 1 and len(_queries(server, "Encounter")) == 3
    # Each request asked for FHIR JSON and named no _lastUpdated: a first, full sync.
    assert not any("_lastUpdated" in q for q in patients)
    assert "total" in out.getvalue() and "Patient" in out.getvalue()
    profile = PatientProfile.objects.get(patient_id=new_patient_id(server.base, "Patient/p1"))
    assert [server.base, "Patient/p1", "RI"] in profile.identifiers


def test_since_asks_only_for_what_changed_and_imports_it(settings):
    settings.FHIR_PAGE_SIZE = 50
    with serving(_export()) as server:
        call_command(
            "import_fhir",
            "--server",
            server.base,
            "--since",
            "2026-11-01T00:00:00Z",
            "--no-progress",
            stdout=io.StringIO(),
        )

    assert {p.last_name for p in PatientProfile.objects.all()} == {"Testpatient4", "Testpatient5"}
    assert _queries(server, "Patient")[0]["_lastUpdated"] == ["ge2026-11-01T00:00:00Z"]


def test_the_nightly_sync_asks_from_where_the_last_one_went_through(settings):
    settings.FHIR_PAGE_SIZE = 50
    with serving(_export()) as server:
        settings.FHIR_SERVER_URL = server.base
        first = tasks.sync_from_server()
        mark = EhrSync.objects.get(source=server.base).synced_through
        server.requests.clear()
        second = tasks.sync_from_server()

    assert first["imported"] == {"Patient": 5, "Encounter": 5}
    assert first["skipped"] == {}  # a search for Patient returns no Claim
    assert second["imported"] == {}
    since = mark.astimezone(dt.UTC).isoformat().replace("+00:00", "Z")
    assert _queries(server, "Patient")[0]["_lastUpdated"] == [f"ge{since}"]


def test_a_server_error_is_reported_and_the_mark_does_not_move(settings):
    with serving(_export()) as server:
        server.fail_with = 500
        with pytest.raises(CommandError, match="HTTP 500 database is down"):
            call_command(
                "import_fhir", "--server", server.base, "--no-progress", stdout=io.StringIO()
            )

    sync = EhrSync.objects.get(source=server.base)
    assert sync.synced_through is None
    assert "database is down" in sync.last_error


def test_a_next_link_to_another_server_is_not_followed(settings):
    settings.FHIR_PAGE_SIZE = 2
    with serving(_export()) as server:
        server.next_host = "http://elsewhere.example/fhir"
        with pytest.raises(CommandError, match="is on another server"):
            call_command(
                "import_fhir", "--server", server.base, "--no-progress", stdout=io.StringIO()
            )

    assert not any("elsewhere" in r for r in server.requests)


def test_the_job_is_installed_only_when_a_server_is_configured(settings, monkeypatch):
    monkeypatch.setattr(schedules, "SCHEDULES", list(schedules.SCHEDULES))
    settings.FHIR_SERVER_URL = ""
    tasks.schedule()
    assert not any(job.func == "crm.fhir.tasks.sync_from_server" for job in schedules.SCHEDULES)

    settings.FHIR_SERVER_URL = "https://ehr.example/fhir"
    settings.FHIR_SYNC_MINUTES = 1440
    tasks.schedule()

    [job] = [job for job in schedules.SCHEDULES if job.func == "crm.fhir.tasks.sync_from_server"]
    assert job.minutes == 1440
