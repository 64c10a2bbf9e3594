"""The desk's calls: the calls ringing, waiting or held for the agent, one call by its sid,
whose call it was (attribution) and the agent's wrap-up, added to that same call."""

from __future__ import annotations

import re
import uuid
from typing import Any

from django.utils import timezone
from drf_spectacular.utils import OpenApiExample, extend_schema
from rest_framework import serializers, status
from rest_framework.request import Request
from rest_framework.response import Response

from crm.api.audit import AccessNote
from crm.api.base import ApiView
from crm.api.fields import Choice, Flag, Text, WholeNumber
from crm.api.problems import PROBLEM_BASE, Problem
from crm.api.serializers import StrictInputSerializer
from crm.models import AccessAction, LiveCall
from crm.roles import actor_for
from crm.voice import handlers

DAY_SECONDS = 24 * 3600
_CALL_SID = re.compile(r"CA[0-9a-fA-F]{32}")
MAX_LISTED = 100
SID = "CA0123456789abcdef0123456789abcdef"


class CallMissing(Problem):
    status_code = status.HTTP_404_NOT_FOUND
    problem_type = PROBLEM_BASE + "call-not-found"
    title = "No such call."


class CallLoggedElsewhere(Problem):
    status_code = status.HTTP_409_CONFLICT
    problem_type = PROBLEM_BASE + "call-already-logged"
    title = "The call is already logged on another patient."


class WrapUpSerializer(serializers.Serializer[Any]):
    agent = serializers.CharField(help_text="Who gave it (a username).")
    reason_code = serializers.CharField()
    reason = serializers.CharField()
    resolved_first_contact = serializers.BooleanField()
    note = serializers.CharField()
    wrap_up_seconds = serializers.IntegerField()


class CallSerializer(serializers.Serializer[Any]):
    call_sid = serializers.CharField(help_text="Twilio's CallSid.")
    call_id = serializers.UUIDField(help_text="The call's id on the patient's timeline.")
    state = serializers.ChoiceField(
        choices=LiveCall.State.values,
        help_text="live: ringing, waiting or talking; held: ended, waiting for the agent to "
        "say whose call it was (POST .../attribute/); ended: logged on the patient's record.",
    )
    phone = serializers.CharField(help_text='The caller\'s number in E.164; "" when withheld.')
    candidates = serializers.ListField(
        child=serializers.UUIDField(),
        help_text="The records with this number when it rang (a household: several).",
    )
    patient_id = serializers.UUIDField(
        allow_null=True, help_text="Whose call it is: the only match, or the agent's choice."
    )
    crisis_first = serializers.BooleanField(help_text="Put first in line: an open crisis flag.")
    queue_position = serializers.IntegerField(
        allow_null=True,
        help_text="Its place in line when it rang (1: next), as the CRM can tell: crisis "
        "callers first, then the calls that came in before it and have not ended (Twilio "
        "reports a call's leaving the queue only when it ends).",
    )
    started_at = serializers.DateTimeField()
    ended_at = serializers.DateTimeField(allow_null=True)
    disposition = serializers.CharField(
        help_text='connected, no_answer, busy, abandoned (hung up in the queue) or missed; "" '
        "while live."
    )
    talk_seconds = serializers.IntegerField(allow_null=True)
    queue_seconds = serializers.IntegerField(allow_null=True)
    logged = serializers.BooleanField(help_text="Logged on the patient's record (once).")
    wrap_up = WrapUpSerializer(
        allow_null=True, help_text="The agent's wrap-up, added to the logged call."
    )


_EXAMPLE = {
    "call_sid": SID,
    "call_id": "5f0c2b2e-8d0a-4a8e-9a43-3f1b7c1d2e4f",
    "state": "held",
    "phone": "+16175550134",
    "candidates": ["0b6a5c61-4c1f-4f7e-9f1e-6f7c8a9b0c1d", "9d1e2f30-7a6b-4c5d-8e9f-0a1b2c3d4e5f"],
    "patient_id": None,
    "crisis_first": False,
    "queue_position": 2,
    "started_at": "2026-11-03T14:00:00Z",
    "ended_at": "2026-11-03T14:05:10Z",
    "disposition": "connected",
    "talk_seconds": 280,
    "queue_seconds": 30,
    "logged": False,
    "wrap_up": None,
}


def call_document(call: LiveCall) -> dict[str, Any]:
    return {
        "call_sid": call.call_sid,
        "call_id": call.call_id,
        "state": call.state,
        "phone": call.phone,
        "candidates": list(call.candidates),
        "patient_id": call.patient_id,
        "crisis_first": call.crisis_first,
        "queue_position": call.queue_position,
        "started_at": call.started_at,
        "ended_at": call.ended_at,
        "disposition": call.disposition,
        "talk_seconds": call.talk_seconds,
        "queue_seconds": call.queue_seconds,
        "logged": call.logged_at is not None,
        "wrap_up": _wrap_up_shown(call.wrap_up),
    }


def _wrap_up_shown(wrap_up: dict[str, Any] | None) -> dict[str, Any] | None:
    """The wrap-up as the agent gave it (the ids kept to record it as theirs stay inside)."""
    if wrap_up is None:
        return None
    return {key: value for key, value in wrap_up.items() if key not in ("agent_id", "role")}


def _notes(calls: list[LiveCall]) -> list[AccessNote]:
    """One audit row per patient a call names (its candidates and its patient)."""
    seen: dict[uuid.UUID, None] = {}
    for call in calls:
        for patient in [*call.candidates, call.patient_id]:
            if patient:
                seen[uuid.UUID(str(patient))] = None
    return [AccessNote(patient, "returned") for patient in seen] or [AccessNote(None, "returned")]


class CallsQuery(serializers.Serializer[Any]):
    state = Choice(
        LiveCall.State,
        required=False,
        help_text="Only calls in this state; without it, the calls live and held (the desk's "
        "work), state=ended for those logged.",
    )


@extend_schema(tags=["desk"])
class CallsApi(ApiView):
    """The clinic's calls from the phone system, newest first (at most 100): by default those
    live and held for the agent."""

    query_serializer_class = CallsQuery

    @extend_schema(
        summary="Calls live, held for the agent, or ended",
        parameters=[CallsQuery],
        responses={200: CallSerializer(many=True)},
        examples=[OpenApiExample("A held call from a household", value=[_EXAMPLE])],
    )
    def get(self, request: Request) -> Response:
        query = self.validated_query(request)
        calls = LiveCall.objects.order_by("-started_at", "call_sid")
        wanted = (
            [query["state"]] if query.get("state") else [LiveCall.State.LIVE, LiveCall.State.HELD]
        )
        calls = calls.filter(state__in=wanted)
        listed = list(calls[:MAX_LISTED])
        self.access_notes = _notes(listed)
        return Response(CallSerializer([call_document(c) for c in listed], many=True).data)


@extend_schema(tags=["desk"])
class CallDetailApi(ApiView):
    extra_problems = {404: "No call with this sid came through the clinic's phone system."}

    @extend_schema(
        summary="One call by its Twilio CallSid",
        responses={200: CallSerializer},
        examples=[OpenApiExample("A held call", value=_EXAMPLE)],
    )
    def get(self, request: Request, call_sid: str) -> Response:
        call = LiveCall.objects.filter(call_sid=_known_shape(call_sid)).first()
        if call is None:
            raise _missing(call_sid)
        self.access_notes = _notes([call])
        return Response(CallSerializer(call_document(call)).data)


class AttributeInput(StrictInputSerializer):
    patient_id = serializers.UUIDField(help_text="The patient the call was from.")


@extend_schema(tags=["desk"])
class CallAttributeApi(ApiView):
    """Whose call it was, when the number does not say (a household sharing a phone, or a
    caller the clinic did not know: register them first). A call already ended and held
    for this is logged on that patient now; a live one, when it ends. Said again for the
    same patient, it changes nothing; for another once logged, 409."""

    audit_action = AccessAction.CHANGE
    extra_problems = {
        404: "No such call.",
        409: "The call is already logged on another patient.",
    }

    @extend_schema(
        summary="Say whose call it was",
        request=AttributeInput,
        responses={200: CallSerializer},
        examples=[
            OpenApiExample(
                "The agent picks the caller",
                value={"patient_id": "0b6a5c61-4c1f-4f7e-9f1e-6f7c8a9b0c1d"},
                request_only=True,
            )
        ],
    )
    def post(self, request: Request, call_sid: str) -> Response:
        data = _valid(AttributeInput, request)
        try:
            call = handlers.call_attribute(
                call_sid=_known_shape(call_sid),
                patient_id=data["patient_id"],
                agent=actor_for(request.user, channel="api"),
                now=timezone.now(),
            )
        except handlers.CallNotFound:
            raise _missing(call_sid) from None
        except handlers.CallAlreadyLogged as exc:
            raise CallLoggedElsewhere(
                f"Call {call_sid} is logged on patient {exc.call.patient_id}; nothing changed.",
                patient_id=str(exc.call.patient_id),
            ) from None
        self.access_notes = [AccessNote(data["patient_id"], "changed")]
        return Response(CallSerializer(call_document(call)).data)


class WrapUpInput(StrictInputSerializer):
    reason_code = Text(
        max_length=40,
        required=False,
        allow_blank=True,
        default="",
        help_text="A code of the clinic's contact reasons (GET /api/v1/contact-reasons/), "
        'or "other".',
    )
    reason = Text(
        max_length=1000,
        required=False,
        allow_blank=True,
        default="",
        help_text='In words: required with "other"; the list\'s label when left blank.',
    )
    resolved_first_contact = Flag(
        required=False,
        default=False,
        help_text="The agent's answer: nothing more to follow up (a connected call only).",
    )
    note = Text(max_length=2000, required=False, allow_blank=True, default="")
    wrap_up_seconds = WholeNumber(min_value=0, max_value=DAY_SECONDS, required=False, default=0)


@extend_schema(tags=["desk"])
class CallWrapUpApi(ApiView):
    """The agent's wrap-up, added to the same call (one call on the timeline, its reason and
    resolution in the figures): before the call is logged it is kept and added when it is.
    Sent again, it corrects the last one."""

    audit_action = AccessAction.CHANGE
    extra_problems = {404: "No such call."}

    @extend_schema(
        summary="Wrap up a call: reason, resolved on first contact, note",
        request=WrapUpInput,
        responses={200: CallSerializer},
        examples=[
            OpenApiExample(
                "Billing question, resolved",
                value={
                    "reason_code": "billing",
                    "reason": "",
                    "resolved_first_contact": True,
                    "note": "Explained the statement.",
                    "wrap_up_seconds": 45,
                },
                request_only=True,
            )
        ],
    )
    def post(self, request: Request, call_sid: str) -> Response:
        data = _valid(WrapUpInput, request)
        try:
            call = handlers.call_wrap_up(
                call_sid=_known_shape(call_sid),
                agent=actor_for(request.user, channel="api"),
                now=timezone.now(),
                **data,
            )
        except handlers.CallNotFound:
            raise _missing(call_sid) from None
        self.access_notes = (
            _notes([call]) if call.patient_id is None else [AccessNote(call.patient_id, "changed")]
        )
        return Response(CallSerializer(call_document(call)).data)


def _valid(serializer_class: type[StrictInputSerializer], request: Request) -> dict[str, Any]:
    serializer = serializer_class(data=request.data)
    serializer.is_valid(raise_exception=True)
    return dict(serializer.validated_data)


def _known_shape(call_sid: str) -> str:
    """The sid, or a 404 before the database sees a value no call can have."""
    if _CALL_SID.fullmatch(call_sid) is None:
        raise _missing(call_sid)
    return call_sid


def _missing(call_sid: str) -> CallMissing:
    shown = call_sid[:40] if call_sid.isprintable() else "with this sid"
    return CallMissing(f"No call {shown} came through the clinic's phone system.")
