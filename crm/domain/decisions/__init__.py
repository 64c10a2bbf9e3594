"""Decisions: pure functions from a patient's state (and `now`) to the events to record, or
`CommandRefused` / `InvalidInput` (state forbids it / value malformed); no clock, no database."""

from __future__ import annotations

from crm.domain.decisions.appointments import (
    cancel_appointment,
    complete_appointment,
    complete_test,
    confirm_appointment,
    order_test,
    record_no_show,
    reschedule_appointment,
    schedule_appointment,
)
from crm.domain.decisions.contacts import (
    WrapUp,
    add_note,
    clear_crisis_flag,
    contact_reason,
    log_call,
    record_consent,
    record_crisis_contact,
    record_satisfaction,
    revoke_consent,
    wrap_up_call,
)
from crm.domain.decisions.patients import (
    OLDEST_PATIENT_YEARS,
    change_contact_details,
    change_demographics,
    mark_deceased,
    merge,
    register,
)

__all__ = [
    "OLDEST_PATIENT_YEARS",
    "WrapUp",
    "add_note",
    "cancel_appointment",
    "change_contact_details",
    "change_demographics",
    "clear_crisis_flag",
    "complete_appointment",
    "complete_test",
    "confirm_appointment",
    "contact_reason",
    "log_call",
    "mark_deceased",
    "merge",
    "order_test",
    "record_consent",
    "record_crisis_contact",
    "record_no_show",
    "record_satisfaction",
    "register",
    "reschedule_appointment",
    "revoke_consent",
    "schedule_appointment",
    "wrap_up_call",
]
