"""The desk's event stream under /api/v1/desk/."""

from __future__ import annotations

from django.urls import URLPattern

urlpatterns: list[URLPattern] = []
