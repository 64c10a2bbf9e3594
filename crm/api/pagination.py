"""One pagination for every list: `cursor` and `page_size` in, `next`, `previous` and
`results` out (the patient search adds `count`)."""

from __future__ import annotations

import binascii
from base64 import b64decode, b64encode
from typing import Any
from urllib import parse

from rest_framework.exceptions import NotFound
from rest_framework.pagination import BasePagination, CursorPagination
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.utils.urls import remove_query_param, replace_query_param

from crm.api.problems import invalid

CURSOR = "cursor"
PAGE_SIZE = "page_size"
_CURSOR_HELP = (
    "Where the page starts: the next or previous link's cursor. Leave it out for the first page."
)


def page_size_of(request: Request, *, default: int, maximum: int) -> int:
    """The page size asked for: a whole number from 1 to the maximum, else a 400."""
    raw = request.query_params.get(PAGE_SIZE)
    if raw is None:
        return default
    message = f"must be a whole number from 1 to {maximum}."
    try:
        size = int(raw.strip())
    except ValueError:
        raise invalid(PAGE_SIZE, message) from None
    if not 1 <= size <= maximum:
        raise invalid(PAGE_SIZE, message)
    return size


def _parameters(page_size: int, maximum: int) -> list[dict[str, Any]]:
    return [
        {
            "name": CURSOR,
            "required": False,
            "in": "query",
            "description": _CURSOR_HELP,
            "schema": {"type": "string"},
        },
        {
            "name": PAGE_SIZE,
            "required": False,
            "in": "query",
            "description": f"Entries per page (default {page_size}, at most {maximum}).",
            "schema": {"type": "integer", "minimum": 1, "maximum": maximum, "default": page_size},
        },
    ]


def _envelope(schema: dict[str, Any], extra: dict[str, Any] | None = None) -> dict[str, Any]:
    link = {"type": "string", "nullable": True, "format": "uri"}
    properties: dict[str, Any] = {
        "next": {**link, "description": "The next page, or null on the last."},
        "previous": {**link, "description": "The previous page, or null on the first."},
        **(extra or {}),
        "results": schema,
    }
    return {"type": "object", "required": list(properties), "properties": properties}


class KeyCursorPagination(CursorPagination):
    """Pages of a log by its unique key (`ordering`).

    The logs that only grow (timeline, audit) page this way, so a page never shifts as
    entries arrive. Cursors (of both paginations) are opaque and carry only positions (a
    stream version, an audit id, how far into a list the page starts), never a name or a
    number that would end up in a proxy's access log.
    """

    page_size = 25
    max_page_size = 100
    page_size_query_param = PAGE_SIZE
    template = None

    def get_page_size(self, request: Request) -> int:
        return page_size_of(request, default=self.page_size, maximum=self.max_page_size)

    def get_schema_operation_parameters(self, view: Any) -> list[dict[str, Any]]:
        return _parameters(self.page_size, self.max_page_size)

    def get_paginated_response_schema(self, schema: dict[str, Any]) -> dict[str, Any]:
        return _envelope(schema)


class PlaceCursorPagination(BasePagination):
    """Pages of a list in a computed order; the cursor says how far into it a page starts."""

    page_size = 25
    max_page_size = 100
    counted = False  # whether the answer says how many match in all
    cursor_query_param = CURSOR
    page_size_query_param = PAGE_SIZE

    def paginate_queryset(self, queryset: Any, request: Request, view: Any = None) -> list[Any]:
        self.request = request
        self.size = page_size_of(request, default=self.page_size, maximum=self.max_page_size)
        self.offset = self._decode(request.query_params.get(self.cursor_query_param))
        self.total = queryset.count() if self.counted else None
        rows = list(queryset[self.offset : self.offset + self.size + 1])
        self.has_next = len(rows) > self.size
        return rows[: self.size]

    def get_paginated_response(self, data: Any) -> Response:
        body: dict[str, Any] = {"next": self._link(self.offset + self.size, self.has_next)}
        body["previous"] = self._link(max(self.offset - self.size, 0), self.offset > 0)
        if self.counted:
            body["count"] = self.total
        body["results"] = data
        return Response(body)

    def get_schema_operation_parameters(self, view: Any) -> list[dict[str, Any]]:
        return _parameters(self.page_size, self.max_page_size)

    def get_paginated_response_schema(self, schema: dict[str, Any]) -> dict[str, Any]:
        count = {"count": {"type": "integer", "description": "How many match in all."}}
        return _envelope(schema, count if self.counted else None)

    def _link(self, offset: int, exists: bool) -> str | None:
        if not exists:
            return None
        url = self.request.build_absolute_uri()
        if offset == 0:
            return str(remove_query_param(url, self.cursor_query_param))
        token = b64encode(parse.urlencode({"o": offset}).encode("ascii")).decode("ascii")
        return str(replace_query_param(url, self.cursor_query_param, token))

    def _decode(self, encoded: str | None) -> int:
        if encoded is None:
            return 0
        try:
            tokens = parse.parse_qs(b64decode(encoded.encode("ascii"), validate=True).decode())
            offset = int(tokens["o"][0])
        except (binascii.Error, UnicodeError, KeyError, ValueError):
            raise NotFound("Invalid cursor: follow the next or previous link.") from None
        if offset < 0:
            raise NotFound("Invalid cursor: follow the next or previous link.")
        return offset


class PatientPagination(PlaceCursorPagination):
    counted = True


class ListPagination(PlaceCursorPagination):
    pass


class TimelinePagination(KeyCursorPagination):
    ordering = "-version"


class AuditPagination(KeyCursorPagination):
    ordering = "-id"
    page_size = 50
    max_page_size = 500


def query_parameters(paginator: object) -> set[str]:
    """The query parameters a paginator reads, for the strict query check."""
    names = {
        getattr(paginator, attribute, None)
        for attribute in ("page_query_param", "page_size_query_param", "cursor_query_param")
    }
    return {name for name in names if isinstance(name, str)}
