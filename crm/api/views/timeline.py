"""A patient's timeline: their events, newest first, each with a summary for the agent."""

from __future__ import annotations

import uuid
from typing import Any

from django.db.models import QuerySet
from drf_spectacular.utils import extend_schema
from rest_framework import mixins
from rest_framework.exceptions import NotFound
from rest_framework.request import Request
from rest_framework.response import Response

from crm.api import entries
from crm.api.base import ApiGenericView, ApiView
from crm.api.filtersets import TimelineFilter
from crm.api.pagination import TimelinePagination
from crm.api.problems import PatientMissing
from crm.api.roles import may_read_restricted_notes
from crm.api.serializers import TimelineEntrySerializer
from crm.models import Event, PatientProfile


def _profile(patient_id: uuid.UUID) -> PatientProfile:
    profile = PatientProfile.objects.filter(patient_id=patient_id).only("timezone").first()
    if profile is None:
        raise PatientMissing(f"No patient with id {patient_id}.", patient_id=str(patient_id))
    return profile


@extend_schema(tags=["patients"])
class TimelineApi(mixins.ListModelMixin, ApiGenericView):
    serializer_class = TimelineEntrySerializer
    filterset_class = TimelineFilter
    pagination_class = TimelinePagination

    queryset = Event.objects.none()  # the schema generator's; requests use get_queryset

    def get_queryset(self) -> QuerySet[Event]:
        if getattr(self, "swagger_fake_view", False):
            return Event.objects.none()
        return Event.objects.filter(stream_id=self.kwargs["patient_id"])

    @extend_schema(
        summary="A patient's timeline, newest first",
        description="Restricted notes show their text to clinicians only; others see that "
        "one exists (redacted: true).",
    )
    def get(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        return self.list(request, *args, **kwargs)

    def list(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        profile = _profile(self.kwargs["patient_id"])
        page = self.paginate_queryset(self.filter_queryset(self.get_queryset()))
        assert page is not None
        zone = entries.zone_of(profile.timezone)
        visible = may_read_restricted_notes(request.user)
        rendered = entries.timeline_entries(page, zone=zone, restricted_visible=visible)
        return self.get_paginated_response(TimelineEntrySerializer(rendered, many=True).data)


@extend_schema(tags=["patients"])
class TimelineEntryApi(ApiView):
    """Where the Location of a logged call, note, crisis contact or booking points."""

    @extend_schema(
        summary="One timeline entry, by its version in the patient's stream",
        responses={200: TimelineEntrySerializer},
    )
    def get(self, request: Request, patient_id: uuid.UUID, version: int) -> Response:
        profile = _profile(patient_id)
        row = Event.objects.filter(stream_id=patient_id, version=version).first()
        if row is None:
            raise NotFound(f"Patient {patient_id} has no timeline entry {version}.")
        entry = entries.timeline_entry(
            row,
            zone=entries.zone_of(profile.timezone),
            restricted_visible=may_read_restricted_notes(request.user),
        )
        return Response(TimelineEntrySerializer(entry).data)
