"""The pipeline's health for supervisors and monitors: each projection's checkpoint, lag
and parked streams (I11). Parked streams name patients, so reading them is audited."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.utils import timezone
from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.request import Request
from rest_framework.response import Response

from crm.api.audit import AccessNote
from crm.api.base import ApiView
from crm.api.permissions import ReadsPipeline
from crm.selectors.pipeline import LAG_COUNT_CAP, pipeline


class ParkedSerializer(serializers.Serializer[Any]):
    stream_id = serializers.UUIDField(help_text="The stream held back: a patient's, mostly.")
    position = serializers.IntegerField(help_text="Log position of the first event held back.")
    event_type = serializers.CharField(help_text="Its type; empty when evaluating failed.")
    error = serializers.CharField(help_text="Why the projection could not apply it.")
    parked_at = serializers.DateTimeField()
    attempts = serializers.IntegerField(help_text="Tries so far, retries included.")
    retried_at = serializers.DateTimeField(allow_null=True)
    waiting = serializers.IntegerField(help_text="Events of the stream held back.")


class ProjectionHealthSerializer(serializers.Serializer[Any]):
    name = serializers.CharField()
    inline = serializers.BooleanField(
        help_text="Projected in each command's transaction (always current; parks only "
        "in a rebuild)."
    )
    checkpoint = serializers.IntegerField(help_text="The last log position it has seen.")
    log_position = serializers.IntegerField(help_text="The last position in the log.")
    lag_events = serializers.IntegerField(
        help_text=f"Events waiting for it (counted up to {LAG_COUNT_CAP:,})."
    )
    lag_seconds = serializers.FloatField(help_text="Age of the oldest event waiting for it.")
    stalled_seconds = serializers.FloatField(
        help_text="How long it has not advanced while events wait (0 when none wait)."
    )
    advanced_at = serializers.DateTimeField(allow_null=True)
    alert = serializers.BooleanField(help_text="A stream is parked or the lag is too long.")
    parked = ParkedSerializer(many=True)


class PipelineSerializer(serializers.Serializer[Any]):
    healthy = serializers.BooleanField(help_text="No projection alerts.")
    lag_alert_seconds = serializers.IntegerField()
    projections = ProjectionHealthSerializer(many=True)


@extend_schema(tags=["health"])
class PipelineHealthApi(ApiView):
    permission_classes = [ReadsPipeline]

    @extend_schema(
        summary="Each projection's checkpoint, lag and parked streams (supervisors only)",
        responses=PipelineSerializer,
    )
    def get(self, request: Request) -> Response:
        projections = pipeline(timezone.now())
        self.access_notes = [
            AccessNote(parked.stream_id, "pipeline_read")
            for health in projections
            for parked in health.parked
        ]
        body = {
            "healthy": not any(p.alert for p in projections),
            "lag_alert_seconds": settings.PIPELINE_LAG_ALERT_SECONDS,
            "projections": projections,
        }
        return Response(PipelineSerializer(body).data)
