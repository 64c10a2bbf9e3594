"""What the queue, the screen pop and the commands return about a suggestion."""

from __future__ import annotations

from typing import Any

from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from crm.api.fields import Choice, Moment, Text
from crm.api.serializers import CommandResultSerializer, ProblemSerializer
from engagement.domain.suggestions import CRISIS_OUTCOMES, STOP_REVIEW_OUTCOMES, Kind, Status

# The outcomes a kind takes from a closed set; every other kind takes free text.
CLOSED_OUTCOMES = (*CRISIS_OUTCOMES, *STOP_REVIEW_OUTCOMES)
OUTCOME_MAX_LENGTH = 1000


@extend_schema_field(
    {
        "anyOf": [
            {"type": "string", "enum": list(CLOSED_OUTCOMES)},
            {"type": "string", "minLength": 1, "maxLength": OUTCOME_MAX_LENGTH},
        ]
    }
)
class OutcomeField(Text):
    """What was done: one of CLOSED_OUTCOMES for the kinds that take them, else text."""


class EvidenceSerializer(serializers.Serializer[Any]):
    patient_id = serializers.UUIDField(help_text="The stream the event is in.")
    version = serializers.IntegerField(
        help_text="Its place in that stream: /api/v1/patients/{patient_id}/timeline/{version}/."
    )
    event_type = serializers.CharField()
    occurred_at = Moment()


class SuggestionSerializer(serializers.Serializer[Any]):
    suggestion_id = serializers.CharField(
        help_text="Deterministic from the rule and what it is about, e.g. "
        "no_show_follow_up.<appointment id>; the same after a rebuild or a replay."
    )
    patient_id = serializers.UUIDField()
    kind = Choice(Kind)
    # DRF moves declared fields off the class, so this name shadows nothing.
    label = serializers.CharField(  # type: ignore[assignment]
        help_text="The kind in the clinic's words."
    )
    priority = serializers.IntegerField(help_text="1 is the most urgent (crisis follow-up).")
    status = Choice(
        Status, help_text="As of this response: a claim or a snooze that ran out reads as open."
    )
    opened_at = Moment(help_text="When the need arose.")
    due_at = Moment()
    overdue = serializers.BooleanField(help_text="Open or claimed, and past its due time.")
    reason = serializers.CharField(help_text="Why, citing the events behind it.")
    closed_at = Moment(allow_null=True)
    closed_by = serializers.ChoiceField(
        choices=["agent", "rule"],
        allow_blank=True,
        help_text='"agent", "rule" (closed by itself), or "" while it is not closed.',
    )
    closed_reason = serializers.CharField(help_text="How it was closed, in words.")
    paused_reason = serializers.CharField(
        help_text="Set while routine outreach waits on an open crisis flag."
    )
    outcome = serializers.CharField(help_text="What the agent recorded on completing it.")
    assignee = serializers.CharField(help_text="Who holds the claim, while it holds.")
    claimed_until = Moment(allow_null=True)
    snoozed_until = Moment(allow_null=True)
    evidence = EvidenceSerializer(many=True)
    payload = serializers.DictField(
        help_text="Details for the desktop, by kind: appointment_id, crisis_line, try..."
    )
    evaluated_at = Moment(help_text="The moment the rules were evaluated at.")


class OpenSuggestionSerializer(serializers.Serializer[Any]):
    """A suggestion on the screen pop: enough to act on it during the call."""

    suggestion_id = serializers.CharField()
    kind = Choice(Kind)
    label = serializers.CharField()  # type: ignore[assignment]
    priority = serializers.IntegerField()
    status = Choice(Status)
    due_at = Moment()
    overdue = serializers.BooleanField()
    reason = serializers.CharField()
    assignee = serializers.CharField()
    payload = serializers.DictField()


class SuggestionCommandResultSerializer(CommandResultSerializer):
    suggestion_id = serializers.CharField()
    kind = Choice(Kind)
    claimed_by = serializers.CharField(allow_null=True, help_text="Claim only: who holds it.")
    until = Moment(allow_null=True, help_text="Claim or snooze only: until when.")


class SuggestionClaimedProblemSerializer(ProblemSerializer):
    """A 409 of a suggestion command: who holds it when another agent does."""

    claimed_by = serializers.CharField(
        required=False, help_text="suggestion-claimed only: the agent holding it."
    )
    claimed_until = Moment(required=False, help_text="suggestion-claimed only: until when.")
