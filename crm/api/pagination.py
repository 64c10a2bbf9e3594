"""Pagination for every list: pages for search results, cursors for the growing logs.

Cursors carry only positions (a stream version, an audit id), never a name or a number
that would end up in a proxy's access log.
"""

from __future__ import annotations

from rest_framework.pagination import CursorPagination, PageNumberPagination


class PatientPagination(PageNumberPagination):
    page_size = 25
    page_size_query_param = "page_size"
    max_page_size = 100


class TimelinePagination(CursorPagination):
    ordering = "-version"
    page_size = 25
    page_size_query_param = "page_size"
    max_page_size = 100


class AuditPagination(CursorPagination):
    ordering = "-id"
    page_size = 50
    page_size_query_param = "page_size"
    max_page_size = 500


def query_parameters(paginator: object) -> set[str]:
    """The query parameters a paginator reads, for the strict query check."""
    names = {
        getattr(paginator, attribute, None)
        for attribute in ("page_query_param", "page_size_query_param", "cursor_query_param")
    }
    return {name for name in names if isinstance(name, str)}
