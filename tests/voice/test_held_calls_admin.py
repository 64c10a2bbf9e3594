"""The front desk finds the calls held for somebody to say whose they were in the admin, and
attributes them there: logged once on that patient, each patient shown audited."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from crm.models import AccessLogEntry, LiveCall
from tests.admin.conftest import desk, staff  # noqa: F401
from tests.voice.conftest import logged_calls

pytestmark = pytest.mark.django_db
ROWAN = "+16175550134"
CALLS = reverse("admin:crm_livecall_changelist")


def _held_household_call(twilio, register):  # type: ignore[no-untyped-def]
    avery = register(first_name="Avery")
    blake = register(first_name="Blake")
    call = twilio.call(ROWAN)
    call.answered(queue_seconds=10, talk_seconds=90)
    assert LiveCall.objects.get(call_sid=call.sid).state == "held"
    return call, avery, blake


def test_the_front_desk_lists_the_held_calls_with_who_may_be_calling(desk, twilio, register):  # noqa: F811
    call, avery, blake = _held_household_call(twilio, register)

    page = desk.get(CALLS, {"state__exact": "held"})

    assert page.status_code == 200
    text = page.content.decode()
    assert "one of 2 on this number: to attribute" in text
    assert reverse("admin:crm_livecall_change", args=[call.sid]) in text
    audited = set(AccessLogEntry.objects.values_list("patient_id", flat=True))
    assert {avery, blake} <= audited


def test_the_front_desk_attributes_a_held_call_and_it_is_logged_once(desk, twilio, register):  # noqa: F811
    call, avery, blake = _held_household_call(twilio, register)
    url = reverse("admin:crm_livecall_change", args=[call.sid])

    page = desk.get(url)
    assert page.status_code == 200 and "Avery" in page.content.decode()
    assert AccessLogEntry.objects.filter(patient_id=blake, outcome="candidate").exists()
    saved = desk.post(url, {"patient_id": str(avery)})

    assert saved.status_code == 302
    (logged,) = logged_calls(avery)
    assert logged.call_sid == call.sid and logged.disposition.value == "connected"
    assert logged_calls(blake) == []
    row = LiveCall.objects.get(call_sid=call.sid)
    assert row.state == "ended" and row.attributed_by == "frontdesk"
    # Logged: nothing more can be said of it here.
    assert desk.post(url, {"patient_id": str(blake)}).status_code == 403
    assert len(logged_calls(avery)) == 1


def test_a_patient_the_clinic_lacks_is_refused_and_nothing_is_logged(desk, twilio, register):  # noqa: F811
    call, avery, _ = _held_household_call(twilio, register)
    url = reverse("admin:crm_livecall_change", args=[call.sid])

    refused = desk.post(url, {"patient_id": "5f0c2b2e-8d0a-4a8e-9a43-3f1b7c1d2e4f"})

    assert refused.status_code == 200
    assert "No patient of the clinic has this id." in refused.content.decode()
    assert LiveCall.objects.get(call_sid=call.sid).state == "held"
    assert logged_calls(avery) == []


def test_nobody_adds_or_deletes_a_call_in_the_admin(desk, twilio, register):  # noqa: F811
    call, _, _ = _held_household_call(twilio, register)

    assert desk.get(reverse("admin:crm_livecall_add")).status_code == 403
    delete = reverse("admin:crm_livecall_delete", args=[call.sid])
    assert desk.post(delete, {"post": "yes"}).status_code == 403
    assert LiveCall.objects.filter(call_sid=call.sid).exists()


def test_the_list_names_whose_each_call_was_in_as_many_queries_for_many_calls(
    desk,  # noqa: F811
    twilio,
    register,
):
    register(first_name="Avery")

    def queries_for_the_list() -> int:
        with CaptureQueriesContext(connection) as captured:
            page = desk.get(CALLS)
        assert page.status_code == 200 and "Avery Testpatient" in page.content.decode()
        return len(captured)

    twilio.call(ROWAN).answered()
    one = queries_for_the_list()
    for _ in range(4):
        twilio.call(ROWAN).answered()

    assert queries_for_the_list() == one
