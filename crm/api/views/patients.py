"""The patient collection (search, registration), one patient's profile, and the screen
pop by caller number."""

from __future__ import annotations

import uuid
from typing import Any

from django.conf import settings
from django.urls import reverse
from django.utils import timezone
from drf_spectacular.utils import extend_schema
from rest_framework import mixins, serializers
from rest_framework.request import Request
from rest_framework.response import Response

from crm import handlers
from crm.api import profiles
from crm.api.audit import AccessNote, query_digest
from crm.api.base import ApiGenericView, ApiView
from crm.api.commands import CommandApi
from crm.api.fields import Day, Moment, Text
from crm.api.filtersets import PatientFilter, SearchTermField
from crm.api.headers import etag
from crm.api.lookup import caller_lookup
from crm.api.pagination import PatientPagination
from crm.api.problems import PatientMissing
from crm.api.serializers import (
    LookupSerializer,
    PatientListItemSerializer,
    ProfileSerializer,
    StrictInputSerializer,
)
from crm.domain.phones import normalize_phone
from crm.domain.state import fold
from crm.handlers import Actor, CommandResult
from crm.handlers.base import CommandOptions
from crm.models import AccessAction, PatientProfile
from crm.projections.profile import profile_values


class PatientRegisterApi(CommandApi):
    """Register a new patient. Retried with the same Idempotency-Key, it lands on the same
    record instead of creating a twin."""

    class InputSerializer(StrictInputSerializer):
        first_name = Text(max_length=200)
        last_name = Text(max_length=200)
        date_of_birth = Day()
        preferred_name = Text(max_length=200, required=False, allow_blank=True, default="")
        phone = Text(
            max_length=40,
            required=False,
            allow_null=True,
            allow_blank=True,
            default=None,
            help_text="Any format: (617) 555-0134, 617.555.0134, +1 617 555 0134.",
        )
        email = Text(max_length=254, required=False, allow_blank=True, default="")
        language = Text(max_length=16, required=False, default="en")
        timezone = Text(
            max_length=64,
            required=False,
            allow_blank=True,
            default="",
            help_text="An IANA zone such as America/Chicago; blank to derive it from the phone.",
        )

    OutputSerializer = ProfileSerializer
    records = frozenset({"PatientRegistered"})
    creates = True
    patient_scoped = False
    audit_action = AccessAction.CREATE

    def execute(
        self, *, data: dict[str, Any], actor: Actor, options: CommandOptions, **kwargs: Any
    ) -> CommandResult:
        return handlers.patient_register(
            first_name=data["first_name"],
            last_name=data["last_name"],
            date_of_birth=data["date_of_birth"],
            preferred_name=data["preferred_name"],
            phone=data["phone"],
            email=data["email"],
            language=data["language"],
            timezone_name=data["timezone"],
            actor=actor,
            **options,
        )

    def output(self, request: Request, result: CommandResult) -> dict[str, Any]:
        # The registration alone: the same document on a retry, however the record grew since.
        state = fold(result.patient_id, result.events)
        registered = result.events[0].recorded_at
        return profiles.document(result.patient_id, profile_values(state), now=registered)

    def location(self, result: CommandResult) -> str | None:
        return reverse("api:patient-detail", kwargs={"patient_id": result.patient_id})


@extend_schema(tags=["patients"])
class PatientsApi(mixins.ListModelMixin, PatientRegisterApi, ApiGenericView):
    """GET searches patients; POST registers one (PatientRegisterApi)."""

    queryset = PatientProfile.objects.answering()
    serializer_class = PatientListItemSerializer
    filterset_class = PatientFilter
    pagination_class = PatientPagination

    @extend_schema(
        summary="Find patients by name, phone number or date of birth",
        description="Merged-away duplicates are left out. Every patient listed is recorded "
        "in the access audit.",
    )
    def get(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        return self.list(request, *args, **kwargs)

    @extend_schema(
        summary="Register a patient",
        description=PatientRegisterApi.__doc__ or "",
        request=PatientRegisterApi.InputSerializer,
        responses={201: ProfileSerializer},
    )
    def post(self, request: Request, **kwargs: Any) -> Response:
        return super().post(request, **kwargs)

    def list(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        queryset = self.filter_queryset(self.get_queryset())
        page = self.paginate_queryset(queryset)
        assert page is not None
        term = SearchTermField().clean(request.query_params.get("search"))
        digest = query_digest(term.text) if term is not None else ""
        self.access_notes = [AccessNote(p.patient_id, "search_match", digest) for p in page] or [
            AccessNote(None, "no_match", digest)
        ]
        return self.get_paginated_response(PatientListItemSerializer(page, many=True).data)


class AsOfQuery(serializers.Serializer[Any]):
    as_of = Moment(
        required=False,
        help_text="Show the profile as it was at this moment (ISO 8601 with UTC offset; "
        "write '+' as %2B in a URL).",
    )


@extend_schema(tags=["patients"])
class PatientDetailApi(ApiView):
    """The ETag is the patient's stream version. With as_of, the profile is computed from
    the events stored up to that moment; upcoming appointments are judged against it."""

    query_serializer_class = AsOfQuery

    @extend_schema(
        summary="A patient's profile, now or as of a past moment",
        parameters=[AsOfQuery],
        responses={200: ProfileSerializer},
    )
    def get(self, request: Request, patient_id: uuid.UUID) -> Response:
        query = self.validated_query(request)
        moment = query.get("as_of")
        if moment is not None:
            document = profiles.as_of(patient_id, moment)
            if document is None:
                if PatientProfile.objects.filter(patient_id=patient_id).exists():
                    raise PatientMissing(
                        f"Patient {patient_id} was not registered yet at {moment.isoformat()}.",
                        patient_id=str(patient_id),
                    )
                raise _no_patient(patient_id)
        else:
            profile = PatientProfile.objects.filter(patient_id=patient_id).first()
            if profile is None:
                raise _no_patient(patient_id)
            document = profiles.current(profile, now=timezone.now())
        return Response(
            ProfileSerializer(document).data, headers={"ETag": etag(document["version"])}
        )


class LookupQuery(serializers.Serializer[Any]):
    phone = Text(max_length=40, help_text="The caller's number in any format, e.g. (617) 555-0134.")
    patient = serializers.UUIDField(
        required=False,
        help_text="After several matches: the one the agent picked, for their full screen pop.",
    )


@extend_schema(tags=["patients"])
class PatientLookupApi(ApiView):
    """The screen pop: who is calling from this number."""

    query_serializer_class = LookupQuery
    extra_problems = {404: "Nobody has this number (the body carries normalized_phone)."}

    @extend_schema(
        summary="Screen pop: look a caller up by phone number",
        description="One match: the profile, upcoming appointments, consent, crisis flag and "
        "the last 10 timeline entries. Several (a household sharing a phone): the candidates "
        "with name and date of birth; call again with ?patient= to pick one. Every lookup is "
        "recorded in the access audit, whatever it found.",
        parameters=[LookupQuery],
        responses={200: LookupSerializer},
    )
    def get(self, request: Request) -> Response:
        query = self.validated_query(request)
        e164 = normalize_phone(query["phone"], region=settings.PHONE_DEFAULT_REGION)
        picked = query.get("patient")
        found = caller_lookup(e164, picked=picked, user=request.user, now=timezone.now())
        self.access_notes = found.notes
        if not found.match_count:
            whom = f"Patient {picked} does not have" if picked else "No patient has"
            raise PatientMissing(f"{whom} the number {e164}.", normalized_phone=e164)
        headers = {"ETag": etag(found.version)} if found.version is not None else {}
        return Response(found.body, headers=headers)


class PatientLookupAliasApi(PatientLookupApi):
    """The same lookup with a trailing slash, like every other path; not in the schema."""

    schema = None


def _no_patient(patient_id: uuid.UUID) -> PatientMissing:
    return PatientMissing(f"No patient with id {patient_id}.", patient_id=str(patient_id))
