"""GET /api/v1/audit/: supervisors see who read or changed which patient; nobody can
rewrite that history, not even through the database."""

from __future__ import annotations

import uuid

import pytest
from django.db import DatabaseError, connection, transaction

from crm.models import AccessLogEntry
from tests.api.conftest import problem, url

pytestmark = pytest.mark.django_db

AUDIT = "/api/v1/audit/"


def test_a_supervisor_sees_who_looked_at_a_patient_and_what_they_did(
    agent, supervisor, patient, register
):
    other = register(first_name="Jules", phone="(617) 555-0188")
    agent.get("/api/v1/patients/lookup", {"phone": "617-555-0134"})
    agent.post(url(patient, "notes/"), {"text": "Called about parking"}, format="json")
    agent.get(url(other))

    response = supervisor.get(AUDIT, {"patient": str(patient)})

    assert response.status_code == 200
    rows = response.json()["results"]
    assert [(r["username"], r["role"], r["action"], r["outcome"], r["endpoint"]) for r in rows] == [
        (
            "agent.avery",
            "agent",
            "change",
            "changed",
            "POST /api/v1/patients/<uuid:patient_id>/notes/",
        ),
        ("agent.avery", "agent", "read", "one_match", "GET /api/v1/patients/lookup"),
    ]
    assert rows[0]["source_address"] == "127.0.0.1"
    assert rows[0]["status_code"] == 201


def test_the_audit_never_holds_the_patients_data(agent, patient):
    agent.get("/api/v1/patients/lookup", {"phone": "617-555-0134"})
    agent.get("/api/v1/patients/", {"search": "Testpatient"})
    agent.post(url(patient, "notes/"), {"text": "Sensitive words here"}, format="json")

    dump = str(list(AccessLogEntry.objects.values()))
    for secret in ("6175550134", "555-0134", "Testpatient", "testpatient", "Rowan", "Sensitive"):
        assert secret not in dump


def test_only_supervisors_read_the_audit(agent, clinician, front_desk):
    for client in (agent, clinician, front_desk):
        assert "Only supervisors" in problem(client.get(AUDIT), 403)["detail"]


def test_reading_the_audit_is_itself_audited(supervisor, patient):
    supervisor.get(AUDIT, {"patient": str(patient)})

    row = AccessLogEntry.objects.get()
    assert (row.username, row.patient_id, row.outcome) == ("sup.sam", patient, "audit_read")


def test_the_audit_filters_by_user_action_and_time(agent, front_desk, supervisor, patient):
    agent.get(url(patient))
    front_desk.post(url(patient, "notes/"), {"text": "Updated insurance card"}, format="json")

    by_user = supervisor.get(AUDIT, {"user": "frontdesk.fran"}).json()["results"]
    changes = supervisor.get(AUDIT, {"action": "change"}).json()["results"]
    none_yet = supervisor.get(AUDIT, {"until": "2001-01-01T00:00:00Z"}).json()["results"]

    assert [r["username"] for r in by_user] == ["frontdesk.fran"]
    assert [r["username"] for r in changes] == ["frontdesk.fran"]
    assert none_yet == []


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"patient": "rowan"}, "patient"),
        ({"action": "delete"}, "action"),
        ({"since": "monday"}, "since"),
    ],
)
def test_an_audit_filter_that_cannot_be_understood_is_a_400(supervisor, params, field):
    assert list(problem(supervisor.get(AUDIT, params), 400)["errors"]) == [field]


def test_the_audit_pages_newest_first(agent, supervisor, patient):
    for _ in range(7):
        agent.get(url(patient))

    first = supervisor.get(AUDIT, {"patient": str(patient), "page_size": 5}).json()
    second = supervisor.get(first["next"]).json()

    ids = [r["id"] for r in first["results"] + second["results"]]
    assert len(ids) == 7
    assert ids == sorted(ids, reverse=True)


def test_a_page_of_the_audit_takes_a_bounded_number_of_queries(
    agent, supervisor, patient, django_assert_max_num_queries
):
    for _ in range(60):
        agent.get(url(patient))

    # token, roles, page, the audit row for this read
    with django_assert_max_num_queries(4):
        assert len(supervisor.get(AUDIT).json()["results"]) == 50


def test_a_write_refused_by_the_record_is_audited_too(agent, patient):
    missing = uuid.uuid4()
    agent.post(url(patient, f"appointments/{missing}/complete/"), format="json")

    row = AccessLogEntry.objects.get()
    assert (row.action, row.outcome, row.status_code) == ("change", "refused", 409)


@pytest.mark.parametrize(
    "statement",
    ["UPDATE crm_access_log SET username = 'nobody'", "DELETE FROM crm_access_log"],
)
def test_the_database_refuses_to_change_or_remove_an_audit_entry(agent, patient, statement):
    agent.get(url(patient))
    before = list(AccessLogEntry.objects.values_list("id", "username"))

    with (
        pytest.raises(DatabaseError, match="append-only"),
        transaction.atomic(),
        connection.cursor() as cursor,
    ):
        cursor.execute(statement)

    assert list(AccessLogEntry.objects.values_list("id", "username")) == before


def test_the_orm_cannot_edit_an_audit_entry_either(agent, patient):
    agent.get(url(patient))
    row = AccessLogEntry.objects.get()
    row.username = "someone.else"

    with pytest.raises(DatabaseError, match="append-only"), transaction.atomic():
        row.save()
    with pytest.raises(DatabaseError, match="append-only"), transaction.atomic():
        AccessLogEntry.objects.all().delete()
    assert AccessLogEntry.objects.get().username == "agent.avery"


def test_a_forged_forwarded_for_header_does_not_change_the_recorded_address(agent, patient):
    agent.get(url(patient), HTTP_X_FORWARDED_FOR="203.0.113.9", REMOTE_ADDR="10.1.2.3")

    assert AccessLogEntry.objects.get().source_address == "10.1.2.3"


def test_behind_one_trusted_proxy_the_forwarded_client_address_is_recorded(
    agent, patient, settings
):
    settings.REST_FRAMEWORK = {**settings.REST_FRAMEWORK, "NUM_PROXIES": 1}

    agent.get(
        url(patient), HTTP_X_FORWARDED_FOR="198.51.100.7, 203.0.113.9", REMOTE_ADDR="10.0.0.2"
    )

    assert AccessLogEntry.objects.get().source_address == "203.0.113.9"
