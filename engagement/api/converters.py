"""The suggestion id in a URL: refused (404) before any query when no suggestion could have
it, so a NUL (which PostgreSQL cannot take in a query) or a page of text never reaches one."""

from __future__ import annotations

from django.urls.converters import StringConverter

from engagement.models import Suggestion

ID_LENGTH = Suggestion._meta.get_field("suggestion_id").max_length or 200


class SuggestionIdConverter(StringConverter):
    # No slash (the path's separator), no control character, at most the column's length.
    regex = f"[^/\\x00-\\x1f\\x7f]{{1,{ID_LENGTH}}}"
