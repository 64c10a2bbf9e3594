"""Commands about reaching the patient and what happened when we did: contact details,
consent, calls, notes and crisis contacts."""

from __future__ import annotations

from typing import Any

from drf_spectacular.utils import extend_schema
from rest_framework import serializers, status

from crm import handlers
from crm.api.commands import CommandApi, event_field
from crm.api.fields import Choice, Flag, Moment, Text, WholeNumber
from crm.api.problems import Problem
from crm.api.roles import may_read_restricted_notes
from crm.api.serializers import CommandResultSerializer, StrictInputSerializer
from crm.domain import events as ev
from crm.handlers import Actor, CommandResult
from crm.handlers.base import CommandOptions

DAY_SECONDS = 24 * 3600


@extend_schema(tags=["patients"], summary="Replace the patient's contact details")
class ContactDetailsApi(CommandApi):
    """The full set of contact details after the change: a field left out would be erased,
    so all three are required (send null / "" to clear one)."""

    class InputSerializer(StrictInputSerializer):
        phone = Text(
            max_length=40,
            allow_null=True,
            allow_blank=True,
            help_text="Any format; null to remove the number.",
        )
        email = Text(max_length=254, allow_blank=True)
        timezone = Text(
            max_length=64,
            allow_blank=True,
            help_text="An IANA zone such as America/Chicago; blank to derive it from the phone.",
        )

    records = frozenset({"ContactDetailsChanged"})

    def execute(
        self, *, data: dict[str, Any], actor: Actor, options: CommandOptions, **kwargs: Any
    ) -> CommandResult:
        return handlers.contact_details_change(
            patient_id=kwargs["patient_id"],
            phone=data["phone"],
            email=data["email"],
            timezone_name=data["timezone"],
            actor=actor,
            **options,
        )


@extend_schema(tags=["patients"], summary="Record that the patient gave or withdrew consent")
class ConsentApi(CommandApi):
    """granted: true records consent for one purpose on one channel; granted: false withdraws
    it, for one purpose or (purpose left out) for every purpose on that channel."""

    class InputSerializer(StrictInputSerializer):
        channel = Choice(ev.Channel)
        granted = Flag()
        purpose = Choice(ev.ConsentPurpose, required=False, allow_null=True, default=None)
        source = Choice(  # type: ignore[assignment]
            ev.ConsentSource, help_text="How the patient told us."
        )

        def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
            if attrs["granted"] and attrs.get("purpose") is None:
                raise serializers.ValidationError(
                    {"purpose": ["is required when granting consent."]}
                )
            return attrs

    records = frozenset({"ConsentRecorded", "ConsentRevoked"})

    def execute(
        self, *, data: dict[str, Any], actor: Actor, options: CommandOptions, **kwargs: Any
    ) -> CommandResult:
        if data["granted"]:
            return handlers.consent_record(
                patient_id=kwargs["patient_id"],
                channel=data["channel"],
                purpose=data["purpose"],
                source=data["source"],
                actor=actor,
                **options,
            )
        return handlers.consent_revoke(
            patient_id=kwargs["patient_id"],
            channel=data["channel"],
            purpose=data["purpose"],
            source=data["source"],
            actor=actor,
            **options,
        )


class CallResultSerializer(CommandResultSerializer):
    call_id = serializers.UUIDField(allow_null=True)


@extend_schema(tags=["patients"], summary="Log a call, text conversation or chat")
class CallLogApi(CommandApi):
    """The agent's own name is recorded as the call's agent; started_at must not be in
    the future, and resolved_first_contact can only be true for a call that connected.
    The reason comes from the clinic's list (GET /api/v1/contact-reasons/): a reason_code
    not on it is a 400 naming the codes it has; "other" needs the reason in words."""

    class InputSerializer(StrictInputSerializer):
        direction = Choice(ev.CallDirection)
        channel = Choice(ev.Channel, required=False, default=ev.Channel.VOICE)
        started_at = Moment()
        duration_seconds = WholeNumber(min_value=0, max_value=DAY_SECONDS)
        disposition = Choice(ev.CallDisposition)
        reason_code = Text(
            max_length=40,
            required=False,
            allow_blank=True,
            default="",
            help_text="A code of the clinic's contact reasons (GET /api/v1/contact-reasons/), "
            'or "other". First-contact resolution matches repeat contacts on it.',
        )
        reason = Text(
            max_length=1000,
            required=False,
            allow_blank=True,
            default="",
            help_text='In words: required with "other"; with a listed code, the list\'s label '
            'when left blank. Without reason_code it is an "other" reason.',
        )
        resolved_first_contact = Flag(
            required=False,
            default=False,
            help_text="The agent's answer: the patient needs nothing more on this reason.",
        )
        hold_seconds = WholeNumber(min_value=0, max_value=DAY_SECONDS, required=False, default=0)
        wrap_up_seconds = WholeNumber(min_value=0, max_value=DAY_SECONDS, required=False, default=0)

    OutputSerializer = CallResultSerializer
    records = frozenset({"CallLogged"})
    creates = True

    def execute(
        self, *, data: dict[str, Any], actor: Actor, options: CommandOptions, **kwargs: Any
    ) -> CommandResult:
        return handlers.call_log(patient_id=kwargs["patient_id"], actor=actor, **data, **options)

    def extra_output(self, result: CommandResult) -> dict[str, Any]:
        return {"call_id": event_field(result, "call_id")}


class NoteResultSerializer(CommandResultSerializer):
    note_id = serializers.UUIDField(allow_null=True)


class RestrictedNoteRefused(Problem):
    status_code = status.HTTP_403_FORBIDDEN


@extend_schema(tags=["patients"], summary="Add a note")
class NoteAddApi(CommandApi):
    """A restricted note's text is shown to clinicians only, and only clinicians write one
    (anyone else: 403, nothing recorded)."""

    extra_problems = {
        403: "Your account lacks the role this needs, or sent restricted: true and is not "
        "a clinician."
    }

    class InputSerializer(StrictInputSerializer):
        text = Text(max_length=10_000)
        restricted = Flag(required=False, default=False)

    OutputSerializer = NoteResultSerializer
    records = frozenset({"NoteAdded"})
    creates = True

    def execute(
        self, *, data: dict[str, Any], actor: Actor, options: CommandOptions, **kwargs: Any
    ) -> CommandResult:
        if data["restricted"] and not may_read_restricted_notes(self.request.user):
            # Nobody writes what they could not read back (docs/roles.md).
            raise RestrictedNoteRefused(
                "Only clinicians may write a restricted note; nothing was recorded. "
                "Send it without restricted, or ask a clinician to write it.",
                errors={"restricted": ["is for clinicians only."]},
            )
        return handlers.note_add(patient_id=kwargs["patient_id"], actor=actor, **data, **options)

    def extra_output(self, result: CommandResult) -> dict[str, Any]:
        return {"note_id": event_field(result, "note_id")}


class CrisisResultSerializer(CommandResultSerializer):
    crisis_id = serializers.UUIDField(allow_null=True)


@extend_schema(tags=["patients"], summary="Record a crisis contact")
class CrisisContactApi(CommandApi):
    """Always recorded, even on a record marked deceased or merged: a crisis is never lost."""

    class InputSerializer(StrictInputSerializer):
        risk_level = Choice(ev.RiskLevel)
        handoff = Choice(ev.CrisisHandoff)
        safety_plan = Choice(ev.SafetyPlan)
        summary = Text(max_length=10_000, required=False, allow_blank=True, default="")

    OutputSerializer = CrisisResultSerializer
    records = frozenset({"CrisisContactRecorded"})
    creates = True

    def execute(
        self, *, data: dict[str, Any], actor: Actor, options: CommandOptions, **kwargs: Any
    ) -> CommandResult:
        return handlers.crisis_contact_record(
            patient_id=kwargs["patient_id"], actor=actor, **data, **options
        )

    def extra_output(self, result: CommandResult) -> dict[str, Any]:
        return {"crisis_id": event_field(result, "crisis_id")}
