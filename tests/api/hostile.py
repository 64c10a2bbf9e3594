"""Hostile values for the fields of the API's commands, read from the OpenAPI schema; each
strategy yields (value, refused), refused when no field of that type may ever accept it."""

from __future__ import annotations

import datetime as dt
import functools
from dataclasses import dataclass
from typing import Any

from drf_spectacular.generators import SchemaGenerator
from hypothesis import strategies as st

Hostile = tuple[Any, bool]


@functools.cache
def schema() -> dict[str, Any]:
    """The OpenAPI document /api/schema/ serves."""
    document: dict[str, Any] = SchemaGenerator().get_schema(request=None, public=True)
    return document


@dataclass(frozen=True, slots=True)
class Field:
    """One input of a command: a body property, a header, or the body itself."""

    where: str  # "body", "header" or "document" (the body as a whole)
    name: str
    spec: dict[str, Any]
    required: bool = False


@dataclass(frozen=True, slots=True)
class Operation:
    path: str  # as in the schema: /api/v1/patients/{patient_id}/calls/
    fields: tuple[Field, ...]

    def __str__(self) -> str:
        return self.path


def _resolve(spec: dict[str, Any]) -> dict[str, Any]:
    """The property's own schema, with $ref, allOf and a nullable oneOf folded in."""
    components = schema()["components"]["schemas"]
    merged = {k: v for k, v in spec.items() if k not in ("$ref", "allOf", "oneOf")}
    for part in [spec, *spec.get("allOf", []), *spec.get("oneOf", [])]:
        if "$ref" in part:
            target = components[part["$ref"].rsplit("/", 1)[-1]]
            if target.get("enum") == [None]:
                merged["nullable"] = True  # NullEnum
                continue
            merged = {**_resolve(target), **merged}
    return merged


def command_operations() -> list[Operation]:
    """Every POST of the API, with its body properties and its headers."""
    components = schema()["components"]["schemas"]
    operations = []
    for path, methods in sorted(schema()["paths"].items()):
        post = methods.get("post")
        if post is None:
            continue
        fields = [Field("document", "body", {})]
        content = post.get("requestBody", {}).get("content", {}).get("application/json")
        if content is not None:
            body = content["schema"]
            body = components[body["$ref"].rsplit("/", 1)[-1]] if "$ref" in body else body
            required = set(body.get("required", []))
            fields += [
                Field("body", name, _resolve(spec), name in required)
                for name, spec in body.get("properties", {}).items()
            ]
        fields += [
            Field("header", p["name"], p.get("schema", {}))
            for p in post.get("parameters", [])
            if p["in"] == "header"
        ]
        operations.append(Operation(path, tuple(fields)))
    return operations


# --- values ------------------------------------------------------------------------------------

_SURROGATES = st.characters(min_codepoint=0xD800, max_codepoint=0xDFFF)
_CONTROLS = st.sampled_from([*map(chr, range(1, 32)), "\x7f", "\x85", "\u2028", "\u202e"])
# Anything a person or a careless client might send, control characters included.
_ANY_TEXT = st.text(st.characters(codec="utf-8", exclude_characters="\x00"))


def _spliced(inside: st.SearchStrategy[str]) -> st.SearchStrategy[str]:
    """A short text with `inside` somewhere in it."""
    return st.tuples(_ANY_TEXT, inside, _ANY_TEXT).map(lambda t: t[0][:20] + t[1] + t[2][:20])


def _wrong_types(spec: dict[str, Any]) -> st.SearchStrategy[Any]:
    kind = spec.get("type", "string")
    deep: Any = "x"
    for _ in range(60):
        deep = {"a": [deep]}
    others = [
        st.floats(allow_nan=False, allow_infinity=False).filter(lambda f: f != int(f)),
        st.lists(st.integers(), max_size=3),
        st.dictionaries(st.text(max_size=5), st.integers(), max_size=2),
        st.just({"value": {"nested": ["deep", {"deeper": None}]}}),
        st.just(deep),
    ]
    if kind != "string":
        others.append(_ANY_TEXT)
    if kind != "integer":
        others.append(st.integers())
    if kind != "boolean":
        others.append(st.booleans())
    if not spec.get("nullable"):
        others.append(st.none())
    return st.one_of(others)


def for_field(spec: dict[str, Any]) -> st.SearchStrategy[Hostile]:
    """Hostile values for a body property, each with whether it must be refused: always for
    a lone surrogate, NUL, a string past maxLength, a number past its bounds or a wrong JSON
    type; not for one that may be valid (year 0001, control characters)."""
    refused = _wrong_types(spec).map(lambda v: (v, True))
    kind, form = spec.get("type", "string"), spec.get("format")
    if "enum" in spec:
        allowed = set(spec["enum"])
        maybe = st.one_of(st.sampled_from(sorted(v for v in allowed if v is not None)), _ANY_TEXT)
        return st.one_of(
            refused,
            maybe.map(lambda v: (v, v not in allowed)),
            _spliced(_SURROGATES).map(lambda v: (v, True)),
            st.sampled_from(sorted(v for v in allowed if v)).map(lambda v: (v.upper(), True)),
        )
    if kind == "integer":
        low, high = spec.get("minimum", -(2**63)), spec.get("maximum", 2**63 - 1)
        edges = st.sampled_from([-1, 0, low - 1, high + 1, 2**31, 2**63, -(2**63) - 1, 10**30])
        number = st.one_of(edges, st.integers())
        return st.one_of(refused, number.map(lambda n: (n, not low <= n <= high)))
    if kind == "boolean":
        return st.one_of(refused, st.booleans().map(lambda b: (b, False)))
    if form == "date-time":
        return st.one_of(refused, _moments(), _texts(spec, of_form=True))
    if form == "date":
        return st.one_of(refused, _days(), _texts(spec, of_form=True))
    return st.one_of(refused, _texts(spec, of_form=False))


def _texts(spec: dict[str, Any], *, of_form: bool) -> st.SearchStrategy[Hostile]:
    """Texts: past maxLength, with NUL or a lone surrogate, with control characters."""
    limit = spec.get("maxLength", 10_000)
    too_long = st.sampled_from(["x" * (limit + 1), "é" * 10_000, "a" * 10_001, "🙂" * (limit + 1)])
    return st.one_of(
        too_long.map(lambda v: (v, len(v) > limit)),
        _spliced(st.just("\x00")).map(lambda v: (v, True)),
        _spliced(_SURROGATES).map(lambda v: (v, True)),
        _spliced(_CONTROLS).map(lambda v: (v, len(v) > limit)),
        _ANY_TEXT.map(lambda v: (v, len(v) > limit)),
        st.sampled_from([" ", "\t\n", "\u00a0", "\u200b"]).map(lambda v: (v, False)),
    )


_EDGE_MOMENTS = [
    "0001-01-01T00:00:00Z",
    "0001-01-01T00:00:00+14:00",  # before the first representable moment in UTC
    "9999-12-31T23:59:59-14:00",  # after the last
    "9999-12-31T23:59:59.999999Z",
    "1970-01-01T00:00:00Z",
]
_BAD_MOMENTS = [
    "2026-11-03T14:30:00",  # no offset
    "2026-11-03",
    "2026-02-30T10:00:00Z",
    "2026-11-03T25:00:00Z",
    "10000-01-01T00:00:00Z",
    "+002026-11-03T14:30:00Z",
    "tomorrow at nine",
]


def _moments() -> st.SearchStrategy[Hostile]:
    # Hypothesis takes naive bounds and puts each moment in one of `timezones`.
    aware = st.datetimes(
        min_value=dt.datetime(1, 1, 2),  # noqa: DTZ001
        max_value=dt.datetime(9999, 12, 30),  # noqa: DTZ001
        timezones=st.sampled_from([dt.UTC, dt.timezone(dt.timedelta(hours=-14))]),
    ).map(lambda d: d.isoformat())
    return st.one_of(
        st.sampled_from(_EDGE_MOMENTS).map(lambda v: (v, False)),
        aware.map(lambda v: (v, False)),
        st.sampled_from(_BAD_MOMENTS).map(lambda v: (v, True)),
    )


def _days() -> st.SearchStrategy[Hostile]:
    return st.one_of(
        st.sampled_from(["0001-01-01", "9999-12-31", "1900-02-28"]).map(lambda v: (v, False)),
        st.dates().map(lambda d: (d.isoformat(), False)),
        st.sampled_from(["2026-02-30", "17/05/1984", "1984-05-17T00:00:00Z", "19840517x"]).map(
            lambda v: (v, True)
        ),
    )


def for_document() -> st.SearchStrategy[Hostile]:
    """Bodies that are not a JSON object at all."""
    return st.one_of(
        st.lists(st.integers(), max_size=3),
        _ANY_TEXT,
        st.integers(),
        st.booleans(),
        st.none(),
    ).map(lambda v: (v, True))


def for_unknown_field(known: set[str]) -> st.SearchStrategy[tuple[str, Any]]:
    """A field the command does not take, under any name, with any value."""
    names = st.one_of(
        _ANY_TEXT.filter(lambda n: n and n not in known),
        st.sampled_from(["patient_id", "version", "id", "__proto__", "x" * 10_000]),
        _spliced(_SURROGATES),
    )
    return st.tuples(names, st.one_of(st.integers(), _ANY_TEXT, st.none(), st.just({"a": 1})))


def for_header(name: str) -> st.SearchStrategy[Hostile]:
    """Hostile If-Match and Idempotency-Key values (ASCII: what a WSGI header can carry)."""
    printable = st.text(st.characters(min_codepoint=0x21, max_codepoint=0x7E), min_size=1)
    if name == "If-Match":
        return st.one_of(
            st.sampled_from(['"0"', '"999999"', "*"]).map(lambda v: (v, False)),
            st.sampled_from(["abc", '"-1"', 'W/"1"', '"1", "2"', "9" * 19, '""', "1.5"]).map(
                lambda v: (v, True)
            ),
        )
    return st.one_of(
        printable.map(lambda v: (v, len(v) > 128)),
        st.sampled_from(["", "a key", "x" * 129, "tab\there", "\x01"]).map(lambda v: (v, True)),
    )
