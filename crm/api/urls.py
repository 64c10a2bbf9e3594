"""Routes of /api/v1/. The paths are the contract desktop integrations code against."""

from __future__ import annotations

from django.urls import path

from crm.api.views import (
    appointments,
    audit,
    contact_reasons,
    contacts,
    health,
    metrics,
    patients,
    timeline,
)

app_name = "api"

PATIENT = "patients/<uuid:patient_id>/"
APPOINTMENT = PATIENT + "appointments/<uuid:appointment_id>/"

urlpatterns = [
    path("patients/lookup", patients.PatientLookupApi.as_view(), name="patient-lookup"),
    path("patients/lookup/", patients.PatientLookupAliasApi.as_view()),
    path("patients/", patients.PatientsApi.as_view(), name="patients"),
    path(PATIENT, patients.PatientDetailApi.as_view(), name="patient-detail"),
    path(PATIENT + "timeline/", timeline.TimelineApi.as_view(), name="timeline"),
    path(
        PATIENT + "timeline/<int:version>/",
        timeline.TimelineEntryApi.as_view(),
        name="timeline-entry",
    ),
    path(
        PATIENT + "contact-details/",
        contacts.ContactDetailsApi.as_view(),
        name="contact-details",
    ),
    path(PATIENT + "consents/", contacts.ConsentApi.as_view(), name="consents"),
    path(PATIENT + "calls/", contacts.CallLogApi.as_view(), name="calls"),
    path(PATIENT + "notes/", contacts.NoteAddApi.as_view(), name="notes"),
    path(
        PATIENT + "crisis-contacts/",
        contacts.CrisisContactApi.as_view(),
        name="crisis-contacts",
    ),
    path(
        PATIENT + "appointments/",
        appointments.AppointmentScheduleApi.as_view(),
        name="appointments",
    ),
    path(
        APPOINTMENT + "reschedule/",
        appointments.AppointmentRescheduleApi.as_view(),
        name="appointment-reschedule",
    ),
    path(
        APPOINTMENT + "confirm/",
        appointments.AppointmentConfirmApi.as_view(),
        name="appointment-confirm",
    ),
    path(
        APPOINTMENT + "cancel/",
        appointments.AppointmentCancelApi.as_view(),
        name="appointment-cancel",
    ),
    path(
        APPOINTMENT + "complete/",
        appointments.AppointmentCompleteApi.as_view(),
        name="appointment-complete",
    ),
    path(
        APPOINTMENT + "no-show/",
        appointments.AppointmentNoShowApi.as_view(),
        name="appointment-no-show",
    ),
    path(
        "contact-reasons/",
        contact_reasons.ContactReasonsApi.as_view(),
        name="contact-reasons",
    ),
    path("audit/", audit.AccessAuditApi.as_view(), name="audit"),
    path("metrics/", metrics.MetricsApi.as_view(), name="metrics"),
    path("health/projections/", health.PipelineHealthApi.as_view(), name="pipeline-health"),
]
