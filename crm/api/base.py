"""What every API view shares: strict query parameters, no caching of patient data, and
the access audit written before the response leaves."""

from __future__ import annotations

import functools
from collections.abc import Sequence
from typing import Any, ClassVar

from django_filters.filters import BaseCSVFilter
from rest_framework import generics
from rest_framework.permissions import SAFE_METHODS
from rest_framework.renderers import BaseRenderer
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.serializers import Serializer
from rest_framework.settings import api_settings
from rest_framework.views import APIView

from crm.api import audit
from crm.api.audit import AccessNote
from crm.api.pagination import query_parameters
from crm.api.problems import InvalidRequest
from crm.models import AccessAction


class ApiMixin:
    """Mixed into APIView and GenericAPIView below; never used alone."""

    # What a write does in the audit's words; reads (GET) are always "read".
    audit_action: ClassVar[str] = AccessAction.READ
    # Problem responses beyond the usual ones, for the schema: {status: description}.
    extra_problems: ClassVar[dict[int, str]] = {}
    # Problem documents with members of their own, for the schema: {status: serializer}.
    problem_serializers: ClassVar[dict[int, type[Serializer[Any]]]] = {}
    # Query parameters a view reads besides its filterset's and its paginator's.
    query_serializer_class: ClassVar[type[Serializer[Any]] | None] = None

    # No OPTIONS: the OpenAPI schema describes every endpoint, so Allow never promises it.
    http_method_names: Sequence[str] = ["get", "post", "put", "patch", "delete", "head"]

    kwargs: dict[str, Any]
    access_notes: list[AccessNote] | None = None

    def initial(self, request: Request, *args: Any, **kwargs: Any) -> None:
        self.access_notes = None
        super().initial(request, *args, **kwargs)  # type: ignore[misc]
        self._check_query_parameters(request)

    def finalize_response(
        self, request: Request, response: Response, *args: Any, **kwargs: Any
    ) -> Response:
        response = super().finalize_response(  # type: ignore[misc]
            request, response, *args, **kwargs
        )
        # Patient data must not sit in a browser's or a proxy's cache.
        response["Cache-Control"] = "no-store"
        self._record_access(request, response)
        return response

    def query_parameters(self) -> set[str]:
        names: set[str] = set()
        if self.query_serializer_class is not None:
            names |= _field_names(self.query_serializer_class)
        filterset_class = getattr(self, "filterset_class", None)
        if filterset_class is not None:
            names |= set(filterset_class.base_filters)
        paginator = getattr(self, "paginator", None)
        if paginator is not None:
            names |= query_parameters(paginator)
        return names

    def validated_query(self, request: Request) -> dict[str, Any]:
        assert self.query_serializer_class is not None
        # What is_valid runs, raising the same ValidationError, on a serializer made once per
        # class: making one copies every declared field, which cost more than the checks.
        checker = _query_checker(self.query_serializer_class)
        return dict(checker.run_validation(request.query_params.dict()))

    def perform_content_negotiation(
        self, request: Request, force: bool = False
    ) -> tuple[BaseRenderer, str]:
        # The API renders JSON only. A request that asks for nothing else is answered in it
        # without parsing the Accept header; anything else goes through DRF's negotiation
        # (a 406 for a type it cannot give).
        renderers = self.renderer_classes  # type: ignore[attr-defined]
        if (
            len(renderers) == 1
            and request.META.get("HTTP_ACCEPT") in _ACCEPTING_JSON
            and api_settings.URL_FORMAT_OVERRIDE not in request.query_params
            and self.format_kwarg is None  # type: ignore[attr-defined]
        ):
            renderer: BaseRenderer = renderers[0]()
            if renderer.media_type == "application/json":
                return renderer, renderer.media_type
        negotiated: tuple[BaseRenderer, str] = super().perform_content_negotiation(  # type: ignore[misc]
            request, force
        )
        return negotiated

    def many_valued_parameters(self) -> set[str]:
        """Filters that take several values, repeated or comma-separated."""
        filterset_class = getattr(self, "filterset_class", None)
        if filterset_class is None:
            return set()
        return {
            name
            for name, declared in filterset_class.base_filters.items()
            if isinstance(declared, BaseCSVFilter)
        }

    def _check_query_parameters(self, request: Request) -> None:
        allowed = self.query_parameters()
        unknown = sorted(set(request.query_params) - allowed)
        if unknown:
            takes = ", ".join(sorted(allowed)) if allowed else "no query parameters"
            raise InvalidRequest(
                {
                    name[:50]: [f"is not a parameter of this endpoint (it takes {takes})."]
                    for name in unknown
                }
            )
        # A value the server would drop is refused: the last of a repeated one-value
        # parameter would win silently, and an empty filter would filter nothing.
        many = self.many_valued_parameters()
        filters = set(getattr(getattr(self, "filterset_class", None), "base_filters", {}))
        errors: dict[str, list[str]] = {}
        for name in sorted(request.query_params):
            values = request.query_params.getlist(name)
            if len(values) > 1 and name not in many:
                errors[name] = [f"takes one value; it was given {len(values)}."]
            elif name in filters and name not in many and not values[0].strip():
                errors[name] = ["is empty; give a value, or leave the parameter out."]
        if errors:
            raise InvalidRequest(errors)

    def _record_access(self, request: Request, response: Response) -> None:
        try:
            user = request.user
        except Exception:  # authentication itself failed (e.g. an oversized form body)
            return
        if user is None or not user.is_authenticated:
            return
        action = AccessAction.READ if request.method in SAFE_METHODS else self.audit_action
        notes = self.access_notes
        if notes is None:
            patient_id = getattr(self, "kwargs", {}).get("patient_id")
            outcome = audit.outcome_for(response.status_code, action)
            notes = [AccessNote(patient_id, outcome)] if patient_id is not None else []
        audit.record(
            request,
            user=user,
            action=action,
            status_code=response.status_code,
            notes=notes,
        )


# Accept headers DRF's negotiation answers with JSON whatever else is on offer.
_ACCEPTING_JSON = frozenset({None, "*/*", "application/json"})


@functools.cache
def _query_checker(serializer_class: type[Serializer[Any]]) -> Serializer[Any]:
    # Query serializers keep no state between calls: no context, no instance.
    return serializer_class()


@functools.cache
def _field_names(serializer_class: type[Serializer[Any]]) -> frozenset[str]:
    # A serializer copies its declared fields each time one is made: once per class will do.
    return frozenset(serializer_class().fields)


class ApiView(ApiMixin, APIView):
    pass


class ApiGenericView(ApiMixin, generics.GenericAPIView):  # type: ignore[type-arg]
    pass
