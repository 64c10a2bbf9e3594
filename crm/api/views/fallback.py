"""Anything under /api/ that matches no endpoint: 401 for strangers, a 404 problem for
staff (with a hint when only the trailing slash is missing)."""

from __future__ import annotations

from typing import Any

from django.urls import Resolver404, resolve
from rest_framework.exceptions import NotFound
from rest_framework.permissions import IsAuthenticated
from rest_framework.request import Request
from rest_framework.response import Response

from crm.api.base import ApiView


class EndpointNotFoundApi(ApiView):
    schema = None
    http_method_names = ["get", "post", "put", "patch", "delete", "head", "options"]
    permission_classes = [IsAuthenticated]

    def query_parameters(self) -> set[str]:
        return set(self.request.query_params)  # unknown path first; parameters don't matter

    def _not_found(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        detail = f"There is no endpoint at {request.path}."
        if not request.path.endswith("/"):
            try:
                match = resolve(request.path + "/")
            except Resolver404:
                match = None
            view_class = getattr(match.func, "view_class", None) if match else None
            if match is not None and view_class is not EndpointNotFoundApi:
                detail += f" Did you mean {request.path}/ (with a trailing slash)?"
        detail += " See /api/docs/ for the endpoints."
        raise NotFound(detail)

    get = post = put = patch = delete = head = _not_found
    options = _not_found  # type: ignore[assignment]
