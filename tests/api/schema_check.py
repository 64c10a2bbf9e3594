"""Every answer an API test receives is checked against the OpenAPI schema (openapi-core):
body, media type and the contract's headers, so the schema cannot drift from the server."""

from __future__ import annotations

import functools
import json
import re
from typing import Any

from django.http import HttpResponse
from drf_spectacular.generators import SchemaGenerator
from drf_spectacular.renderers import OpenApiJsonRenderer
from openapi_core import Config, OpenAPI
from openapi_core.templating.paths.exceptions import OperationNotFound, PathNotFound
from openapi_core.testing import MockRequest, MockResponse

# Headers a desktop acts on: when the server sends one, the schema must declare it there.
CONTRACT_HEADERS = ("ETag", "Location", "WWW-Authenticate", "Idempotent-Replayed", "Retry-After")


PROBLEM = "application/problem+json"


class SchemaMismatch(AssertionError):
    pass


@functools.cache
def document() -> dict[str, Any]:
    """The schema as /api/schema/ serves it, as plain JSON values."""
    generated = SchemaGenerator().get_schema(request=None, public=True)
    loaded: dict[str, Any] = json.loads(OpenApiJsonRenderer().render(generated))
    return loaded


@functools.cache
def _openapi() -> OpenAPI:
    # problem+json is JSON: openapi-core reads only the media types it is told of.
    config = Config(extra_media_type_deserializers={PROBLEM: json.loads})
    return OpenAPI.from_dict(document(), config=config)


_UUID = "[0-9a-fA-F]{8}-?[0-9a-fA-F]{4}-?[0-9a-fA-F]{4}-?[0-9a-fA-F]{4}-?[0-9a-fA-F]{12}"


@functools.cache
def _templates() -> tuple[tuple[re.Pattern[str], str], ...]:
    """Each path of the schema as a pattern; a parameter matches what its schema allows
    (an id is a UUID), so /patients/lookup/ is not taken for /patients/{patient_id}/."""
    found = []
    for template, item in document()["paths"].items():
        kinds = {
            parameter["name"]: parameter.get("schema", {})
            for operation in item.values()
            for parameter in operation.get("parameters", [])
            if parameter.get("in") == "path"
        }
        pattern = re.escape(template)
        for name, spec in kinds.items():
            value = {"uuid": _UUID}.get(spec.get("format", ""), "[^/]+")
            value = r"\d+" if spec.get("type") == "integer" else value
            pattern = pattern.replace(re.escape("{" + name + "}"), value)
        found.append((re.compile(pattern), template))
    return tuple(found)


def operation_of(method: str, path: str) -> dict[str, Any] | None:
    """The schema's operation for this request, or None when the schema has none."""
    for pattern, template in _templates():
        if pattern.fullmatch(path):
            found: dict[str, Any] | None = document()["paths"][template].get(method.lower())
            return found
    return None


def check(response: HttpResponse) -> None:
    """Raise SchemaMismatch when the response is not what the schema says of it."""
    request = response.wsgi_request  # type: ignore[attr-defined]
    operation = operation_of(request.method, request.path)
    if operation is None:
        return  # not an operation of the contract (an unknown path, a method it lacks)
    content_type = response.get("Content-Type", "")
    openapi_request = MockRequest(
        "http://testserver",
        request.method,
        request.path,
        args=request.GET,
        headers=dict(request.headers),
    )
    where = f"{request.method} {request.get_full_path()} -> {response.status_code}"
    if response.streaming:
        # A stream (the desk's text/event-stream) never ends: its status, media type and
        # headers are checked here, its messages by the tests that read them (tests/desk).
        _check_stream(operation, response, where)
        return
    openapi_response = MockResponse(
        response.content,
        status_code=response.status_code,
        headers=dict(response.headers),
        content_type=content_type.split(";")[0].strip(),
    )
    try:
        _openapi().validate_response(openapi_request, openapi_response)
    except (PathNotFound, OperationNotFound):
        return
    except Exception as error:  # every validation error openapi-core has
        raise SchemaMismatch(f"{where}: {_explain(error)}") from None
    declared = _declared_headers(operation, response.status_code)
    undeclared = [name for name in CONTRACT_HEADERS if response.has_header(name)]
    undeclared = [name for name in undeclared if name.lower() not in declared]
    if undeclared:
        raise SchemaMismatch(f"{where}: sends {', '.join(undeclared)}, not in the schema")


def _check_stream(operation: dict[str, Any], response: HttpResponse, where: str) -> None:
    declared = operation.get("responses", {}).get(str(response.status_code))
    media_type = response.get("Content-Type", "").split(";")[0].strip()
    if declared is None or media_type not in declared.get("content", {}):
        raise SchemaMismatch(f"{where}: a {media_type} stream the schema does not declare")
    undeclared = [name for name in CONTRACT_HEADERS if response.has_header(name)]
    undeclared = [
        n for n in undeclared if n.lower() not in {h.lower() for h in declared.get("headers", {})}
    ]
    if undeclared:
        raise SchemaMismatch(f"{where}: sends {', '.join(undeclared)}, not in the schema")


def _declared_headers(operation: dict[str, Any], status: int) -> set[str]:
    responses = operation.get("responses", {})
    response = responses.get(str(status)) or responses.get("default") or {}
    return {name.lower() for name in response.get("headers", {})}


def _explain(error: BaseException) -> str:
    while error.__cause__ is not None:  # openapi-core wraps the validator's own errors
        error = error.__cause__
    found = getattr(error, "schema_errors", None) or ()
    if not found:
        return f"{type(error).__name__}: {str(error)[:1000]}"
    return "; ".join(
        f"{'/'.join(str(p) for p in inner.absolute_path) or 'body'}: {str(inner.message)[:300]}"
        for inner in found
    )
