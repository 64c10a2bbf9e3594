"""The supervisor sees the pipeline on the dashboard, red when a stream is parked, and
retries it from the parked streams' table; the retry is in the access audit."""

from __future__ import annotations

import pytest
from django.urls import reverse

from crm.models import AccessLogEntry, ParkedStream
from crm.projections import runner
from tests.admin.pages import text_of
from tests.crm.parking import insert_raw, release_that_knows_letters

pytestmark = pytest.mark.django_db

DASHBOARD = reverse("admin:supervisor_dashboard")
PARKED = reverse("admin:crm_parkedstream_changelist")


def test_the_pipeline_panel_is_green_when_every_read_model_is_up_to_date(supervisor, patient):
    patient()
    runner.catch_up_all()

    page = supervisor.get(DASHBOARD)

    assert 'id="pipeline" data-alert="false"' in page.content.decode()
    assert "Pipeline up to date" in text_of(page)


def test_a_parked_stream_turns_the_panel_red_and_links_to_its_reason(supervisor, patient):
    stuck = patient()
    insert_raw(stuck)
    runner.catch_up_all()

    page = supervisor.get(DASHBOARD)
    listed = supervisor.get(PARKED)

    assert 'id="pipeline" data-alert="true"' in page.content.decode()
    assert f"{len(runner.registered())} parked streams: see why and retry" in text_of(page)
    assert "Unknown event type 'LetterMailed'" in text_of(listed)
    assert str(stuck) in text_of(listed)


def test_a_supervisor_retries_parked_streams_once_fixed_and_the_retry_is_audited(
    supervisor, patient
):
    stuck = patient()
    insert_raw(stuck)
    runner.catch_up_all()
    selected = list(ParkedStream.objects.values_list("pk", flat=True))

    with release_that_knows_letters():
        response = supervisor.post(
            PARKED, {"action": "retry", "_selected_action": selected}, follow=True
        )

    assert f"{len(selected)} released." in text_of(response)
    assert not ParkedStream.objects.exists()
    audited = AccessLogEntry.objects.filter(patient_id=stuck, action="change")
    assert audited.count() == len(selected)


def test_the_desk_neither_sees_nor_retries_parked_streams(desk, patient):
    stuck = patient()
    insert_raw(stuck)
    runner.catch_up_all()
    selected = list(ParkedStream.objects.values_list("pk", flat=True))

    assert desk.get(PARKED).status_code == 403
    desk.post(PARKED, {"action": "retry", "_selected_action": selected})
    assert ParkedStream.objects.count() == len(selected)
