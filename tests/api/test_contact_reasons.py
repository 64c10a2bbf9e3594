"""The reason of a logged call comes from the clinic's list: desktops read the list, and a
reason not on it is a 400 naming the ones it has, with nothing recorded."""

from __future__ import annotations

import pytest
from rest_framework.test import APIClient

from crm.models import ContactReason
from tests.api.conftest import problem, soon, stream, url

pytestmark = pytest.mark.django_db

REASONS = "/api/v1/contact-reasons/"


def a_call(**changes):
    return {
        "direction": "inbound",
        "started_at": soon(hours=-1).isoformat(),
        "duration_seconds": 240,
        "disposition": "connected",
        "resolved_first_contact": True,
        **changes,
    }


def test_a_desktop_reads_the_reasons_the_clinic_offers_in_its_order(agent):
    ContactReason.objects.filter(code="portal").update(active=False)  # retired

    body = agent.get(REASONS).json()

    codes = [reason["code"] for reason in body["reasons"]]
    assert codes[:3] == ["appointment", "reschedule", "confirmation"]
    assert {"billing": "Billing or insurance"}.items() <= {
        r["code"]: r["label"] for r in body["reasons"]
    }.items()
    assert "portal" not in codes and body["other"] == "other"


def test_a_call_on_a_listed_reason_records_its_code_and_the_lists_words(agent, patient):
    response = agent.post(url(patient, "calls/"), a_call(reason_code="billing"), format="json")

    assert response.status_code == 201, response.content
    data = response.json()["events"][0]["data"]
    assert (data["reason_code"], data["reason"]) == ("billing", "Billing or insurance")


def test_other_is_recorded_with_the_agents_words(agent, patient):
    response = agent.post(
        url(patient, "calls/"),
        a_call(reason_code="other", reason="Asked for a letter for work"),
        format="json",
    )

    data = response.json()["events"][0]["data"]
    assert (data["reason_code"], data["reason"]) == ("other", "Asked for a letter for work")


def test_a_reason_not_on_the_list_is_a_400_naming_the_ones_it_has(agent, patient):
    ContactReason.objects.filter(code="portal").update(active=False)

    for code in ("parking", "portal", "Billing"):
        body = problem(
            agent.post(url(patient, "calls/"), a_call(reason_code=code), format="json"), 400
        )

        assert list(body["errors"]) == ["reason_code"]
        says = " ".join(body["errors"]["reason_code"])
        assert "billing" in says and "refill" in says and "other" in says
        assert "portal" not in says
    assert stream(patient) == ["PatientRegistered"]


def test_other_without_words_is_a_400_naming_the_reason(agent, patient):
    body = problem(
        agent.post(url(patient, "calls/"), a_call(reason_code="other"), format="json"), 400
    )

    assert list(body["errors"]) == ["reason"]
    assert stream(patient) == ["PatientRegistered"]


def test_the_list_is_for_signed_in_clinic_staff_only(db):
    assert APIClient().get(REASONS).status_code == 401
