"""The one body format the API accepts: a JSON document, size-limited and strictly read."""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from typing import IO, Any

from django.conf import settings
from rest_framework.exceptions import ParseError
from rest_framework.parsers import BaseParser

# The module, not its names: crm.api.problems imports DRF's views, which import this
# parser (DEFAULT_PARSER_CLASSES), so whichever of the two is imported first must not need
# the other's names yet.
from crm.api import problems

_UNSTORABLE = re.compile("[\x00\ud800-\udfff]")


class JSONBodyParser(BaseParser):
    """DRF reads the request stream directly, so Django's DATA_UPLOAD_MAX_MEMORY_SIZE would
    not apply: this parser enforces it (413) before reading more than the limit. Text no
    database can store (NUL, an unpaired surrogate from a "\\ud800" escape) is refused here,
    naming the field, before any serializer could echo it into an error no encoder can write.
    """

    media_type = "application/json"

    def parse(
        self,
        stream: IO[Any],
        media_type: str | None = None,
        parser_context: Mapping[str, Any] | None = None,
    ) -> Any:
        limit = int(settings.DATA_UPLOAD_MAX_MEMORY_SIZE)
        request = (parser_context or {}).get("request")
        declared = request.META.get("CONTENT_LENGTH") if request is not None else None
        if declared and declared.isdigit() and int(declared) > limit:
            raise problems.content_too_large()
        raw = stream.read(limit + 1)
        if len(raw) > limit:
            raise problems.content_too_large()
        try:
            text = raw.decode("utf-8")
        except UnicodeDecodeError:
            raise ParseError("The body is not UTF-8 encoded JSON.") from None
        try:
            document = json.loads(
                text, object_pairs_hook=_refuse_duplicate_keys, parse_constant=_refuse_constant
            )
        except _DuplicateKey as exc:
            raise ParseError(f"The key {exc.key!r} appears twice in one object.") from None
        except RecursionError:
            raise ParseError("The JSON body is nested too deeply.") from None
        except ValueError as exc:
            raise ParseError(f"The body is not valid JSON: {exc}.") from None
        _refuse_unstorable_text(document)
        return document


class _DuplicateKey(ValueError):
    def __init__(self, key: str) -> None:
        super().__init__(key)
        self.key = key


def _refuse_duplicate_keys(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    result: dict[str, Any] = {}
    for key, value in pairs:
        if key in result:
            raise _DuplicateKey(key)
        result[key] = value
    return result


def _refuse_unstorable_text(document: Any) -> None:
    """400 naming a field whose name or text holds NUL or an unpaired surrogate."""
    pending: list[tuple[str, Any]] = [("", document)]
    while pending:  # a loop, not recursion: json.loads accepts deeper nesting than Python
        path, value = pending.pop()
        if isinstance(value, str):
            if _UNSTORABLE.search(value):
                raise problems.InvalidRequest(
                    {path or "body": ["must not hold NUL or unpaired surrogate characters."]}
                )
        elif isinstance(value, dict):
            for key, item in value.items():
                if _UNSTORABLE.search(key):
                    raise problems.InvalidRequest(
                        {
                            path or "body": [
                                "has a field name holding NUL or an unpaired surrogate "
                                "character; no such field exists."
                            ]
                        }
                    )
                pending.append((f"{path}.{key}" if path else key, item))
        elif isinstance(value, list):
            pending.extend(
                (f"{path}.{index}" if path else str(index), item)
                for index, item in enumerate(value)
            )


def _refuse_constant(name: str) -> Any:
    raise ValueError(f"{name} is not a JSON number")
