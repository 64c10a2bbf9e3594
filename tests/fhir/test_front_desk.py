"""What the desk sees of the import: the EHR identifiers on the API profile, and the list of
EHR records to match, where the front desk decides and every candidate shown is audited."""

from __future__ import annotations

import datetime as dt

import pytest
from django.contrib.auth.models import User
from django.test import Client
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from crm.fhir.matching import new_patient_id
from crm.models import AccessLogEntry, EhrMatchReview, MatchDecision
from tests.fhir import builders as b
from tests.fhir.conftest import SOURCE
from tests.roles import role_group

pytestmark = pytest.mark.django_db


def _user(name, role):
    user = User.objects.create_user(username=name, password="not-a-real-password-42", is_staff=True)
    user.groups.add(role_group(role))
    return user


def test_the_api_profile_shows_the_ehr_identifiers(ehr):
    ehr(b.patient())
    client = APIClient()
    client.credentials(
        HTTP_AUTHORIZATION=f"Token {Token.objects.create(user=_user('agent.avery', 'agent')).key}"
    )

    body = client.get(f"/api/v1/patients/{new_patient_id(SOURCE, 'Patient/pat-1')}/").json()

    assert {"system": b.MRN_SYSTEM, "value": "MRN-pat-1", "kind": "MR"} in body["identifiers"]
    assert {"system": SOURCE, "value": "Patient/pat-1", "kind": "RI"} in body["identifiers"]


def test_the_desktop_finds_a_patient_by_the_ehrs_mrn_and_the_read_is_audited(ehr):
    ehr(
        b.patient(), b.patient("pat-2", identifier=[{"system": b.MRN_SYSTEM, "value": "MRN-pat-2"}])
    )
    client = APIClient()
    user = _user("agent.avery", "agent")
    client.credentials(HTTP_AUTHORIZATION=f"Token {Token.objects.create(user=user).key}")

    found = client.get("/api/v1/patients/", {"search": "mrn:MRN-pat-2"}).json()
    none = client.get("/api/v1/patients/", {"search": "MRN:nobody"}).json()

    patient = new_patient_id(SOURCE, "Patient/pat-2")
    assert [row["patient_id"] for row in found["results"]] == [str(patient)]
    assert none["results"] == []
    assert AccessLogEntry.objects.filter(patient_id=patient).exists()


def _ambiguous(ehr, register):
    born = dt.date(1980, 4, 12)
    first = register(first_name="Avery", last_name="Testpatient", date_of_birth=born)
    second = register(first_name="Avery", last_name="Testpatient", date_of_birth=born)
    ehr(b.patient())
    return first, second


def test_the_front_desk_lists_records_to_match_and_the_read_is_audited(ehr, register):
    first, second = _ambiguous(ehr, register)
    client = Client()
    client.force_login(_user("frontdesk.fran", "front_desk"))

    listed = client.get("/admin/crm/ehrmatchreview/")
    page = client.get(f"/admin/crm/ehrmatchreview/{EhrMatchReview.objects.get().pk}/change/")

    assert listed.status_code == 200 and "Avery Testpatient" in listed.content.decode()
    assert str(first) in page.content.decode() and str(second) in page.content.decode()
    audited = set(AccessLogEntry.objects.values_list("patient_id", flat=True))
    assert {first, second} <= audited


def test_same_person_must_name_one_of_the_candidates(ehr, register):
    first, _ = _ambiguous(ehr, register)
    review = EhrMatchReview.objects.get()
    client = Client()
    client.force_login(_user("frontdesk.fran", "front_desk"))
    url = f"/admin/crm/ehrmatchreview/{review.pk}/change/"

    refused = client.post(
        url, {"decision": "link", "linked_patient_id": str(new_patient_id(SOURCE, "x"))}
    )
    accepted = client.post(url, {"decision": "link", "linked_patient_id": str(first)})

    assert (
        refused.status_code == 200 and "one of the candidate patients" in refused.content.decode()
    )
    assert accepted.status_code == 302
    review.refresh_from_db()
    assert (review.decision, review.linked_patient_id, review.decided_by) == (
        MatchDecision.LINK,
        first,
        "frontdesk.fran",
    )


def test_an_agent_cannot_decide_a_match_nor_anyone_add_or_delete_one(ehr, register):
    _ambiguous(ehr, register)
    review = EhrMatchReview.objects.get()
    agent = Client()
    agent.force_login(_user("agent.avery", "agent"))
    supervisor = Client()
    supervisor.force_login(_user("super.sam", "supervisor"))

    assert agent.post(
        f"/admin/crm/ehrmatchreview/{review.pk}/change/", {"decision": "new"}
    ).status_code in (302, 403)
    assert supervisor.get("/admin/crm/ehrmatchreview/add/").status_code == 403
    assert supervisor.post(f"/admin/crm/ehrmatchreview/{review.pk}/delete/").status_code == 403
    review.refresh_from_db()
    assert review.decision == MatchDecision.PENDING
