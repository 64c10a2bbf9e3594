"""Every admin page that shows a patient writes an access-log row for them: who, role, which
patient, what, when, from where. The walk covers the whole admin registry (lists, rows and
their history), so a table registered tomorrow is held to it too."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

import pytest
from django.contrib import admin
from django.contrib.admin.utils import quote
from django.core.management import call_command
from django.urls import reverse
from django.utils import timezone
from django_q.models import Task

from crm import handlers
from crm.domain import events as ev
from crm.handlers import Actor
from crm.models import AccessLogEntry, LoggedCall, RemindedAppointment
from crm.projections import runner
from reminders.dispatch import outbox
from reminders.models import OutboundMessage, Reminder

pytestmark = pytest.mark.django_db

DESK = Actor(name="frontdesk.alder", channel="admin", role="front_desk")


@pytest.fixture
def clinic_day(patient, book, clinic_now):  # type: ignore[no-untyped-def]
    """Rowan, who agreed to texts, has a visit in three days, called in and was noted on;
    the projections, the reminder outbox and the job tables have caught up."""
    rowan = patient()
    handlers.consent_record(
        patient_id=rowan,
        channel=ev.Channel.SMS,
        purpose=ev.ConsentPurpose.APPOINTMENT_REMINDERS,
        source=ev.ConsentSource.VERBAL,
        actor=DESK,
    )
    book(rowan, in_days=3)
    handlers.call_log(
        patient_id=rowan,
        direction=ev.CallDirection.INBOUND,
        started_at=clinic_now - dt.timedelta(hours=1),
        duration_seconds=240,
        disposition=ev.CallDisposition.CONNECTED,
        reason="Asked about parking",
        actor=DESK,
        idempotency_key="desk-call-1",
    )
    handlers.note_add(patient_id=rowan, text="Prefers a call after 5pm.", actor=DESK)
    runner.catch_up_all()
    outbox.materialize_due(clinic_now + dt.timedelta(days=10))
    call_command("install_schedules", stdout=_Sink())
    Task.objects.create(
        id=uuid.uuid4().hex,
        name="crm-catch-up",
        func="crm.tasks.run_catch_up_projections",
        started=timezone.now(),
        stopped=timezone.now(),
        success=True,
    )
    return rowan


@pytest.fixture
def everyone(staff):  # type: ignore[no-untyped-def]
    return staff("it.everyone", "agent", "front_desk", "clinician", "supervisor", superuser=True)


def shows(response: Any, patient_id: uuid.UUID) -> bool:
    page = response.content.decode()
    return any(mark in page for mark in (str(patient_id), "Quillbrook", "555-0134", "5550134"))


def pages_of(model: Any) -> list[str]:
    """The list of a table and, when it has a row, that row's page and its history."""
    info = f"admin:{model._meta.app_label}_{model._meta.model_name}"
    pages = [reverse(f"{info}_changelist")]
    first = model._default_manager.order_by("pk").first()
    if first is not None:
        pages += [
            reverse(f"{info}_{view}", args=[quote(first.pk)]) for view in ("change", "history")
        ]
    return pages


def test_every_admin_page_showing_a_patient_writes_their_access_row(everyone, clinic_day):
    registry = list(admin.site._registry)
    unaudited, showing = [], set()

    for model in registry:
        for page in pages_of(model):
            last = _last_row()
            response = everyone.get(page)
            assert response.status_code in (200, 302), page
            if response.status_code == 200 and shows(response, clinic_day):
                showing.add(model._meta.label)
                if not AccessLogEntry.objects.filter(pk__gt=last, patient_id=clinic_day).exists():
                    unaudited.append(page)

    assert unaudited == []
    assert {
        "crm.PatientProfile",
        "crm.Event",
        "crm.CommandRecord",
        "crm.LoggedCall",
        "crm.RemindedAppointment",
        "crm.AccessLogEntry",
        "reminders.Reminder",
        "reminders.OutboundMessage",
    } <= showing


@pytest.mark.parametrize(
    "model", [LoggedCall, RemindedAppointment, Reminder, OutboundMessage], ids=lambda m: m.__name__
)
def test_the_lists_behind_the_figures_and_the_texts_audit_each_patient_they_list(
    everyone, clinic_day, model
):
    everyone.get(reverse(f"admin:{model._meta.app_label}_{model._meta.model_name}_changelist"))

    row = AccessLogEntry.objects.get()
    assert (row.username, row.role, row.patient_id, row.action, row.outcome) == (
        "it.everyone",
        "agent,clinician,front_desk,supervisor",
        clinic_day,
        "read",
        "listed",
    )
    assert row.source_address == "127.0.0.1"


def test_the_raw_log_filtered_on_crisis_contacts_names_each_patient_in_the_audit(everyone, patient):
    ashdown = patient(first_name="Ari", last_name="Ashdown", phone="(617) 555-0151")
    birch = patient(first_name="Bo", last_name="Birchley", phone="(617) 555-0152")
    for someone in (ashdown, birch):
        handlers.crisis_contact_record(
            patient_id=someone,
            risk_level=ev.RiskLevel.MODERATE,
            handoff=ev.CrisisHandoff.NONE,
            safety_plan=ev.SafetyPlan.REVIEWED,
            actor=DESK,
        )

    listed = everyone.get(
        reverse("admin:crm_event_changelist"), {"event_type": "CrisisContactRecorded"}
    )

    assert listed.status_code == 200
    audited = set(AccessLogEntry.objects.values_list("patient_id", flat=True))
    assert audited == {ashdown, birch}


def test_registering_someone_whose_number_is_taken_audits_the_patient_it_names(desk, patient):
    rowan = patient()
    typed = {
        "first_name": "Robin",
        "last_name": "Quillbrook",
        "date_of_birth": "2001-02-03",
        "phone": "617.555.0134",
        "language": "en",
    }

    page = desk.post(reverse("admin:crm_patientprofile_add"), typed)

    assert "Already registered" in page.content.decode()
    row = AccessLogEntry.objects.get()
    assert (row.username, row.patient_id, row.outcome) == ("frontdesk", rowan, "possible_duplicate")
    assert row.query_digest and "0134" not in row.query_digest


def _last_row() -> int:
    return AccessLogEntry.objects.order_by("-pk").values_list("pk", flat=True).first() or 0


class _Sink:
    def write(self, text: str) -> None:
        pass

    def flush(self) -> None:
        pass
