"""The desk's calls under /api/v1/desk/: attribution and wrap-up."""

from __future__ import annotations

from django.urls import URLPattern

urlpatterns: list[URLPattern] = []
