"""Serializer fields that take JSON at its word: text is a string, a number is a number; for a
clinical record a wrong type is a mistake to report, not to guess around ("12" is not 12)."""

from __future__ import annotations

import datetime as dt
import enum
from typing import Any

from rest_framework import serializers

from crm.domain import times
from crm.domain.errors import InvalidInput


class Text(serializers.CharField):
    default_error_messages = {"invalid": "must be text (a JSON string)."}

    def to_internal_value(self, data: Any) -> str:
        if not isinstance(data, str):
            self.fail("invalid")
        return super().to_internal_value(data)


class WholeNumber(serializers.IntegerField):
    default_error_messages = {"invalid": "must be a whole number (a JSON integer)."}

    def to_internal_value(self, data: Any) -> int:
        if isinstance(data, bool) or not isinstance(data, int):
            self.fail("invalid")
        return super().to_internal_value(data)


class Flag(serializers.BooleanField):
    default_error_messages = {"invalid": "must be true or false."}

    def to_internal_value(self, data: Any) -> bool:
        if not isinstance(data, bool):
            self.fail("invalid")
        return data


class Choice(serializers.ChoiceField):
    """One value of a domain enumeration; the error lists the allowed values."""

    def __init__(self, enum_class: type[enum.Enum], **kwargs: Any) -> None:
        self.enum_class = enum_class
        values = [str(member.value) for member in enum_class]
        allowed = '"{input}" is not allowed; use one of: ' + ", ".join(values) + "."
        # A caller's own messages win over this one, as DRF merges them over its defaults.
        messages = {"invalid_choice": allowed, **kwargs.pop("error_messages", {})}
        # (value, name) pairs, as drf-spectacular hashes an enum named in ENUM_NAME_OVERRIDES.
        super().__init__(
            choices=[(m.value, m.name) for m in enum_class], error_messages=messages, **kwargs
        )

    def to_internal_value(self, data: Any) -> Any:
        if not isinstance(data, str):
            self.fail("invalid_choice", input=data)
        return self.enum_class(super().to_internal_value(data))

    def to_representation(self, value: Any) -> Any:
        return value.value if isinstance(value, enum.Enum) else value


class Moment(serializers.DateTimeField):
    """An ISO 8601 date and time with its UTC offset; always written out in UTC.

    A time without an offset is refused: guessing the zone of a booking is how a patient
    ends up an hour early.
    """

    default_error_messages = {
        "invalid": "must be an ISO 8601 date and time with a UTC offset, "
        "e.g. 2026-11-03T14:30:00-05:00 or 2026-11-03T19:30:00Z.",
        "naive": "must include a UTC offset, e.g. -05:00 or Z.",
        "date": "must be a date and a time, not just a date.",
        "plus": "has a space where its UTC offset's '+' should be; in a URL write '+' "
        "as %2B (2026-11-03T14:30:00%2B01:00) or give the time in UTC with Z.",
    }

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(default_timezone=dt.UTC, **kwargs)

    def to_internal_value(self, value: Any) -> dt.datetime:
        if not isinstance(value, (str, dt.datetime)):
            self.fail("invalid")
        if isinstance(value, str) and _lost_its_plus(value.strip()):
            self.fail("plus")
        result: dt.datetime = super().to_internal_value(value)
        _within(times.check_in_range, result)
        return result

    def enforce_timezone(self, value: dt.datetime) -> dt.datetime:
        if value.tzinfo is None or value.utcoffset() is None:
            self.fail("naive")
        result: dt.datetime = super().enforce_timezone(value)
        return result

    def to_representation(self, value: Any) -> Any:
        if isinstance(value, str):
            value = dt.datetime.fromisoformat(value)
        return super().to_representation(value)


def _within(check: Any, value: Any, *bounds: Any) -> None:
    # The calendar window every event time must fit (crm.domain.times), at the door: a
    # date no clinic could mean is a 400 here, before a query or a command sees it.
    try:
        check("", value, *bounds)
    except InvalidInput as exc:
        raise serializers.ValidationError(exc.detail) from None


def _lost_its_plus(text: str) -> bool:
    """True for "2026-11-03T14:30:00 05:00": an offset whose "+" a URL decoded as a space."""
    if text[-6:-5] != " ":
        return False
    try:
        dt.datetime.fromisoformat(f"{text[:-6]}+{text[-5:]}")
    except ValueError:
        return False
    return True


class Day(serializers.DateField):
    default_error_messages = {
        "invalid": "must be a date as YYYY-MM-DD.",
        "datetime": "must be a date as YYYY-MM-DD, without a time.",
    }

    def to_internal_value(self, value: Any) -> dt.date:
        if not isinstance(value, str):
            self.fail("invalid")
        result: dt.date = super().to_internal_value(value)
        _within(times.check_day_in_range, result, times.OLDEST_DAY)
        return result

    def to_representation(self, value: Any) -> Any:
        if isinstance(value, str):
            return value
        return super().to_representation(value)
