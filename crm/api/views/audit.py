"""The access audit, for supervisors: who read or changed which patient, when, and how."""

from __future__ import annotations

import uuid
from typing import Any

from drf_spectacular.utils import extend_schema
from rest_framework import mixins
from rest_framework.request import Request
from rest_framework.response import Response

from crm.api.audit import AccessNote
from crm.api.base import ApiGenericView
from crm.api.filtersets import AuditFilter
from crm.api.pagination import AuditPagination
from crm.api.permissions import IsSupervisor
from crm.api.serializers import AccessLogEntrySerializer
from crm.models import AccessLogEntry


@extend_schema(tags=["audit"])
class AccessAuditApi(mixins.ListModelMixin, ApiGenericView):
    permission_classes = [IsSupervisor]
    queryset = AccessLogEntry.objects.all()
    serializer_class = AccessLogEntrySerializer
    filterset_class = AuditFilter
    pagination_class = AuditPagination

    @extend_schema(
        summary="The access audit, newest first (supervisors only)",
        description="Reading the audit is itself recorded, against each patient the page "
        "names (or the patient filtered on, when the page is empty).",
    )
    def get(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        response = self.list(request, *args, **kwargs)
        results = response.data["results"]
        named = dict.fromkeys(uuid.UUID(str(r["patient_id"])) for r in results if r["patient_id"])
        patient = request.query_params.get("patient")
        # Validated by the filterset above, so a present value is a UUID here.
        self.access_notes = [AccessNote(p, "audit_read") for p in named] or [
            AccessNote(uuid.UUID(patient) if patient else None, "audit_read")
        ]
        return response
