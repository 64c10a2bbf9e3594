"""What the reminders API returns: each reminder's state, and why when it is not sent."""

from __future__ import annotations

from typing import Any

from rest_framework import serializers

from crm.domain.events import SmsIntent
from reminders.models import ReminderKind
from reminders.selectors import STATES


class DeliverySerializer(serializers.Serializer):  # type: ignore[type-arg]
    message_id = serializers.UUIDField(allow_null=True)
    sent_at = serializers.DateTimeField(allow_null=True, help_text="Handed to the provider.")
    delivered_at = serializers.DateTimeField(allow_null=True)
    failed_at = serializers.DateTimeField(allow_null=True)
    error_code = serializers.CharField(allow_blank=True, help_text="The provider's code.")


# What a patient's answer was read as (reminders.domain.keywords); "" never reaches a row.
REPLY_INTENTS = [intent.value for intent in SmsIntent if intent.value]


class ReplySerializer(serializers.Serializer):  # type: ignore[type-arg]
    intent = serializers.ChoiceField(
        choices=REPLY_INTENTS,
        help_text="What the text was read as: confirm (C), reschedule (R), opt_out (STOP), "
        "free_text (anything else)...",
    )
    text = serializers.CharField(help_text="The patient's words, as typed.")
    received_at = serializers.DateTimeField(help_text="When the answer came (UTC).")


class ReminderSerializer(serializers.Serializer):  # type: ignore[type-arg]
    reminder_id = serializers.UUIDField()
    patient_id = serializers.UUIDField()
    appointment_id = serializers.UUIDField()
    # ReminderKindEnum in the schema (SPECTACULAR_SETTINGS): "kind" names other choice sets.
    kind = serializers.ChoiceField(
        choices=ReminderKind.choices,
        help_text="reminder (of an appointment), or satisfaction (a survey text).",
    )
    offset_hours = serializers.IntegerField(
        allow_null=True, help_text="Hours before the visit; null for a satisfaction text."
    )
    appointment_starts_at = serializers.DateTimeField()
    due_at = serializers.DateTimeField(help_text="When it goes (UTC), quiet hours applied.")
    due_at_local = serializers.CharField(help_text="The same moment in the patient's zone.")
    timezone = serializers.CharField()
    state = serializers.ChoiceField(choices=STATES)
    reason = serializers.CharField(
        allow_blank=True,
        help_text="Why it is not (or not yet) sent, or how its time was moved; empty when "
        "there is nothing to say.",
    )
    delivery = DeliverySerializer()
    reply = ReplySerializer(
        allow_null=True,
        help_text="The patient's first text back after this one (before the next reminder "
        "and the visit); null when none came.",
    )

    def to_representation(self, instance: Any) -> dict[str, Any]:
        return dict(instance)  # built by reminders.api.views.represent
