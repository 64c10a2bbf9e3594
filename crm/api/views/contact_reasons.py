"""The clinic's list of contact reasons, for desktops to offer when a call is logged."""

from __future__ import annotations

from typing import Any

from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.request import Request
from rest_framework.response import Response

from crm.api.base import ApiView
from crm.api.permissions import IsClinicStaff
from crm.domain import events as ev
from crm.models import offered_reasons


class ContactReasonSerializer(serializers.Serializer[Any]):
    code = serializers.CharField(help_text="What POST .../calls/ takes as reason_code.")
    label = serializers.CharField(help_text="What the agent picks from.")  # type: ignore[assignment]


class ContactReasonsSerializer(serializers.Serializer[Any]):
    reasons = ContactReasonSerializer(
        many=True, help_text="The reasons offered for new calls, in the clinic's order."
    )
    other = serializers.CharField(
        help_text="The code for a reason the list does not name; the call then needs the "
        "reason in words."
    )


@extend_schema(tags=["patients"])
class ContactReasonsApi(ApiView):
    """Supervisors keep the list in the admin; a retired reason is no longer offered, and
    calls logged with it keep it."""

    permission_classes = [IsClinicStaff]

    @extend_schema(
        summary="The clinic's contact reasons, for logging a call",
        responses=ContactReasonsSerializer,
    )
    def get(self, request: Request) -> Response:
        body = {
            "reasons": [{"code": c, "label": label} for c, label in offered_reasons().items()],
            "other": ev.OTHER_REASON,
        }
        return Response(ContactReasonsSerializer(body).data)
