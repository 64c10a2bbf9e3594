"""OpenAPI generation: every endpoint with its headers and its problem responses."""

from __future__ import annotations

from typing import Any

from drf_spectacular.openapi import AutoSchema
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter
from rest_framework.serializers import Serializer

from crm.api.problems import PROBLEM_MEDIA_TYPE, Problem
from crm.api.serializers import ProblemSerializer, StrictInputSerializer

_ALWAYS = {
    401: "No credentials, or bad ones: send Authorization: Token <key> (or a session).",
    403: "Your account lacks the role this needs.",
    406: "Only JSON responses are available.",
    429: "Too many requests from your account; wait Retry-After seconds.",
}
_WRITES = {
    400: "A field, header or the JSON itself is invalid; errors names what to fix.",
    411: "A body sent in chunks the server did not de-chunk: send Content-Length.",
    413: "The body is larger than the server accepts.",
    415: "The body is not application/json.",
}
_COMMANDS = {
    409: "The patient's record does not allow this (the detail says why), or it kept "
    "changing while saving.",
    422: "The Idempotency-Key was already used for a different request.",
}
_PATIENT_COMMANDS = {
    404: "No such patient.",
    412: "If-Match named a version the record has moved past; nothing was recorded.",
}
# A command folds the patient's stream, and a patient's reads may replay it: an event a
# newer release wrote (docs/failure-model.md) makes both a 503 until that release is here.
_UNREADABLE = {
    503: "The patient's record holds an event this release cannot read "
    "(record-unreadable); nothing was read or changed.",
}


def _command_api() -> type[Any]:
    from crm.api.commands import CommandApi  # avoid an import cycle at settings load

    return CommandApi


class ApiSchema(AutoSchema):
    """Views say what they are (a command, a list, patient-scoped...); this turns that into
    the If-Match / Idempotency-Key parameters, the ETag / Location / Retry-After headers,
    and an application/problem+json response for every error an endpoint can give."""

    @property
    def _api(self) -> Any:
        return self.view

    def _is_command(self) -> bool:
        return self.method == "POST" and isinstance(self.view, _command_api())

    def get_request_serializer(self) -> Any:
        if self._is_command():
            return self._api.InputSerializer
        return super().get_request_serializer()

    def get_response_serializers(self) -> Any:
        if self._is_command():
            return {201 if self._api.creates else 200: self._api.OutputSerializer}
        return super().get_response_serializers()

    def get_description(self) -> str:  # type: ignore[override]
        # A view's own docstring only: a base class's words describe the machinery.
        described: str = super().get_description()
        own = type(self.view).__dict__.get("__doc__")
        return described if own else ""

    def _map_serializer(
        self, serializer: Any, direction: Any, bypass_extensions: bool = False
    ) -> dict[str, Any]:
        schema: dict[str, Any] = super()._map_serializer(  # type: ignore[no-untyped-call]
            serializer, direction, bypass_extensions
        )
        # The server refuses a field it does not know (StrictInputSerializer): say so, so a
        # generated client or a validator refuses it too instead of the server's 400.
        if direction == "request" and isinstance(serializer, StrictInputSerializer):
            schema["additionalProperties"] = False
        return schema

    def get_serializer_name(self, serializer: Serializer[Any], direction: Any) -> str:
        # Nested InputSerializer / OutputSerializer are named after their view.
        qualname = type(serializer).__qualname__
        if "." in qualname:
            outer, inner = qualname.rsplit(".", 1)
            base = outer.removesuffix("Api")
            return base if inner == "InputSerializer" else base + "Result"
        return super().get_serializer_name(serializer, direction)

    def get_override_parameters(self) -> list[Any]:
        parameters: list[Any] = list(super().get_override_parameters())
        patient_scoped = "{patient_id}" in self.path
        if self._is_command():
            if patient_scoped:
                parameters.append(
                    OpenApiParameter(
                        "If-Match",
                        OpenApiTypes.STR,
                        OpenApiParameter.HEADER,
                        description='The ETag of your last read, e.g. "7": record only if the '
                        "patient is still at that version (else 412, nothing recorded).",
                    )
                )
            parameters.append(
                OpenApiParameter(
                    "Idempotency-Key",
                    OpenApiTypes.STR,
                    OpenApiParameter.HEADER,
                    description="A fresh UUID per request. A retry with the same key returns "
                    "the first response and records nothing more.",
                )
            )
            parameters.append(
                OpenApiParameter(
                    "Idempotent-Replayed",
                    OpenApiTypes.STR,
                    OpenApiParameter.HEADER,
                    description='"true" when this is the stored answer to an earlier request '
                    "with the same Idempotency-Key.",
                    response=[200, 201],
                )
            )
            if self._api.creates:
                parameters.append(
                    OpenApiParameter(
                        "Location",
                        OpenApiTypes.STR,
                        OpenApiParameter.HEADER,
                        description="The new patient, or the timeline entry just recorded: a "
                        "path on this server (a relative reference, e.g. "
                        "/api/v1/patients/<id>/timeline/4/).",
                        response=[201],
                    )
                )
        if self._is_command() or (self.method == "GET" and self._carries_etag()):
            parameters.append(
                OpenApiParameter(
                    "ETag",
                    OpenApiTypes.STR,
                    OpenApiParameter.HEADER,
                    description='The patient\'s stream version, e.g. "7"; send it back as '
                    "If-Match to make a write conditional.",
                    response=[200, 201],
                )
            )
        parameters.append(
            OpenApiParameter(
                "WWW-Authenticate",
                OpenApiTypes.STR,
                OpenApiParameter.HEADER,
                description='How to authenticate: "Token" (send Authorization: Token <key>).',
                response=[401],
            )
        )
        parameters.append(
            OpenApiParameter(
                "Retry-After",
                OpenApiTypes.INT,
                OpenApiParameter.HEADER,
                description="Seconds to wait before trying again.",
                response=[429],
            )
        )
        return parameters

    def _get_filter_parameters(self) -> list[dict[str, Any]]:
        # The server reads a many-valued filter repeated (status=open&status=claimed, what
        # generated clients send) as well as comma-separated: declare the repeated form.
        parameters: list[dict[str, Any]] = super()._get_filter_parameters()  # type: ignore[no-untyped-call]
        for parameter in parameters:
            if parameter.get("schema", {}).get("type") == "array":
                parameter["style"] = "form"
                parameter["explode"] = True
        return parameters

    def _carries_etag(self) -> bool:
        name = type(self.view).__name__
        return name in {"PatientDetailApi", "PatientLookupApi"}

    def _problems(self) -> dict[int, str]:
        problems = dict(_ALWAYS)
        has_query = bool(getattr(self.view, "query_serializer_class", None)) or bool(
            getattr(self.view, "filterset_class", None)
        )
        if self.method == "POST":
            problems.update(_WRITES)
        elif has_query or self._is_list_view():
            problems[400] = "A query parameter is invalid or unknown; errors names it."
        if self._is_command():
            problems.update(_COMMANDS)
            problems.update(_UNREADABLE)
            if "{patient_id}" in self.path:
                problems.update(_PATIENT_COMMANDS)
        elif "{patient_id}" in self.path:
            problems.update(_UNREADABLE)
        if "{" in self.path:
            problems.setdefault(404, "Nothing with this id.")
        if self._is_list_view():
            problems.setdefault(404, "The page or cursor does not exist.")
        problems.update(getattr(self.view, "extra_problems", {}))
        return problems

    def _get_response_bodies(self, direction: Any = "response") -> dict[str, Any]:
        responses: dict[str, Any] = super()._get_response_bodies(direction)
        documents = getattr(self.view, "problem_serializers", {})
        for code, description in sorted(self._problems().items()):
            response = self._get_response_for_code(  # type: ignore[no-untyped-call]
                documents.get(code, ProblemSerializer), str(code), [PROBLEM_MEDIA_TYPE], direction
            )
            response["description"] = description
            responses.setdefault(str(code), response)
        return responses


# --- postprocessing (SPECTACULAR_SETTINGS["POSTPROCESSING_HOOKS"]) ------------------------

NULL_ENUM = "NullEnum"


def problem_types() -> list[str]:
    """Every problem type an API view can answer with: about:blank and each Problem's."""
    found = {"about:blank"}
    pending: list[type[Problem]] = [Problem]
    while pending:
        problem = pending.pop()
        found.add(problem.problem_type)
        pending.extend(problem.__subclasses__())
    return sorted(found)


def contract_hook(result: dict[str, Any], **kwargs: Any) -> dict[str, Any]:
    """What drf-spectacular cannot say by itself: nullable objects, and the problem types."""
    schemas = result.setdefault("components", {}).setdefault("schemas", {})
    if _nullable_references(result):
        schemas.setdefault(NULL_ENUM, {"enum": [None]})
    schemas["ProblemType"] = {
        "type": "string",
        "enum": problem_types(),
        "description": "The kind of problem (docs/api.md, Errors); about:blank when the "
        "HTTP status says it all.",
    }
    return result


def _nullable_references(node: Any) -> bool:
    """`allOf: [$ref]` with `nullable: true` lets no null through an OpenAPI 3.0
    validator (the referenced object is not nullable): say `oneOf: [$ref, NullEnum]`, as
    drf-spectacular does for a nullable choice."""
    changed = False
    if isinstance(node, dict):
        parts = node.get("allOf")
        if node.get("nullable") and isinstance(parts, list) and len(parts) == 1:
            del node["allOf"]
            node["oneOf"] = [parts[0], {"$ref": f"#/components/schemas/{NULL_ENUM}"}]
            changed = True
        for value in node.values():
            changed = _nullable_references(value) or changed
    elif isinstance(node, list):
        for value in node:
            changed = _nullable_references(value) or changed
    return changed
