"""Twilio Voice's webhooks under /webhooks/voice/."""

from __future__ import annotations

from django.urls import path

from crm.voice import screen_pop, views  # noqa: F401  (screen_pop registers the pop's renderer)

app_name = "voice-webhooks"

urlpatterns = [
    path("incoming/", views.incoming, name="incoming"),
    path("status/", views.status, name="status"),
]
