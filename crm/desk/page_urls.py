"""The reference agent desktop under /desk/."""

from __future__ import annotations

from django.urls import URLPattern, path

from crm.desk import pages

urlpatterns: list[URLPattern] = [path("", pages.desk, name="desk")]
