"""The desk's calls under /api/v1/desk/: attribution and wrap-up."""

from __future__ import annotations

from django.urls import path

from crm.voice import api, screen_pop  # noqa: F401  (screen_pop registers the pop's renderer)

urlpatterns = [
    path("calls/", api.CallsApi.as_view(), name="desk-calls"),
    path("calls/<str:call_sid>/", api.CallDetailApi.as_view(), name="desk-call"),
    path(
        "calls/<str:call_sid>/attribute/",
        api.CallAttributeApi.as_view(),
        name="desk-call-attribute",
    ),
    path("calls/<str:call_sid>/wrap-up/", api.CallWrapUpApi.as_view(), name="desk-call-wrap-up"),
]
