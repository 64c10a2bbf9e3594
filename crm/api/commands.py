"""The protocol every command endpoint shares, so each view only says what it runs."""

from __future__ import annotations

import uuid
from typing import Any, ClassVar

from django.urls import reverse
from rest_framework import status
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.serializers import Serializer

from crm.api import entries
from crm.api.audit import AccessNote
from crm.api.base import ApiView
from crm.api.headers import WriteConditions, etag, store_key, write_conditions
from crm.api.problems import IdempotencyKeyConflict, PatientMissing, StaleVersion
from crm.api.roles import actor_for, may_read_restricted_notes
from crm.api.serializers import CommandResultSerializer
from crm.eventstore import ConcurrencyConflict, IdempotencyKeyReused
from crm.handlers import Actor, CommandResult
from crm.handlers.base import CommandOptions
from crm.models import AccessAction

REPLAYED_HEADER = "Idempotent-Replayed"


class CommandApi(ApiView):
    """A command view validates its body, reads If-Match and Idempotency-Key, calls one
    command handler and answers from the handler's result.

    The answer is a function of that result alone (never of the read model), so an
    idempotent retry, which gets the first command's result back from the store, gets the
    first response back too. The handler binds the key to the command it runs
    (crm.handlers.base.command): a key sent again with another command (another body, path
    or endpoint) is refused with 422 and records nothing.
    """

    InputSerializer: ClassVar[type[Serializer[Any]]]
    OutputSerializer: ClassVar[type[Serializer[Any]]] = CommandResultSerializer
    # The event types this command can record: a replayed key must match one of them.
    records: ClassVar[frozenset[str]]
    # True: a new thing (call, note...) is recorded: 201 with the Location of its entry.
    creates: ClassVar[bool] = False
    # False only for registration, where the patient does not exist yet.
    patient_scoped: ClassVar[bool] = True
    audit_action = AccessAction.CHANGE

    def execute(
        self, *, data: dict[str, Any], actor: Actor, options: CommandOptions, **kwargs: Any
    ) -> CommandResult:
        raise NotImplementedError

    def post(self, request: Request, **kwargs: Any) -> Response:
        conditions = write_conditions(request)
        serializer = self.InputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        options: CommandOptions = {
            "idempotency_key": (
                store_key(request, conditions.idempotency_key)
                if conditions.idempotency_key is not None
                else None
            ),
        }
        if self.patient_scoped:
            options["expected_version"] = conditions.expected_version
        try:
            result = self.execute(
                data=dict(serializer.validated_data),
                actor=actor_for(request.user, channel="api"),
                options=options,
                **kwargs,
            )
        except ConcurrencyConflict as exc:
            raise _conflict(exc, conditions) from None
        except IdempotencyKeyReused:
            raise key_used_elsewhere() from None
        if result.duplicate:
            self.check_replay(result)
        self.access_notes = [AccessNote(result.patient_id, self._outcome(result))]
        return self.respond(request, result)

    def check_replay(self, result: CommandResult) -> None:
        """Refuse to replay a result that cannot be the answer to this request."""
        if any(recorded.event_type not in self.records for recorded in result.events):
            raise key_used_elsewhere()

    # --- the response, from the result alone ---------------------------------------------

    def respond(self, request: Request, result: CommandResult) -> Response:
        body = self.OutputSerializer(self.output(request, result)).data
        headers = {"ETag": etag(result.version)}
        location = self.location(result)
        if location is not None:
            headers["Location"] = location
        if result.duplicate:
            headers[REPLAYED_HEADER] = "true"
        return Response(body, status=self.status_for(result), headers=headers)

    def output(self, request: Request, result: CommandResult) -> dict[str, Any]:
        restricted_visible = may_read_restricted_notes(request.user)
        return {
            "patient_id": result.patient_id,
            "version": result.version,
            "changed": bool(result.events),
            "events": [
                entries.from_recorded(recorded, restricted_visible=restricted_visible)
                for recorded in result.events
            ],
            **self.extra_output(result),
        }

    def extra_output(self, result: CommandResult) -> dict[str, Any]:
        return {}

    def status_for(self, result: CommandResult) -> int:
        return status.HTTP_201_CREATED if self.creates and result.events else status.HTTP_200_OK

    def location(self, result: CommandResult) -> str | None:
        if not (self.creates and result.events):
            return None
        return reverse(
            "api:timeline-entry",
            kwargs={"patient_id": result.patient_id, "version": result.events[0].version},
        )

    # --- internals -----------------------------------------------------------------------

    def _outcome(self, result: CommandResult) -> str:
        if result.duplicate:
            return "replayed"
        if not result.events:
            return "unchanged"
        return "created" if self.audit_action == AccessAction.CREATE else "changed"


def key_used_elsewhere() -> IdempotencyKeyConflict:
    return IdempotencyKeyConflict(
        "This Idempotency-Key was already used for a different request. Use a new key "
        "for every new request, and the same key only to retry one.",
        errors={"Idempotency-Key": ["was already used for another request."]},
    )


def event_field(result: CommandResult, name: str) -> uuid.UUID | None:
    """A field of the first recorded event (e.g. the new appointment's id)."""
    if not result.events:
        return None
    value = getattr(result.events[0].event, name, None)
    return value if isinstance(value, uuid.UUID) else None


def _conflict(exc: ConcurrencyConflict, conditions: WriteConditions) -> Exception:
    if exc.actual == 0:
        return PatientMissing(f"No patient with id {exc.stream_id}.", patient_id=str(exc.stream_id))
    if conditions.expected_version is not None:
        now = "has moved on" if exc.actual is None else f"is at version {exc.actual}"
        return StaleVersion(
            f'You sent If-Match: "{conditions.expected_version}", but the record {now}. '
            "Reload the patient, check what changed, and try again. Nothing was recorded.",
            errors={"If-Match": [f"is stale; the record {now}."]},
            current_version=exc.actual,
        )
    return exc  # the exception handler answers 409 edit-conflict
