"""Filtersets of the read endpoints: patient search, timeline, access audit."""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass
from typing import Any

import django_filters
from django import forms
from django.conf import settings
from django.db.models import QuerySet
from django_filters.fields import BaseCSVField, IsoDateTimeField
from django_filters.widgets import BaseCSVWidget

from crm.domain.errors import InvalidInput
from crm.domain.events import registered_types
from crm.domain.phones import normalize_phone
from crm.models import AccessAction, AccessLogEntry, Event, PatientIdentifier, PatientProfile

_PHONE_LIKE = re.compile(r"^[\d\s().+\-/]+$")
_US_DATE = re.compile(r"^(\d{1,2})/(\d{1,2})/(\d{4})$")
_ISO_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
# Fewer digits than this match too many numbers to mean anything; from it up to a whole
# number without its area code, a search matches the end of the stored number ("0134").
_LAST_DIGITS = 4
_WHOLE_NUMBER_DIGITS = 7


# --- fields ------------------------------------------------------------------------------


class AwareDateTimeField(IsoDateTimeField):
    """An ISO 8601 date and time that must carry its UTC offset."""

    default_error_messages = {
        "invalid": "must be an ISO 8601 date and time with a UTC offset, "
        "e.g. 2026-11-03T00:00:00-05:00 or 2026-11-03T05:00:00Z.",
        # django-filter %-formats messages, hence the doubled %.
        "naive": "must include a UTC offset (e.g. -05:00 or Z); in a URL write '+' as %%2B.",
    }

    def to_python(self, value: Any) -> dt.datetime | None:
        if value in (None, ""):
            return None
        try:
            parsed = dt.datetime.fromisoformat(str(value).strip())
        except ValueError:
            raise forms.ValidationError(self.error_messages["invalid"], code="invalid") from None
        if parsed.tzinfo is None or parsed.utcoffset() is None:
            raise forms.ValidationError(self.error_messages["naive"], code="naive")
        try:
            return parsed.astimezone(dt.UTC)
        except OverflowError:
            raise forms.ValidationError(self.error_messages["invalid"], code="invalid") from None


@dataclass(frozen=True, slots=True)
class SearchTerm:
    kind: str  # "name", "phone", "phone_ending" (last digits), "date_of_birth", "identifier"
    value: Any
    text: str  # the normalized form, the one the audit digests


class SearchTermField(forms.CharField):
    """A name, a phone number in any format (or its last 4 to 6 digits), or a date of birth
    (YYYY-MM-DD or MM/DD/YYYY)."""

    def __init__(self, **kwargs: Any) -> None:
        kwargs.setdefault("min_length", 2)
        kwargs.setdefault("max_length", 100)
        super().__init__(**kwargs)

    def clean(self, value: Any) -> SearchTerm | None:
        text = super().clean(value)
        if not text:
            return None
        return classify(text)


# `mrn:12345` (or `id:12345`): a patient by an identifier another system gives them, such as
# the EHR's medical record number (kept by the EHR import, docs/fhir.md).
_IDENTIFIER = re.compile(r"^(?:mrn|id):\s*(\S{1,100})$", re.IGNORECASE)


def classify(text: str) -> SearchTerm:
    text = text.strip()
    identifier = _IDENTIFIER.fullmatch(text)
    if identifier:
        return SearchTerm("identifier", identifier.group(1), identifier.group(1))
    if _ISO_DATE.fullmatch(text) or _US_DATE.fullmatch(text):
        return SearchTerm("date_of_birth", _date(text), text)
    if _PHONE_LIKE.fullmatch(text):
        digits = "".join(c for c in text if c.isdigit())
        if len(digits) >= _WHOLE_NUMBER_DIGITS:
            try:
                e164 = normalize_phone(text, region=settings.PHONE_DEFAULT_REGION, field="search")
            except InvalidInput as exc:
                raise _error(exc.detail) from None
            return SearchTerm("phone", e164, e164)
        if len(digits) >= _LAST_DIGITS:
            return SearchTerm("phone_ending", digits, digits)
        if digits:
            raise _error(
                f"{text!r} is too short to find a phone number by; type at least "
                f"{_LAST_DIGITS} of its last digits, or the whole number."
            )
    words = text.lower().split()
    return SearchTerm("name", words, " ".join(words))


def _date(text: str) -> dt.date:
    us = _US_DATE.fullmatch(text)
    try:
        if us:
            month, day, year = (int(part) for part in us.groups())
            return dt.date(year, month, day)
        return dt.date.fromisoformat(text)
    except ValueError:
        raise _error(
            f"{text!r} is not a date; write a date of birth as YYYY-MM-DD or MM/DD/YYYY."
        ) from None


def _error(message: str) -> forms.ValidationError:
    # django-filter %-formats messages: pass text (which may hold a "%") as a parameter.
    return forms.ValidationError("%(message)s", params={"message": message})


# --- filters -----------------------------------------------------------------------------


class SearchFilter(django_filters.CharFilter):
    field_class = SearchTermField


class AwareDateTimeFilter(django_filters.IsoDateTimeFilter):
    field_class = AwareDateTimeField


class ManyValuesWidget(BaseCSVWidget, forms.TextInput):
    """Reads `status=open,claimed`, `status=open&status=claimed` and any mix of the two."""

    def value_from_datadict(self, data: Any, files: Any, name: str) -> Any:
        if name not in data:
            return None
        given = data.getlist(name) if hasattr(data, "getlist") else [data[name]]
        return [part.strip() for value in given for part in str(value).split(",")]


class ManyValuesField(BaseCSVField):
    base_widget_class = ManyValuesWidget

    def clean(self, value: Any) -> Any:
        if value is not None and any(part == "" for part in value):
            raise forms.ValidationError(
                "names an empty value; give one or more values, comma-separated or with "
                "the parameter repeated, or leave the parameter out."
            )
        return super().clean(value)


class ChoiceInFilter(django_filters.BaseInFilter, django_filters.ChoiceFilter):
    """One or more of a closed set of values: comma-separated or the parameter repeated."""

    base_field_class = ManyValuesField


# --- filtersets --------------------------------------------------------------------------


class PatientFilter(django_filters.FilterSet):
    search = SearchFilter(
        method="filter_search",
        required=True,
        help_text="A name (any words of it), a phone number in any format or its last 4 to "
        "6 digits (0134), a date of birth as YYYY-MM-DD or MM/DD/YYYY, or an identifier in "
        "another system such as the EHR's medical record number as mrn:12345. At least 2 "
        "characters.",
    )

    class Meta:
        model = PatientProfile
        fields: list[str] = []

    def filter_search(
        self, queryset: QuerySet[PatientProfile], name: str, term: SearchTerm | None
    ) -> QuerySet[PatientProfile]:
        if term is None:
            return queryset
        if term.kind == "date_of_birth":
            return queryset.filter(date_of_birth=term.value)
        if term.kind == "phone":
            return queryset.filter(phone=term.value)
        if term.kind == "phone_ending":
            return queryset.filter(phone__endswith=term.value)
        if term.kind == "identifier":
            known = PatientIdentifier.objects.filter(value=term.value).values("patient_id")
            return queryset.filter(patient_id__in=known)
        for word in term.value:
            queryset = queryset.filter(search_name__contains=word)
        return queryset


class TimelineFilter(django_filters.FilterSet):
    type = ChoiceInFilter(
        field_name="event_type",
        lookup_expr="in",
        choices=[(name, name) for name in sorted(registered_types())],
        help_text="Only these event types: type=CallLogged&type=NoteAdded, or "
        "comma-separated (CallLogged,NoteAdded).",
    )
    occurred_after = AwareDateTimeFilter(
        field_name="occurred_at",
        lookup_expr="gte",
        help_text="Only events that happened at or after this moment (with UTC offset).",
    )
    occurred_before = AwareDateTimeFilter(
        field_name="occurred_at",
        lookup_expr="lt",
        help_text="Only events that happened before this moment (with UTC offset).",
    )

    class Meta:
        model = Event
        fields: list[str] = []


class AuditFilter(django_filters.FilterSet):
    patient = django_filters.UUIDFilter(field_name="patient_id", help_text="A patient id.")
    user = django_filters.CharFilter(field_name="username", help_text="A username.")
    action = django_filters.ChoiceFilter(choices=AccessAction.choices)
    since = AwareDateTimeFilter(field_name="at", lookup_expr="gte", help_text="At or after.")
    until = AwareDateTimeFilter(field_name="at", lookup_expr="lt", help_text="Before.")

    class Meta:
        model = AccessLogEntry
        fields: list[str] = []
