"""The shape of `churn` in `GET /api/v1/metrics/`: churn per month and 12-month retention, each
with its numerator and denominator, by visit type and by language (crm.selectors.churn)."""

from __future__ import annotations

from typing import Any

from rest_framework import serializers


def _rate(help_text: str) -> serializers.FloatField:
    return serializers.FloatField(
        allow_null=True, help_text=help_text + " Null: nobody to measure."
    )


class ChurnCountsSerializer(serializers.Serializer[Any]):
    in_care_at_start = serializers.IntegerField(
        help_text="Patients in care at the month's start (the churn's denominator)."
    )
    lapsed = serializers.IntegerField(
        help_text="Of those, patients who lapsed during the month (the churn's numerator)."
    )
    churn_rate = _rate("lapsed / in_care_at_start.")
    retention_base = serializers.IntegerField(
        help_text="Patients in care 12 months before the month's end, not left out since "
        "(the retention's denominator)."
    )
    retained = serializers.IntegerField(
        help_text="Of those, patients in care at the month's end, whether or not they lapsed "
        "and came back in between (the numerator)."
    )
    retention_rate = _rate("retained / retention_base.")


class LeftOutSerializer(serializers.Serializer[Any]):
    """Patients left out of the figures at the month's start, by why."""

    deceased = serializers.IntegerField()
    merged = serializers.IntegerField(help_text="Duplicate records merged into another.")
    opted_out = serializers.IntegerField(
        help_text="Consent withdrawn for every purpose on both phone and text."
    )


class ChurnMonthSerializer(ChurnCountsSerializer):
    month = serializers.CharField(help_text="YYYY-MM, in the clinic's time zone.")
    start = serializers.DateTimeField(help_text="The month's first moment (UTC).")
    end = serializers.DateTimeField(
        help_text="The next month's first moment, or now while the month runs (UTC)."
    )
    # DRF's metaclass takes declared fields off the class, so the serializer's own
    # `partial` and `label` attributes are untouched; mypy sees only the names.
    partial = serializers.BooleanField(  # type: ignore[assignment]
        help_text="The month is still running."
    )
    left_out = LeftOutSerializer()
    by_visit_type = serializers.DictField(
        child=ChurnCountsSerializer(),
        help_text="By the type of the patient's last visit before the month (or before the "
        "retention window, for someone counted there only).",
    )
    by_language = serializers.DictField(
        child=ChurnCountsSerializer(), help_text="By preferred language (its code)."
    )


class ChurnGroupSerializer(serializers.Serializer[Any]):
    """A visit type or a language over the 12 months."""

    key = serializers.CharField()
    label = serializers.CharField()  # type: ignore[assignment]  # see ChurnMonthSerializer
    in_care_at_start = serializers.IntegerField(help_text="Added up over the months.")
    lapsed = serializers.IntegerField(help_text="Added up over the months.")
    churn_rate = _rate("lapsed / in_care_at_start: the average month's churn.")
    retention_base = serializers.IntegerField(help_text="Of the last month's window.")
    retained = serializers.IntegerField(help_text="Of the last month's window.")
    retention_rate = _rate("retained / retention_base.")


class ChurnDefinitionSerializer(serializers.Serializer[Any]):
    active_months = serializers.IntegerField(help_text="The CHURN_ACTIVE_MONTHS setting.")
    lapse_days = serializers.DictField(
        child=serializers.IntegerField(),
        help_text="The CHURN_LAPSE_DAYS setting: days by the last visit's type...",
    )
    other_lapse_days = serializers.IntegerField(help_text="...and for every other type.")
    caption = serializers.CharField(help_text="The definition in words, as on the dashboard.")


class ChurnSerializer(serializers.Serializer[Any]):
    definition = ChurnDefinitionSerializer()
    months = ChurnMonthSerializer(
        many=True, help_text="The 12 months up to the month of `to`, oldest first."
    )
    by_visit_type = ChurnGroupSerializer(many=True)
    by_language = ChurnGroupSerializer(many=True)
    pending_events = serializers.IntegerField(
        help_text="Recent events the churn figures do not count yet; capped at 1000."
    )
