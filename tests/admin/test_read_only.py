"""The log, the read models, the access audit and the job tables can be read in the admin,
and nobody (a superuser neither) can add, change or delete a row there."""

from __future__ import annotations

import datetime as dt
import uuid

import pytest
from django.contrib.auth.models import Group, Permission
from django.core.management import call_command
from django.urls import reverse
from django.utils import timezone
from django_q.models import OrmQ, Schedule, Task

from crm import handlers
from crm.domain import events as ev
from crm.handlers import Actor
from crm.models import (
    AccessLogEntry,
    CommandRecord,
    DailyAppointmentStats,
    DailyCallStats,
    DailySatisfactionStats,
    Event,
    LoggedCall,
    ProjectionCheckpoint,
)
from crm.projections import runner
from tests.admin.pages import text_of

pytestmark = pytest.mark.django_db

THERAPIST = Actor(name="lee.brightmoor", channel="admin", role="clinician")


@pytest.fixture
def one_of_everything(patient, clinic_now):  # type: ignore[no-untyped-def]
    rowan = patient()
    handlers.call_log(
        patient_id=rowan,
        direction=ev.CallDirection.INBOUND,
        started_at=clinic_now - dt.timedelta(hours=1),
        duration_seconds=120,
        disposition=ev.CallDisposition.CONNECTED,
        reason="Billing question",
        actor=THERAPIST,
        idempotency_key="call-1",
    )
    handlers.appointment_schedule(
        patient_id=rowan,
        appointment_type=ev.AppointmentType.THERAPY,
        starts_at=clinic_now + dt.timedelta(days=2),
        provider="Lee Brightmoor, LCSW",
        location="Riverside Behavioral Health",
        actor=THERAPIST,
    )
    handlers.satisfaction_record(patient_id=rowan, score=5, channel=ev.Channel.SMS, actor=THERAPIST)
    runner.catch_up_all()
    AccessLogEntry.objects.create(
        at=timezone.now(),
        user_id=None,
        username="agent",
        patient_id=rowan,
        action="read",
        endpoint="GET /api/v1/patients/<uuid:patient_id>/",
        outcome="returned",
        status_code=200,
    )
    call_command("install_schedules", stdout=_Sink())
    Task.objects.create(
        id=uuid.uuid4().hex,
        name="crm-catch-up",
        func="crm.tasks.run_catch_up_projections",
        started=timezone.now(),
        stopped=timezone.now(),
        success=True,
    )
    OrmQ.objects.create(key="crm", payload="x", lock=timezone.now())
    return rowan


READ_ONLY = [
    Event,
    CommandRecord,
    ProjectionCheckpoint,
    DailyCallStats,
    DailyAppointmentStats,
    DailySatisfactionStats,
    LoggedCall,
    AccessLogEntry,
    Schedule,
    Task,
    OrmQ,
]


@pytest.mark.parametrize("model", READ_ONLY, ids=lambda m: m._meta.label)
def test_a_superuser_reads_but_never_adds_changes_or_deletes(staff, one_of_everything, model):
    root = staff("root", "supervisor", "clinician", superuser=True)
    row = model._default_manager.order_by("pk").first()
    info = (model._meta.app_label, model._meta.model_name)
    rows_before = set(model._default_manager.values_list("pk", flat=True))

    listing = root.get(reverse("admin:{}_{}_changelist".format(*info)))
    detail = root.get(reverse("admin:{}_{}_change".format(*info), args=[row.pk]))
    add = root.get(reverse("admin:{}_{}_add".format(*info)))
    delete = root.post(reverse("admin:{}_{}_delete".format(*info), args=[row.pk]), {"post": "yes"})
    bulk = root.post(
        reverse("admin:{}_{}_changelist".format(*info)),
        {"action": "delete_selected", "_selected_action": [row.pk], "post": "yes"},
    )

    assert listing.status_code == 200 and detail.status_code == 200
    assert b'name="_save"' not in detail.content
    assert (add.status_code, delete.status_code) == (403, 403)
    assert b"delete_selected" not in listing.content
    assert bulk.status_code in (200, 302)
    rows_after = set(model._default_manager.values_list("pk", flat=True))
    # Reading the audit is itself audited: its rows may only grow.
    assert rows_after == rows_before or (model is AccessLogEntry and rows_after > rows_before)


def test_the_job_tables_cannot_resubmit_or_edit_a_job(staff, one_of_everything):
    root = staff("root", "supervisor", superuser=True)
    schedule = Schedule.objects.get(func="crm.tasks.run_catch_up_projections")

    edit = root.post(
        reverse("admin:django_q_schedule_change", args=[schedule.pk]),
        {"name": schedule.name, "func": "os.system", "schedule_type": "I", "minutes": 1},
    )

    assert edit.status_code == 403
    assert Schedule.objects.get(pk=schedule.pk).func == "crm.tasks.run_catch_up_projections"
    listing = root.get(reverse("admin:django_q_success_changelist"))
    assert b"resubmit" not in listing.content.lower()


def test_a_restricted_note_in_the_raw_log_is_redacted_for_anyone_but_a_clinician(staff, patient):
    rowan = patient()
    handlers.note_add(
        patient_id=rowan, text="Disclosed a past overdose.", restricted=True, actor=THERAPIST
    )
    note = Event.objects.get(stream_id=rowan, event_type="NoteAdded")
    url = reverse("admin:crm_event_change", args=[note.pk])
    root = staff("root", "supervisor", superuser=True)
    clinician = staff("dr.mossford", "clinician", superuser=True)

    assert "past overdose" not in text_of(root.get(url))
    assert "[restricted note: clinicians only]" in text_of(root.get(url))
    assert "Disclosed a past overdose." in text_of(clinician.get(url))


def test_reading_a_raw_event_of_a_patient_is_in_the_access_audit(staff, patient):
    rowan = patient()
    registered = Event.objects.get(stream_id=rowan)
    root = staff("root", "supervisor", superuser=True)

    root.get(reverse("admin:crm_event_change", args=[registered.pk]))

    entry = AccessLogEntry.objects.get()
    assert (entry.username, entry.patient_id, entry.action, entry.outcome) == (
        "root",
        rowan,
        "read",
        "returned",
    )
    assert entry.endpoint == "GET /admin/crm/event/<path:object_id>/change/"


def test_the_access_audit_is_for_supervisors_whatever_a_group_was_granted(staff, one_of_everything):
    desk = staff("frontdesk", "front_desk")
    front_desk = Group.objects.get(name="front_desk")
    front_desk.permissions.add(Permission.objects.get(codename="view_accesslogentry"))
    supervisor = staff("supervisor", "supervisor")
    listing = reverse("admin:crm_accesslogentry_changelist")

    assert desk.get(listing).status_code == 403
    assert supervisor.get(listing).status_code == 200
    assert "Access log entrys" not in text_of(desk.get(reverse("admin:index")))


def test_supervisors_read_the_figures_tables_without_any_django_permission(
    supervisor, one_of_everything
):
    listing = supervisor.get(reverse("admin:crm_dailycallstats_changelist"))

    assert listing.status_code == 200
    assert supervisor.get(reverse("admin:crm_event_changelist")).status_code == 403


class _Sink:
    def write(self, text: str) -> None:
        pass

    def flush(self) -> None:
        pass


# What staff may edit in the admin: people, groups and API tokens, the text templates, and
# a person's authenticator app (removed when a phone is lost). Everything else the apps
# hold is the log or a read model of it.
EDITABLE = {
    "auth.user",
    "auth.group",
    "authtoken.tokenproxy",
    "reminders.messagetemplate",
    "otp_totp.totpdevice",
}


def test_no_table_of_any_app_is_writable_in_the_admin(rf, django_user_model):
    from django.contrib import admin

    root = django_user_model.objects.create(username="root", is_staff=True, is_superuser=True)
    request = rf.get("/admin/")
    request.user = root
    writable = [
        model._meta.label_lower
        for model, model_admin in admin.site._registry.items()
        if model._meta.label_lower not in EDITABLE
        and (
            model_admin.has_add_permission(request)
            or model_admin.has_change_permission(request)
            or model_admin.has_delete_permission(request)
        )
    ]
    registered = {model._meta.label_lower for model in admin.site._registry}

    assert writable == []
    assert {"reminders.reminder", "reminders.outboundmessage", "crm.event"} <= registered
