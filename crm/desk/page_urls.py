"""The reference agent desktop under /desk/."""

from __future__ import annotations

from django.urls import URLPattern

urlpatterns: list[URLPattern] = []
