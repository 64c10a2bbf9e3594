"""Routes of the suggestion queue under /api/v1/ (wired in config/urls.py)."""

from __future__ import annotations

from django.urls import path, register_converter

from engagement.api import views
from engagement.api.converters import SuggestionIdConverter

app_name = "suggestions"

register_converter(SuggestionIdConverter, "suggestion_id")

SUGGESTION = "suggestions/<suggestion_id:suggestion_id>/"

urlpatterns = [
    path("suggestions/", views.SuggestionQueueApi.as_view(), name="queue"),
    path(SUGGESTION + "claim/", views.SuggestionClaimApi.as_view(), name="claim"),
    path(SUGGESTION + "release/", views.SuggestionReleaseApi.as_view(), name="release"),
    path(SUGGESTION + "complete/", views.SuggestionCompleteApi.as_view(), name="complete"),
    path(SUGGESTION + "dismiss/", views.SuggestionDismissApi.as_view(), name="dismiss"),
    path(SUGGESTION + "snooze/", views.SuggestionSnoozeApi.as_view(), name="snooze"),
    path(
        "patients/<uuid:patient_id>/suggestions/",
        views.PatientSuggestionsApi.as_view(),
        name="patient-suggestions",
    ),
]
