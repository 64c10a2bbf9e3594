"""Selectors for a patient's profile: now from the read model, or "as of" a past moment
from the stream, rendered by the same function the read model uses."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

from django.conf import settings

from crm import eventstore
from crm.domain.phones import format_national
from crm.domain.state import fold
from crm.models import PatientProfile
from crm.projections.profile import profile_values

_COLUMNS = [f.name for f in PatientProfile._meta.concrete_fields if f.name != "patient_id"]


def current(profile: PatientProfile, *, now: dt.datetime) -> dict[str, Any]:
    values = {name: getattr(profile, name) for name in _COLUMNS}
    return document(profile.patient_id, values, now=now)


def as_of(patient_id: uuid.UUID, moment: dt.datetime) -> dict[str, Any] | None:
    """The profile as the store knew it at `moment`, or None if not yet registered."""
    state = fold(patient_id, eventstore.read_stream(patient_id, recorded_until=moment))
    if not state.registered:
        return None
    return document(patient_id, profile_values(state), now=moment, as_of=moment)


def document(
    patient_id: uuid.UUID,
    values: dict[str, Any],
    *,
    now: dt.datetime,
    as_of: dt.datetime | None = None,
) -> dict[str, Any]:
    upcoming = [a for a in values["upcoming_appointments"] if _ends_at(a) >= now]
    phone = values["phone"]
    return {
        "patient_id": patient_id,
        "version": values["version"],
        "as_of": as_of,
        "display_name": values["display_name"],
        "first_name": values["first_name"],
        "last_name": values["last_name"],
        "preferred_name": values["preferred_name"],
        "date_of_birth": values["date_of_birth"],
        "language": values["language"],
        "phone": phone,
        "phone_display": format_national(phone) if phone else None,
        "email": values["email"],
        "timezone": values["timezone"],
        "timezone_source": values["timezone_source"],
        "consents": [
            {"channel": key.split(":", 1)[0], "purpose": key.split(":", 1)[1], **consent}
            for key, consent in sorted(values["consents"].items())
        ],
        "crisis_flag": values["crisis_flag"],
        "crisis_contacts": values["crisis_contacts"],
        # The one number to give or dial for a crisis, the same for every caller: the
        # network routes it by where the caller is, never by their area code.
        "crisis_line": settings.CRISIS_LINE,
        "last_crisis_at": values["last_crisis_at"],
        "last_crisis": values["last_crisis"],
        "deceased": values["deceased"],
        "date_of_death": values["date_of_death"],
        "merged_into": values["merged_into"],
        "last_contact_at": values["last_contact_at"],
        "last_visit_by_type": dict(values["last_visit_by_type"]),
        "upcoming_appointments": upcoming,
        "next_appointment_at": upcoming[0]["starts_at"] if upcoming else None,
        "calls_count": values["calls_count"],
        "no_show_count": values["no_show_count"],
        "notes_count": values["notes_count"],
        "registered_at": values["registered_at"],
        "updated_at": values["updated_at"],
        "identifiers": [
            {"system": system, "value": value, "kind": kind}
            for system, value, kind in values["identifiers"]
        ],
    }


def _ends_at(appointment: dict[str, Any]) -> dt.datetime:
    starts = dt.datetime.fromisoformat(appointment["starts_at"])
    try:
        return starts + dt.timedelta(minutes=int(appointment["duration_minutes"]))
    except OverflowError:  # booked on the calendar's last day before bounds existed
        return starts
