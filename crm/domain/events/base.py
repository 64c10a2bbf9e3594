"""How events are declared (frozen dataclasses registered under a type name and a schema
version), validated, serialized and upcast to the current shape (docs/event-store.md)."""

from __future__ import annotations

import dataclasses
import datetime as dt
import enum
import re
import types
import typing
import uuid
from collections.abc import Callable, Mapping
from typing import Any, ClassVar, TypeVar

from crm.domain import times
from crm.domain.errors import InvalidInput, UnknownEventType

Upcaster = Callable[[dict[str, Any]], dict[str, Any]]
Converter = Callable[[Any], Any]
E = TypeVar("E", bound="DomainEvent")

MAX_TEXT = 10_000
_UNSTORABLE = re.compile("[\x00\ud800-\udfff]")


class EventDataInvalid(InvalidInput):
    """An event's data does not fit its schema (bad type, missing or unknown field)."""


@dataclasses.dataclass(frozen=True, slots=True)
class Bounded:
    """What a text field may hold beyond `MAX_TEXT`, as `Annotated[str, Bounded(...)]`:
    no more than the read models that keep it can hold, and (with `pattern`) only values
    of one form, matched whole. Checked whenever an event is built from data and before it
    is stored, so no door can record a value some projection could not write."""

    max_length: int
    pattern: str = ""  # a regular expression over ASCII, matched against the whole value
    shape: str = ""  # what a value looks like, for the error: "a Twilio id such as SM..."
    example: str = ""  # one value that fits

    def problem(self, text: str) -> str | None:
        """Why `text` does not fit, or None when it does."""
        if len(text) > self.max_length:
            return f"must be at most {self.max_length} characters."
        if self.pattern and re.fullmatch(self.pattern, text, re.ASCII) is None:
            return f"must be {self.shape or 'of the form ' + self.pattern}."
        if _UNSTORABLE.search(text):
            # Neither can be stored (PostgreSQL's jsonb, UTF-8): refused, never altered.
            return "must not hold NUL or unpaired surrogate characters."
        return None


class DomainEvent:
    """Base of every event. Subclasses are frozen dataclasses made by `@registered`."""

    event_type: ClassVar[str]
    schema_version: ClassVar[int]
    _upcasters: ClassVar[Mapping[int, Upcaster]]
    _converters: ClassVar[dict[str, Converter]]
    _loaders: ClassVar[dict[str, Converter]]  # stored data: conversions only (load_stored)
    _field_names: ClassVar[tuple[str, ...]]  # the dataclass's fields, in order (serialize)
    _readers: ClassVar[dict[str, Converter]]  # upcast stored data: types, not the door's bounds
    _required: ClassVar[frozenset[str]]

    def to_data(self) -> dict[str, Any]:
        return serialize(self)


_REGISTRY: dict[str, type[DomainEvent]] = {}


def registered(
    name: str, *, version: int = 1, upcasters: Mapping[int, Upcaster] | None = None
) -> Callable[[type[E]], type[E]]:
    """Register a dataclass event under `name` at schema `version`.

    `upcasters[n]` turns data stored at version n into version n + 1; every version below
    `version` must have one, so no stored event can be stranded.
    """

    def register(cls: type[E]) -> type[E]:
        if not dataclasses.is_dataclass(cls):
            raise TypeError(f"{cls.__name__} must be a dataclass")
        if name in _REGISTRY:
            raise TypeError(f"event type {name!r} registered twice")
        chain = dict(upcasters or {})
        missing = [v for v in range(1, version) if v not in chain]
        if missing:
            raise TypeError(f"{name} v{version} has no upcaster from version(s) {missing}")
        cls.event_type = name
        cls.schema_version = version
        cls._upcasters = chain
        hints = typing.get_type_hints(cls)
        shapes = typing.get_type_hints(cls, include_extras=True)
        converters: dict[str, Converter] = {}
        loaders: dict[str, Converter] = {}
        readers: dict[str, Converter] = {}
        required: set[str] = set()
        for field in dataclasses.fields(cls):
            no_default = (
                field.default is dataclasses.MISSING
                and field.default_factory is dataclasses.MISSING
            )
            allow_blank = not no_default and field.default == ""
            converters[field.name] = _storable(
                _bounded(
                    _converter(hints[field.name], field.name, allow_blank=allow_blank),
                    field.name,
                    bounds_of(shapes[field.name]),
                ),
                field.name,
            )
            readers[field.name] = _converter(
                hints[field.name], field.name, allow_blank=allow_blank, ranged=False
            )
            loader = _loader(hints[field.name])
            if loader is not None:
                loaders[field.name] = loader
            if no_default:
                required.add(field.name)
        cls._converters = converters
        cls._loaders = loaders
        cls._readers = readers
        cls._field_names = tuple(field.name for field in dataclasses.fields(cls))
        cls._required = frozenset(required)
        _REGISTRY[name] = cls
        return cls

    return register


def event_class(name: str) -> type[DomainEvent]:
    try:
        return _REGISTRY[name]
    except KeyError:
        raise UnknownEventType(f"Unknown event type {name!r}.") from None


def registered_types() -> dict[str, type[DomainEvent]]:
    return dict(_REGISTRY)


def build(cls: type[E], data: Mapping[str, Any]) -> E:
    """Validate `data` against `cls` and return the event. Unknown fields are refused."""
    return _built(cls, data, cls._converters)


def _built(cls: type[E], data: Mapping[str, Any], converters: Mapping[str, Converter]) -> E:
    unknown = set(data) - set(converters)
    if unknown:
        field = sorted(unknown)[0]
        raise EventDataInvalid(field, f"is not a field of {cls.event_type}.")
    missing = cls._required - set(data)
    if missing:
        raise EventDataInvalid(sorted(missing)[0], "is required.")
    values = {key: converters[key](value) for key, value in data.items()}
    return cls(**values)


def deserialize(event_type: str, schema_version: int, data: Mapping[str, Any]) -> DomainEvent:
    """Turn stored data into the current event, upcasting older schema versions.

    Stored data is checked for its types, not against the bounds of today's door (a
    length, a plausible time): a value the store took when it was recorded stays readable."""
    cls = event_class(event_type)
    if schema_version > cls.schema_version or schema_version < 1:
        raise UnknownEventType(
            f"{event_type} has schema version {schema_version}; this code knows up to "
            f"{cls.schema_version}. Deploy the newer code before reading these events."
        )
    current = dict(data)
    for version in range(schema_version, cls.schema_version):
        current = cls._upcasters[version](current)
    return _built(cls, current, cls._readers)


def load_stored(event_type: str, schema_version: int, data: dict[str, Any]) -> DomainEvent:
    """An event as the store holds it: `deserialize` without re-validating what `append`
    validated (and stored in canonical form: stripped text, times in UTC) before the row
    could exist; rows are never changed after (I1). Only the conversions are done (times,
    ids, enums). Older schema versions and unknown types take the full path, which
    upcasts or fails loudly."""
    cls = event_class(event_type)
    if schema_version != cls.schema_version:
        return deserialize(event_type, schema_version, data)
    loaders = cls._loaders
    return cls(
        **{
            key: value if value is None or key not in loaders else loaders[key](value)
            for key, value in data.items()
        }
    )


# Values stored as they are: most of an event's fields (serialize runs on every append and
# every timeline entry shown, the screen pop's ten included).
_AS_IS = frozenset({str, int, bool, float, type(None)})


def serialize(event: DomainEvent) -> dict[str, Any]:
    data: dict[str, Any] = {}
    names = type(event).__dict__.get("_field_names")  # its own, not a registered parent's
    if names is None:  # a dataclass never registered (registered() sets the names)
        names = tuple(field.name for field in dataclasses.fields(event))  # type: ignore[arg-type]
    for name in names:
        value = getattr(event, name)
        if type(value) in _AS_IS:
            data[name] = value
            continue
        # A naive time would silently take the server's zone in astimezone(); refuse it.
        if isinstance(value, dt.datetime) and value.utcoffset() is None:
            raise EventDataInvalid(name, "must include a UTC offset, e.g. -05:00 or Z.")
        data[name] = _to_json(value)
    return data


def _to_json(value: Any) -> Any:
    if isinstance(value, enum.Enum):
        return value.value
    if isinstance(value, dt.datetime):
        return value.astimezone(dt.UTC).isoformat()
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, uuid.UUID):
        return str(value)
    return value


def _converter(hint: Any, field: str, *, allow_blank: bool, ranged: bool = True) -> Converter:
    origin = typing.get_origin(hint)
    if origin in (typing.Union, types.UnionType):
        args = [arg for arg in typing.get_args(hint) if arg is not type(None)]
        if len(args) != 1:
            raise TypeError(f"{field}: only `X | None` unions are supported")
        inner = _converter(args[0], field, allow_blank=allow_blank, ranged=ranged)
        return lambda value: None if value is None else inner(value)
    if isinstance(hint, type) and issubclass(hint, enum.Enum):
        return _enum_converter(hint, field)
    simple = {
        str: _text_converter(field, allow_blank=allow_blank),
        bool: _bool_converter(field),
        int: _int_converter(field),
        dt.datetime: _datetime_converter(field, ranged=ranged),
        dt.date: _date_converter(field, ranged=ranged),
        uuid.UUID: _uuid_converter(field),
    }
    if hint in simple:
        return simple[hint]
    raise TypeError(f"{field}: unsupported type {hint!r}")


def bounds_of(hint: Any) -> list[Bounded]:
    """The `Bounded` marks of a field's full type hint (`include_extras=True`), also
    inside `X | None`."""
    options = (
        [arg for arg in typing.get_args(hint) if arg is not type(None)]
        if typing.get_origin(hint) in (typing.Union, types.UnionType)
        else [hint]
    )
    return [
        mark
        for option in options
        for mark in getattr(option, "__metadata__", ())
        if isinstance(mark, Bounded)
    ]


def _bounded(convert: Converter, field: str, bounds: list[Bounded]) -> Converter:
    if not bounds:
        return convert

    def check(value: Any) -> Any:
        text = convert(value)
        for bound in bounds if text else ():  # a blank default is no value to check
            problem = bound.problem(text)
            if problem is not None:
                raise EventDataInvalid(field, problem)
        return text

    return check


def _storable(convert: Converter, field: str) -> Converter:
    """Every text, bounded or not: neither NUL nor an unpaired surrogate can be stored
    (PostgreSQL's jsonb, UTF-8), so either is refused, never altered."""

    def check(value: Any) -> Any:
        converted = convert(value)
        if isinstance(converted, str) and _UNSTORABLE.search(converted):
            raise EventDataInvalid(field, "must not hold NUL or unpaired surrogate characters.")
        return converted

    return check


def _loader(hint: Any) -> Converter | None:
    """How stored JSON becomes the field's type, for `load_stored`; None: as stored."""
    options = [arg for arg in typing.get_args(hint) if arg is not type(None)] or [hint]
    kind = options[0]
    if kind is dt.datetime:
        return dt.datetime.fromisoformat
    if kind is dt.date:
        return dt.date.fromisoformat
    if kind is uuid.UUID:
        return uuid.UUID
    if isinstance(kind, type) and issubclass(kind, enum.Enum):
        return kind
    return None


def _text_converter(field: str, *, allow_blank: bool) -> Converter:
    def convert(value: Any) -> str:
        if not isinstance(value, str):
            raise EventDataInvalid(field, "must be text.")
        text: str = value.strip()
        if not text and not allow_blank:
            raise EventDataInvalid(field, "must not be blank.")
        if len(text) > MAX_TEXT:
            raise EventDataInvalid(field, f"must be at most {MAX_TEXT} characters.")
        return text

    return convert


def _bool_converter(field: str) -> Converter:
    def convert(value: Any) -> bool:
        if not isinstance(value, bool):
            raise EventDataInvalid(field, "must be true or false.")
        return value

    return convert


def _int_converter(field: str) -> Converter:
    def convert(value: Any) -> int:
        if isinstance(value, bool) or not isinstance(value, int):
            raise EventDataInvalid(field, "must be a whole number.")
        return int(value)

    return convert


def _datetime_converter(field: str, *, ranged: bool) -> Converter:
    def convert(value: Any) -> dt.datetime:
        if isinstance(value, str):
            try:
                value = dt.datetime.fromisoformat(value)
            except ValueError:
                raise EventDataInvalid(
                    field, "must be an ISO 8601 date and time, e.g. 2026-11-03T14:30:00-05:00."
                ) from None
        if not isinstance(value, dt.datetime):
            raise EventDataInvalid(field, "must be a date and time.")
        if value.tzinfo is None or value.utcoffset() is None:
            raise EventDataInvalid(field, "must include a UTC offset, e.g. -05:00 or Z.")
        if ranged:
            _in_range(times.check_in_range, field, value)
        return value.astimezone(dt.UTC)

    return convert


def _date_converter(field: str, *, ranged: bool) -> Converter:
    def convert(value: Any) -> dt.date:
        if isinstance(value, dt.datetime):
            raise EventDataInvalid(field, "must be a date without a time.")
        if isinstance(value, str):
            try:
                value = dt.date.fromisoformat(value)
            except ValueError:
                raise EventDataInvalid(field, "must be a date as YYYY-MM-DD.") from None
        if not isinstance(value, dt.date):
            raise EventDataInvalid(field, "must be a date as YYYY-MM-DD.")
        if ranged:
            _in_range(times.check_day_in_range, field, value, times.OLDEST_DAY)
        return value

    return convert


def _in_range(check: Callable[..., None], field: str, *args: Any) -> None:
    # An event time outside the calendar's plausible window is refused as event data.
    try:
        check(field, *args)
    except InvalidInput as exc:
        raise EventDataInvalid(field, exc.detail) from None


def _uuid_converter(field: str) -> Converter:
    def convert(value: Any) -> uuid.UUID:
        if isinstance(value, uuid.UUID):
            return value
        try:
            return uuid.UUID(str(value))
        except ValueError:
            raise EventDataInvalid(field, "must be a UUID.") from None

    return convert


def _enum_converter(enum_cls: type[enum.Enum], field: str) -> Converter:
    allowed = ", ".join(str(member.value) for member in enum_cls)

    def convert(value: Any) -> enum.Enum:
        try:
            return enum_cls(value)
        except ValueError:
            raise EventDataInvalid(field, f"must be one of: {allowed}.") from None

    return convert
