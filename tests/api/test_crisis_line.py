"""The crisis line on the profile: one number for every caller, never picked by area code."""

from __future__ import annotations

import pytest

from crm import handlers
from crm.domain import events as ev
from tests.api.conftest import url

pytestmark = pytest.mark.django_db

LOOKUP = "/api/v1/patients/lookup"


def test_a_caller_in_crisis_pops_up_with_the_crisis_line_to_transfer_to(
    agent, register, desk, settings
):
    settings.CRISIS_LINE = "988"
    # Two callers from different area codes get the same line: the network routes it.
    boston = register(phone="(617) 555-0134")
    seattle = register(first_name="Sky", phone="(206) 555-0177")
    handlers.crisis_contact_record(
        patient_id=boston,
        risk_level=ev.RiskLevel.HIGH,
        handoff=ev.CrisisHandoff.CRISIS_LINE,
        safety_plan=ev.SafetyPlan.CREATED,
        actor=desk,
    )

    pop = agent.get(LOOKUP, {"phone": "617-555-0134"}).json()["patient"]
    other = agent.get(url(seattle)).json()

    assert pop["crisis_flag"] is True
    assert pop["crisis_line"] == "988"
    assert other["crisis_line"] == "988"


def test_the_clinic_sets_its_own_crisis_line(agent, patient, settings):
    settings.CRISIS_LINE = "1-800-555-0199"

    assert agent.get(url(patient)).json()["crisis_line"] == "1-800-555-0199"
