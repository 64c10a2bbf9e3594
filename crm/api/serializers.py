"""Serializers shared by several endpoints: the profile, timeline entries, the result of a
command, and the problem document. Per-command input lives beside its view."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from crm.api.fields import Choice, Day, Moment
from crm.domain import events as ev
from crm.models import AccessLogEntry


class StrictInputSerializer(serializers.Serializer[Any]):
    # Refuses fields it does not know: a misspelled field must not be silently dropped.
    # (A comment, not a docstring, so it does not become every request's description.)

    def to_internal_value(self, data: Any) -> Any:
        if isinstance(data, Mapping):
            unknown = sorted(str(key) for key in data if key not in self.fields)
            if unknown:
                known = ", ".join(self.fields) or "no fields"
                raise serializers.ValidationError(
                    {
                        key[:50]: [f"is not a field of this request (it takes {known})."]
                        for key in unknown
                    }
                )
        return super().to_internal_value(data)


# --- reading a patient -------------------------------------------------------------------


class ConsentSerializer(serializers.Serializer[Any]):
    channel = Choice(ev.Channel)
    purpose = Choice(ev.ConsentPurpose)
    granted = serializers.BooleanField()
    at = Moment(help_text="When consent was last given or withdrawn on this channel.")
    source = Choice(ev.ConsentSource)  # type: ignore[assignment]


class LastCrisisSerializer(serializers.Serializer[Any]):
    crisis_id = serializers.UUIDField()
    risk_level = Choice(ev.RiskLevel)
    handoff = Choice(ev.CrisisHandoff)
    safety_plan = Choice(ev.SafetyPlan)


class AppointmentSerializer(serializers.Serializer[Any]):
    appointment_id = serializers.UUIDField()
    appointment_type = Choice(ev.AppointmentType)
    modality = Choice(ev.Modality)
    starts_at = Moment()
    duration_minutes = serializers.IntegerField()
    provider = serializers.CharField()
    location = serializers.CharField()
    confirmed = serializers.BooleanField()


class IdentifierSerializer(serializers.Serializer[Any]):
    system = serializers.CharField(help_text="e.g. the EHR's MRN system, urn:oid:...")
    value = serializers.CharField()
    kind = serializers.CharField(help_text="HL7 v2-0203 type: MR (medical record number), RI.")


class ProfileSerializer(serializers.Serializer[Any]):
    patient_id = serializers.UUIDField()
    version = serializers.IntegerField(help_text="The stream version; also sent as the ETag.")
    as_of = Moment(allow_null=True, help_text="Set when the profile was asked for as_of.")
    display_name = serializers.CharField()
    first_name = serializers.CharField()
    last_name = serializers.CharField()
    preferred_name = serializers.CharField()
    date_of_birth = Day()
    language = serializers.CharField()
    phone = serializers.CharField(allow_null=True, help_text="E.164, e.g. +16175550134.")
    phone_display = serializers.CharField(allow_null=True, help_text="e.g. (617) 555-0134.")
    email = serializers.CharField()
    timezone = serializers.CharField(help_text="The zone the patient's times are shown in.")
    timezone_source = serializers.ChoiceField(choices=["explicit", "phone", "clinic"])
    consents = ConsentSerializer(many=True)
    crisis_flag = serializers.BooleanField(help_text="An open crisis: handle with care.")
    crisis_contacts = serializers.IntegerField()
    crisis_line = serializers.CharField(
        help_text="The crisis line to give or transfer to (CRISIS_LINE, e.g. 988); the "
        "network routes it by the caller's location, never by their area code."
    )
    last_crisis_at = Moment(allow_null=True)
    last_crisis = LastCrisisSerializer(allow_null=True)
    deceased = serializers.BooleanField()
    date_of_death = Day(allow_null=True)
    merged_into = serializers.UUIDField(
        allow_null=True, help_text="Set when this record was merged into another; use that one."
    )
    last_contact_at = Moment(allow_null=True)
    last_visit_by_type = serializers.DictField(child=Moment())
    upcoming_appointments = AppointmentSerializer(
        many=True, help_text="Open appointments that have not ended yet, soonest first."
    )
    next_appointment_at = Moment(allow_null=True)
    calls_count = serializers.IntegerField()
    no_show_count = serializers.IntegerField()
    notes_count = serializers.IntegerField()
    registered_at = Moment()
    updated_at = Moment()
    identifiers = IdentifierSerializer(
        many=True,
        help_text="Identifiers in other systems: the EHR's MRN and its id of the record "
        "(recorded by the EHR import).",
    )


class PatientListItemSerializer(serializers.Serializer[Any]):
    patient_id = serializers.UUIDField()
    display_name = serializers.CharField()
    first_name = serializers.CharField()
    last_name = serializers.CharField()
    preferred_name = serializers.CharField()
    date_of_birth = Day()
    phone = serializers.CharField(allow_null=True)
    deceased = serializers.BooleanField()
    crisis_flag = serializers.BooleanField()


class CandidateSerializer(serializers.Serializer[Any]):
    """Just enough to tell the people sharing a phone apart."""

    patient_id = serializers.UUIDField()
    display_name = serializers.CharField()
    first_name = serializers.CharField()
    last_name = serializers.CharField()
    date_of_birth = Day()
    deceased = serializers.BooleanField()


# --- events ------------------------------------------------------------------------------


# The doors a command comes in by (crm.handlers.Actor.channel).
RECORDED_CHANNELS = ("api", "admin", "sms", "job", "fixture", "system")


class RecordedBySerializer(serializers.Serializer[Any]):
    name = serializers.CharField()
    role = serializers.CharField()
    channel = serializers.ChoiceField(
        choices=RECORDED_CHANNELS,
        allow_null=True,
        help_text="The door it came in by: api, admin, sms (a patient's text), job, fixture "
        "(demo data) or system; null when the record does not say.",
    )


class RecordedEventSerializer(serializers.Serializer[Any]):
    version = serializers.IntegerField(help_text="Its place in the patient's stream.")
    type = serializers.CharField(help_text="The event type, e.g. CallLogged.")
    occurred_at = Moment(help_text="When it happened in the clinic.")
    recorded_at = Moment(help_text="When it was stored.")
    recorded_by = RecordedBySerializer()
    redacted = serializers.BooleanField(
        help_text="True when a restricted note's text is withheld (clinicians only)."
    )
    # DRF moves declared fields off the class, so these names do not shadow anything.
    data = serializers.DictField(  # type: ignore[assignment]
        help_text="The event's fields, at its current schema."
    )


class TimelineEntrySerializer(RecordedEventSerializer):
    summary = serializers.CharField(
        help_text="One line for the agent, times in the patient's zone."
    )
    readable = serializers.BooleanField(
        help_text="False for an event this release cannot read (a newer release wrote it "
        "during an upgrade): the entry says that it is there, when and by whom; its data "
        "is empty until the release that reads it is deployed."
    )


class LookupSerializer(serializers.Serializer[Any]):
    phone = serializers.CharField(help_text="The number looked up, in E.164.")
    match_count = serializers.IntegerField(help_text="How many patients have this number.")
    patient = ProfileSerializer(
        allow_null=True, help_text="The profile when exactly one patient matched (or was picked)."
    )
    recent_timeline = TimelineEntrySerializer(
        many=True, help_text="The patient's last 10 timeline entries, newest first."
    )
    candidates = CandidateSerializer(
        many=True, help_text="Every match shown (at most 20), to let the agent pick one."
    )

    def get_fields(self) -> dict[str, serializers.Field[Any, Any, Any, Any]]:
        # Sections other apps add (crm.extensions), read here so the schema shows them too.
        from crm.extensions import screen_pop_sections

        fields = super().get_fields()
        for section in screen_pop_sections():
            fields[section.key] = section.serializer(many=True, help_text=section.help_text or None)
        return fields


class CommandResultSerializer(serializers.Serializer[Any]):
    patient_id = serializers.UUIDField()
    version = serializers.IntegerField(help_text="The stream version after the command (ETag).")
    changed = serializers.BooleanField(help_text="False when the record already said this.")
    events = RecordedEventSerializer(many=True, help_text="What was recorded.")


class AccessLogEntrySerializer(serializers.ModelSerializer[AccessLogEntry]):
    at = Moment()

    class Meta:
        model = AccessLogEntry
        fields = [
            "id",
            "at",
            "user_id",
            "username",
            "role",
            "patient_id",
            "action",
            "endpoint",
            "source_address",
            "outcome",
            "status_code",
            "query_digest",
        ]


@extend_schema_field({"$ref": "#/components/schemas/ProblemType"})
class ProblemTypeField(serializers.CharField):
    """Its enum lists every problem type the API has (crm.api.schema adds it)."""


class ProblemSerializer(serializers.Serializer[Any]):
    """RFC 9457 problem details, served as application/problem+json."""

    type = ProblemTypeField(help_text="A URI reference naming the kind of problem.")
    title = serializers.CharField()
    status = serializers.IntegerField()
    detail = serializers.CharField(help_text="What went wrong this time, for a person.")
    instance = serializers.CharField(required=False, help_text="The request path.")
    errors = serializers.DictField(  # type: ignore[assignment]
        child=serializers.ListField(child=serializers.CharField()),
        help_text='What to fix: a field, query parameter or header name (or "body") '
        "mapped to messages. Empty when no single input is to blame.",
    )
    current_version = serializers.IntegerField(
        required=False, allow_null=True, help_text="412 only: the patient's version now."
    )
    normalized_phone = serializers.CharField(
        required=False, help_text="Lookup 404 only: the number as searched, in E.164."
    )
    patient_id = serializers.UUIDField(required=False, help_text="404 only: the id asked for.")
