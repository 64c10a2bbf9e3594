"""The clinic's list of contact reasons: the desk picks from it when logging a call, and
supervisors keep it (add, rename, retire) without ever changing a code calls were logged
with."""

from __future__ import annotations

import re

import pytest
from django.urls import reverse

from crm.models import ContactReason, Event
from tests.admin.pages import action_url, form_fields, text_of

pytestmark = pytest.mark.django_db

REASONS = reverse("admin:crm_contactreason_changelist")


def log_call(client, patient_id, **changes):
    page = client.get(action_url(patient_id, "log-call"))
    fields = form_fields(page.content.decode())
    fields.update(changes)
    return client.post(action_url(patient_id, "log-call"), fields, follow=True)


def offered(client, patient_id) -> list[str]:
    html = client.get(action_url(patient_id, "log-call")).content.decode()
    select = re.search(r'<select name="reason_code"[^>]*>(.*?)</select>', html, re.S)
    assert select is not None
    return re.findall(r'<option value="([^"]*)"', select.group(1))


def test_the_desk_picks_the_reason_from_the_clinics_list(desk, patient):
    rowan = patient()
    ContactReason.objects.filter(code="portal").update(active=False)

    codes = offered(desk, rowan)
    response = log_call(desk, rowan, reason_code="refill", resolved_first_contact="on")

    assert codes[0] == "" and codes[-1] == "other" and "refill" in codes
    assert "portal" not in codes  # retired: no longer offered
    assert "Call logged." in text_of(response)
    call = Event.objects.get(stream_id=rowan, event_type="CallLogged").data
    assert (call["reason_code"], call["reason"]) == ("refill", "Prescription refill")


def test_other_needs_the_reason_in_words_on_the_form(desk, patient):
    rowan = patient()

    refused = log_call(desk, rowan, reason_code="other", reason="")
    logged = log_call(desk, rowan, reason_code="other", reason="Asked about flu shot hours")

    assert "must say what the contact was about" in text_of(refused)
    call = Event.objects.get(stream_id=rowan, event_type="CallLogged").data
    assert (call["reason_code"], call["reason"]) == ("other", "Asked about flu shot hours")
    assert "Call logged." in text_of(logged)


def test_a_reason_retired_while_the_form_was_open_is_refused(desk, patient):
    rowan = patient()
    page = desk.get(action_url(rowan, "log-call"))
    fields = {**form_fields(page.content.decode()), "reason_code": "billing"}
    ContactReason.objects.filter(code="billing").update(active=False)

    response = desk.post(action_url(rowan, "log-call"), fields, follow=True)

    assert "Select a valid choice" in text_of(response)
    assert not Event.objects.filter(stream_id=rowan, event_type="CallLogged").exists()


def test_a_supervisor_adds_renames_and_retires_reasons_but_never_deletes_one(supervisor):
    add = reverse("admin:crm_contactreason_add")
    response = supervisor.post(
        add, {"code": "interpreter", "label": "Interpreter request", "active": "on", "position": 5}
    )
    assert response.status_code == 302, text_of(response)
    reason = ContactReason.objects.get(code="interpreter")

    change = reverse("admin:crm_contactreason_change", args=[reason.pk])
    supervisor.post(change, {"code": "renamed", "label": "Interpreter needed", "position": 5})

    reason.refresh_from_db()
    assert (reason.code, reason.label, reason.active) == (
        "interpreter",
        "Interpreter needed",
        False,
    )
    listing = text_of(supervisor.get(REASONS))
    assert "Interpreter needed" in listing and "Billing or insurance" in listing
    delete = reverse("admin:crm_contactreason_delete", args=[reason.pk])
    assert supervisor.post(delete, {"post": "yes"}).status_code == 403
    assert ContactReason.objects.filter(code="interpreter").exists()


def test_other_is_always_offered_so_no_reason_may_take_its_code(supervisor):
    response = supervisor.post(
        reverse("admin:crm_contactreason_add"), {"code": "other", "label": "Other", "position": 1}
    )

    assert '"other" is always offered' in text_of(response)
    assert not ContactReason.objects.filter(code="other").exists()


def test_the_front_desk_cannot_open_the_list(desk):
    assert desk.get(REASONS).status_code == 403
