"""Routes of the reminders API, included under /api/v1/ (config/urls.py)."""

from __future__ import annotations

from django.urls import path

from reminders.api import views

app_name = "reminders-api"

urlpatterns = [
    path(
        "patients/<uuid:patient_id>/reminders/",
        views.PatientRemindersApi.as_view(),
        name="patient-reminders",
    ),
    path("reminders/", views.RemindersApi.as_view(), name="reminders"),
]
