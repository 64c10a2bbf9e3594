"""Handlers for registration, demographics, contact details, death and merges."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Unpack

from django.conf import settings
from django.utils import timezone

from crm.domain import decisions
from crm.domain import events as ev
from crm.domain.phones import normalize_phone
from crm.handlers.base import Actor, CommandOptions, CommandResult, Stream, command, execute

_REGISTRATION_NAMESPACE = uuid.UUID("3f0d6c1e-7a51-4c8e-9a4b-5e2f1c0d9b7a")


def _phone(raw: str | None) -> str | None:
    if raw is None or not raw.strip():
        return None
    return normalize_phone(raw, region=settings.PHONE_DEFAULT_REGION)


@command
def patient_register(
    *,
    first_name: str,
    last_name: str,
    date_of_birth: dt.date,
    actor: Actor,
    preferred_name: str = "",
    phone: str | None = None,
    email: str = "",
    language: str = "en",
    timezone_name: str = "",
    patient_id: uuid.UUID | None = None,
    now: dt.datetime | None = None,
    **options: Unpack[CommandOptions],
) -> CommandResult:
    e164 = _phone(phone)
    moment = now or timezone.now()
    if patient_id is None:
        # A retried registration must land on the same new stream, so the key names it.
        key = options.get("idempotency_key")
        patient_id = uuid.uuid5(_REGISTRATION_NAMESPACE, key) if key else uuid.uuid4()
    return execute(
        patient_id=patient_id,
        decide=lambda state: decisions.register(
            state,
            first_name=first_name,
            last_name=last_name,
            date_of_birth=date_of_birth,
            preferred_name=preferred_name,
            phone=e164,
            email=email,
            language=language,
            timezone=timezone_name,
            now=moment,
        ),
        actor=actor,
        **options,
    )


@command
def demographics_change(
    *,
    patient_id: uuid.UUID,
    first_name: str,
    last_name: str,
    date_of_birth: dt.date,
    actor: Actor,
    preferred_name: str = "",
    language: str = "en",
    now: dt.datetime | None = None,
    **options: Unpack[CommandOptions],
) -> CommandResult:
    moment = now or timezone.now()
    return execute(
        patient_id=patient_id,
        decide=lambda state: decisions.change_demographics(
            state,
            first_name=first_name,
            last_name=last_name,
            date_of_birth=date_of_birth,
            preferred_name=preferred_name,
            language=language,
            now=moment,
        ),
        actor=actor,
        **options,
    )


@command
def contact_details_change(
    *,
    patient_id: uuid.UUID,
    actor: Actor,
    phone: str | None = None,
    email: str = "",
    timezone_name: str = "",
    **options: Unpack[CommandOptions],
) -> CommandResult:
    e164 = _phone(phone)
    return execute(
        patient_id=patient_id,
        decide=lambda state: decisions.change_contact_details(
            state, phone=e164, email=email, timezone=timezone_name
        ),
        actor=actor,
        **options,
    )


@command
def patient_mark_deceased(
    *,
    patient_id: uuid.UUID,
    actor: Actor,
    date_of_death: dt.date | None = None,
    now: dt.datetime | None = None,
    **options: Unpack[CommandOptions],
) -> CommandResult:
    moment = now or timezone.now()
    return execute(
        patient_id=patient_id,
        decide=lambda state: decisions.mark_deceased(
            state, date_of_death=date_of_death, recorded_by=actor.name, now=moment
        ),
        actor=actor,
        **options,
    )


@command
def patients_merge(
    *,
    surviving_patient_id: uuid.UUID,
    duplicate_patient_id: uuid.UUID,
    actor: Actor,
    now: dt.datetime | None = None,
    **options: Unpack[CommandOptions],
) -> CommandResult:
    """Retire the duplicate record into the surviving one; both streams move together."""
    options.setdefault("occurred_at", now)

    def decide(streams: dict[uuid.UUID, Stream]) -> dict[uuid.UUID, list[ev.DomainEvent]]:
        survivor = streams[surviving_patient_id].state
        duplicate = streams[duplicate_patient_id].state
        for_survivor, for_duplicate = decisions.merge(survivor, duplicate, merged_by=actor.name)
        return {surviving_patient_id: for_survivor, duplicate_patient_id: for_duplicate}

    return execute(
        patient_id=surviving_patient_id,
        also=[duplicate_patient_id],
        decide_streams=decide,
        actor=actor,
        **options,
    )
