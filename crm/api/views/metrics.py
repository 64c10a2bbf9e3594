"""The supervisor's figures over a date range: the numbers of the admin dashboard, for
wallboards and reporting tools. Supervisors only; no patient data, so no access audit."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.utils import timezone
from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.request import Request
from rest_framework.response import Response

from crm.api.base import ApiView
from crm.api.fields import Day
from crm.api.permissions import ReadsFigures
from crm.api.views.churn import ChurnSerializer
from crm.selectors.churn import churn_figures
from crm.selectors.metrics import (
    FCR_REPEAT_DAYS_BOUNDS,
    MAX_RANGE_DAYS,
    SHORT_ABANDON_SECONDS_BOUNDS,
    Thresholds,
    supervisor_figures,
)
from crm.selectors.rates import definitions


def _with_from(fields: dict[str, Any], field: serializers.Field[Any, Any, Any, Any]) -> Any:
    """`from` is a Python keyword, so it cannot be declared; put it first by hand."""
    return {"from": field, **fields}


class MetricsQuery(serializers.Serializer[Any]):
    to = Day(help_text="The last clinic day of the range, inclusive (YYYY-MM-DD).")
    fcr_repeat_days = serializers.IntegerField(
        required=False,
        min_value=FCR_REPEAT_DAYS_BOUNDS[0],
        max_value=FCR_REPEAT_DAYS_BOUNDS[1],
        help_text="First-contact resolution: a contact counts as resolved when the patient "
        "makes no further contact on the same reason within this many days. Default: the "
        "METRICS_FCR_REPEAT_DAYS setting.",
    )
    short_abandon_seconds = serializers.IntegerField(
        required=False,
        min_value=SHORT_ABANDON_SECONDS_BOUNDS[0],
        max_value=SHORT_ABANDON_SECONDS_BOUNDS[1],
        help_text="Abandonment leaves out callers who hung up sooner than this. Default: the "
        "METRICS_SHORT_ABANDON_SECONDS setting.",
    )

    def get_fields(self) -> Any:
        first_day = Day(help_text="The first clinic day of the range, inclusive (YYYY-MM-DD).")
        return _with_from(super().get_fields(), first_day)

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        start, end = attrs["from"], attrs["to"]
        if end < start:
            raise serializers.ValidationError({"to": ["is before from."]})
        if (end - start).days + 1 > MAX_RANGE_DAYS:
            raise serializers.ValidationError(
                {"to": [f"makes a range longer than {MAX_RANGE_DAYS} days; ask for less."]}
            )
        return attrs


class ThresholdsSerializer(serializers.Serializer[Any]):
    fcr_repeat_days = serializers.IntegerField()
    short_abandon_seconds = serializers.IntegerField()


def _rate(help_text: str) -> serializers.FloatField:
    return serializers.FloatField(
        allow_null=True, help_text=help_text + " Null: nothing to measure."
    )


class FiguresSerializer(serializers.Serializer[Any]):
    """The counts of one period (a day, a week, or the whole range) and the rates from them."""

    start = serializers.DateField()
    end = serializers.DateField(help_text="Inclusive.")
    calls = serializers.IntegerField(help_text="Logged calls, texts and chats, both directions.")
    calls_by_channel = serializers.DictField(child=serializers.IntegerField())
    handled = serializers.IntegerField(help_text="Connected contacts.")
    handle_seconds = serializers.IntegerField(help_text="Talk + hold + wrap-up of those.")
    queued = serializers.IntegerField(
        help_text="Inbound voice and chat contacts, short abandons left out."
    )
    abandoned = serializers.IntegerField(
        help_text="Of those, ended before reaching an agent: abandoned in the queue or missed."
    )
    missed = serializers.IntegerField(help_text="Of the abandoned, those nobody picked up.")
    short_hang_ups = serializers.IntegerField(
        help_text="Abandoned or missed sooner than short_abandon_seconds: left out of both."
    )
    first_contacts = serializers.IntegerField(
        help_text="Issues opened by an inbound handled contact with a reason, decided: marked "
        "unresolved, or marked resolved and either repeated or past the repeat window."
    )
    resolved_first_contact = serializers.IntegerField(
        help_text="Of those, marked resolved by the agent with no repeat contact on the same "
        "reason within the window."
    )
    marked_unresolved = serializers.IntegerField(
        help_text="Of those, the agent said something was left to follow up."
    )
    contacted_again = serializers.IntegerField(
        help_text="Of those, marked resolved but the patient came back on the same reason "
        "within the window."
    )
    awaiting_repeat_window = serializers.IntegerField(
        help_text="Marked resolved, no repeat yet, and the window still open: not counted yet."
    )
    visits_closed = serializers.IntegerField(help_text="Visits completed or marked a no-show.")
    no_shows = serializers.IntegerField()
    csat_responses = serializers.IntegerField()
    csat_satisfied = serializers.IntegerField(help_text="Answers of 4 or 5 out of 5.")
    csat_score_total = serializers.IntegerField()
    reminders_sent = serializers.IntegerField(help_text="Reminder texts handed to the provider.")
    reminded_appointments = serializers.IntegerField(
        help_text="Visits whose first reminder text went out in the period."
    )
    confirmed_by_text = serializers.IntegerField(
        help_text="Of those, confirmed by the patient's text reply."
    )
    opt_outs = serializers.IntegerField(
        help_text="Patients who stopped texts by keyword (STOP) or at their carrier."
    )
    average_handle_seconds = _rate("handle_seconds / handled.")
    abandonment_rate = _rate("abandoned / queued.")
    fcr_rate = _rate("resolved_first_contact / first_contacts.")
    no_show_rate = _rate("no_shows / visits_closed.")
    csat_rate = _rate("csat_satisfied / csat_responses.")
    csat_average = _rate("The mean score, 1 to 5.")
    reminder_confirmation_rate = _rate("confirmed_by_text / reminded_appointments.")
    opt_out_rate = _rate("opt_outs / reminders_sent.")


class ChartSeriesSerializer(serializers.Serializer[Any]):
    name = serializers.CharField()
    values = serializers.ListField(child=serializers.FloatField(allow_null=True))


class ChartSerializer(serializers.Serializer[Any]):
    labels = serializers.ListField(child=serializers.CharField())
    series = ChartSeriesSerializer(many=True)


class SectionSerializer(serializers.Serializer[Any]):
    """Figures another part of the CRM adds (open suggestions, reminders), as a table."""

    title = serializers.CharField()
    caption = serializers.CharField(required=False, help_text="What the figures count.")
    columns = serializers.ListField(child=serializers.CharField())
    rows = serializers.ListField(
        child=serializers.ListField(child=serializers.JSONField()),
        help_text="One list per row, a value per column: text, a number or null.",
    )
    chart = ChartSerializer(required=False, help_text="Present when the section has a chart.")


class RateDefinitionSerializer(serializers.Serializer[Any]):
    """What a rate counts: the fields of each period it divides, and in words."""

    title = serializers.CharField()
    numerator = serializers.CharField(help_text="The count over...")
    denominator = serializers.CharField(help_text="...this count (both fields of a period).")
    caption = serializers.CharField(help_text="Exactly what is counted, with the thresholds.")


class MetricsSerializer(serializers.Serializer[Any]):
    to = serializers.DateField()
    bucket = serializers.ChoiceField(
        choices=["day", "week"], help_text="Ranges past 62 days come week by week."
    )
    thresholds = ThresholdsSerializer(help_text="The thresholds these figures were counted with.")
    channels = serializers.ListField(
        child=serializers.CharField(), help_text="Channels with a call in the range, busiest first."
    )
    total = FiguresSerializer(help_text="The whole range.")
    periods = FiguresSerializer(many=True)
    pending_events = serializers.IntegerField(
        help_text="Recent events the figures do not count yet (they catch up within a minute); "
        "capped at 1000."
    )
    sections = serializers.DictField(child=SectionSerializer(), help_text="By section key.")
    definitions = serializers.DictField(
        child=RateDefinitionSerializer(),
        help_text="Each rate of a period, by its field name: its numerator and denominator.",
    )
    churn = ChurnSerializer(
        help_text="Churn per month and 12-month retention for the 12 months up to `to`, read "
        "as of now (docs/churn.md)."
    )

    def get_fields(self) -> Any:
        return _with_from(super().get_fields(), serializers.DateField())


class MetricsApi(ApiView):
    """The same figures as the supervisor dashboard (crm.selectors.metrics), counted by
    clinic day in the clinic's time zone. Rates are null when there was nothing to measure,
    never a made-up 0."""

    permission_classes = [ReadsFigures]
    query_serializer_class = MetricsQuery

    @extend_schema(
        tags=["metrics"],
        summary="The contact center's figures over a date range (supervisors only)",
        parameters=[MetricsQuery],
        responses={200: MetricsSerializer},
    )
    def get(self, request: Request) -> Response:
        query = self.validated_query(request)
        thresholds = Thresholds.from_settings(
            fcr_repeat_days=query.get("fcr_repeat_days"),
            short_abandon_seconds=query.get("short_abandon_seconds"),
        )
        start: dt.date = query["from"]
        now = timezone.now()
        figures = supervisor_figures(start=start, end=query["to"], now=now, thresholds=thresholds)
        churn = churn_figures(end=query["to"], now=now)
        body = {
            **figures.as_dict(),
            "definitions": definitions(figures.thresholds),
            "churn": churn.as_dict(),
        }
        return Response(MetricsSerializer(body).data)
