"""The desk's event stream under /api/v1/desk/."""

from __future__ import annotations

from django.urls import URLPattern, path

from crm.desk.stream import DeskStreamApi

urlpatterns: list[URLPattern] = [
    path("stream", DeskStreamApi.as_view(), name="desk-stream"),
]
