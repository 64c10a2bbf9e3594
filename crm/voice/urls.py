"""Twilio Voice's webhooks under /webhooks/voice/."""

from __future__ import annotations

from django.urls import URLPattern

urlpatterns: list[URLPattern] = []
