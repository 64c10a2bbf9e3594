"""The agent's queue: list suggestions, claim one, then complete, dismiss or snooze it (crm's
command conventions), and one patient's suggestions now or as of a past moment."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any, ClassVar

from django.utils import timezone
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import mixins, serializers, status
from rest_framework.request import Request
from rest_framework.response import Response

from crm.api.audit import AccessNote
from crm.api.base import ApiGenericView, ApiView
from crm.api.commands import CommandApi, key_used_elsewhere
from crm.api.fields import Moment, Text
from crm.api.pagination import ListPagination
from crm.api.problems import PatientMissing, Problem
from crm.api.serializers import StrictInputSerializer
from crm.api.views.appointments import EmptyInputSerializer
from crm.domain import events as ev
from crm.handlers import Actor, CommandResult
from crm.handlers.base import CommandOptions
from crm.models import PatientProfile
from engagement import handlers
from engagement.api.filtersets import SuggestionFilter
from engagement.api.serializers import (
    OUTCOME_MAX_LENGTH,
    OutcomeField,
    SuggestionClaimedProblemSerializer,
    SuggestionCommandResultSerializer,
    SuggestionSerializer,
)
from engagement.domain.decisions import SuggestionHeld, SuggestionNotFound
from engagement.models import Suggestion
from engagement.selectors import (
    ACTIONABLE,
    as_of,
    document,
    found_document,
    in_queue_order,
    survivor_of,
    with_status,
)

IF_MATCH = OpenApiParameter(
    "If-Match",
    OpenApiTypes.STR,
    OpenApiParameter.HEADER,
    description='The patient\'s ETag from your last read, e.g. "7": record only if the '
    "patient is still at that version (else 412, nothing recorded).",
)


class SuggestionMissing(Problem):
    status_code = status.HTTP_404_NOT_FOUND
    problem_type = "/api/problems/suggestion-not-found"
    title = "No such suggestion."


class SuggestionHeldProblem(Problem):
    status_code = status.HTTP_409_CONFLICT
    problem_type = "/api/problems/suggestion-claimed"
    title = "Another agent is working on this suggestion."


@extend_schema(tags=["suggestions"])
class SuggestionQueueApi(mixins.ListModelMixin, ApiGenericView):
    """The queue: highest priority first, then the most overdue."""

    queryset = Suggestion.objects.all()
    serializer_class = SuggestionSerializer
    filterset_class = SuggestionFilter
    pagination_class = ListPagination

    def get_queryset(self) -> Any:
        rows = in_queue_order(Suggestion.objects.all())
        if "status" not in self.request.query_params:
            rows = with_status(rows, ACTIONABLE, timezone.now())
        return rows

    @extend_schema(
        summary="The suggestion queue, most urgent and most overdue first",
        description="Open and claimed suggestions unless status says otherwise. Every "
        "patient listed is recorded in the access audit.",
    )
    def get(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        return self.list(request, *args, **kwargs)

    def list(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        page = self.paginate_queryset(self.filter_queryset(self.get_queryset()))
        assert page is not None
        now = timezone.now()
        patients = list(dict.fromkeys(row.patient_id for row in page))
        self.access_notes = [AccessNote(pid, "queue_listed") for pid in patients]
        data = SuggestionSerializer([document(row, now) for row in page], many=True).data
        return self.get_paginated_response(data)


class PatientSuggestionsQuery(serializers.Serializer[Any]):
    as_of = Moment(
        required=False,
        help_text="Replay the patient's suggestions as they stood at this moment, from the "
        "events stored by then (ISO 8601 with UTC offset; write '+' as %2B in a URL).",
    )


class PatientSuggestionsSerializer(serializers.Serializer[Any]):
    patient_id = serializers.UUIDField()
    as_of = Moment(allow_null=True, help_text="Set when the suggestions were replayed as_of.")
    suggestions = SuggestionSerializer(many=True, help_text="Most urgent first, every status.")


@extend_schema(tags=["suggestions"])
class PatientSuggestionsApi(ApiView):
    query_serializer_class = PatientSuggestionsQuery

    @extend_schema(
        summary="A patient's suggestions, now or as of a past moment",
        description="Without as_of: the queue's rows for this patient, every status. With "
        "as_of: what was suggested at that moment, replayed from the stream with today's rules.",
        parameters=[PatientSuggestionsQuery],
        responses={200: PatientSuggestionsSerializer},
    )
    def get(self, request: Request, patient_id: uuid.UUID) -> Response:
        moment: dt.datetime | None = self.validated_query(request).get("as_of")
        if not PatientProfile.objects.filter(patient_id=patient_id).exists():
            raise PatientMissing(f"No patient with id {patient_id}.", patient_id=str(patient_id))
        if moment is None:
            now = timezone.now()
            rows = Suggestion.objects.filter(patient_id=patient_id).order_by(
                "priority", "due_at", "suggestion_id"
            )
            items = [document(row, now) for row in rows]
        else:
            replayed = as_of(patient_id, moment)
            if replayed is None:
                raise PatientMissing(
                    f"Patient {patient_id} was not registered yet at {moment.isoformat()}.",
                    patient_id=str(patient_id),
                )
            items = [found_document(found, moment) for found in replayed]
        body = {"patient_id": patient_id, "as_of": moment, "suggestions": items}
        return Response(PatientSuggestionsSerializer(body).data)


# --- commands ----------------------------------------------------------------------------


class SuggestionCommandApi(CommandApi):
    """A command on one suggestion, named in the path."""

    OutputSerializer = SuggestionCommandResultSerializer
    problem_serializers = {409: SuggestionClaimedProblemSerializer}
    extra_problems = {
        404: "No such suggestion (or the queue has not caught up with it yet).",
        409: "Another agent holds the suggestion (claimed_by, claimed_until say who and "
        "until when), or its state does not allow this (the detail says why).",
        412: "If-Match named a version the patient's record has moved past; nothing was recorded.",
    }
    handler: ClassVar[Any]

    def execute(
        self, *, data: dict[str, Any], actor: Actor, options: CommandOptions, **kwargs: Any
    ) -> CommandResult:
        suggestion_id = kwargs["suggestion_id"]
        owner = (
            Suggestion.objects.filter(suggestion_id=suggestion_id)
            .values_list("patient_id", flat=True)
            .first()
        )
        if owner is None:
            raise _missing(suggestion_id)
        try:
            result: CommandResult = type(self).handler(
                patient_id=survivor_of(owner),
                suggestion_id=suggestion_id,
                actor=actor,
                **data,
                **options,
            )
            return result
        except SuggestionNotFound:
            raise _missing(suggestion_id) from None
        except SuggestionHeld as held:
            raise SuggestionHeldProblem(
                held.message,
                errors={},
                claimed_by=held.holder,
                claimed_until=Moment().to_representation(held.until),
            ) from None

    def extra_output(self, result: CommandResult) -> dict[str, Any]:
        first = result.events[0].event if result.events else None
        return {
            "suggestion_id": getattr(first, "suggestion_id", self.kwargs["suggestion_id"]),
            "kind": getattr(first, "kind", None) or _kind_of(self.kwargs["suggestion_id"]),
            "claimed_by": first.agent if isinstance(first, ev.SuggestionClaimed) else None,
            "until": getattr(first, "until", None),
        }

    def check_replay(self, result: CommandResult) -> None:
        super().check_replay(result)
        first = result.events[0].event if result.events else None
        if (
            getattr(first, "suggestion_id", self.kwargs["suggestion_id"])
            != self.kwargs["suggestion_id"]
        ):
            raise key_used_elsewhere()


def _missing(suggestion_id: str) -> SuggestionMissing:
    return SuggestionMissing(
        f"No suggestion {suggestion_id!r}. If it just appeared on a patient's record, the "
        "queue may not have caught up yet: try again in a few seconds."
    )


def _kind_of(suggestion_id: str) -> str:
    return suggestion_id.split(".", 1)[0]


@extend_schema(tags=["suggestions"], summary="Claim a suggestion", parameters=[IF_MATCH])
class SuggestionClaimApi(SuggestionCommandApi):
    """One agent at a time: a second agent gets 409 naming who holds it. The claim runs
    out after ENGAGEMENT_CLAIM_MINUTES; claiming again extends it. Send {} or no body."""

    InputSerializer = EmptyInputSerializer
    records = frozenset({"SuggestionClaimed"})
    handler = staticmethod(handlers.suggestion_claim)


@extend_schema(
    tags=["suggestions"], summary="Hand a claimed suggestion back", parameters=[IF_MATCH]
)
class SuggestionReleaseApi(SuggestionCommandApi):
    """Only the agent holding it; releasing one nobody holds changes nothing."""

    InputSerializer = EmptyInputSerializer
    records = frozenset({"SuggestionReleased"})
    handler = staticmethod(handlers.suggestion_release)


@extend_schema(tags=["suggestions"], summary="Record what was done", parameters=[IF_MATCH])
class SuggestionCompleteApi(SuggestionCommandApi):
    """outcome: what was done. A crisis follow-up takes reached or not_reached (not_reached
    records an attempt and keeps it open); a stop review takes keeps_texts or opted_out,
    and opted_out also withdraws text consent for every purpose."""

    class InputSerializer(StrictInputSerializer):
        outcome = OutcomeField(
            max_length=OUTCOME_MAX_LENGTH,
            help_text="crisis_follow_up: reached or not_reached; sms_stop_review: keeps_texts "
            "or opted_out; any other kind: what was done, in words.",
        )
        consent_source = serializers.ChoiceField(
            choices=[ev.ConsentSource.SMS_KEYWORD.value, ev.ConsentSource.VERBAL.value],
            required=False,
            default=ev.ConsentSource.SMS_KEYWORD.value,
            help_text="Stop review with opted_out only: how the patient asked (default "
            "sms_keyword; verbal when they confirmed on the phone).",
        )

        def validate_consent_source(self, value: str) -> ev.ConsentSource:
            return ev.ConsentSource(value)

    records = frozenset({"SuggestionCompleted", "ConsentRevoked"})
    handler = staticmethod(handlers.suggestion_complete)


@extend_schema(tags=["suggestions"], summary="Dismiss a suggestion", parameters=[IF_MATCH])
class SuggestionDismissApi(SuggestionCommandApi):
    """reason: why it needs no action. A crisis follow-up cannot be dismissed."""

    class InputSerializer(StrictInputSerializer):
        reason = Text(max_length=1000)

    records = frozenset({"SuggestionDismissed"})
    handler = staticmethod(handlers.suggestion_dismiss)


@extend_schema(
    tags=["suggestions"], summary="Put a suggestion off until later", parameters=[IF_MATCH]
)
class SuggestionSnoozeApi(SuggestionCommandApi):
    """until: when it comes back to the queue (within 90 days). A crisis follow-up is never
    put off."""

    class InputSerializer(StrictInputSerializer):
        until = Moment()

    records = frozenset({"SuggestionSnoozed"})
    handler = staticmethod(handlers.suggestion_snooze)
