"""Command handlers: keyword-only functions named <entity>_<action>, each a pure decision run
through `crm.handlers.base.execute` (lock and read, decide, append) in one transaction."""

from crm.handlers.appointments import (
    appointment_cancel,
    appointment_complete,
    appointment_confirm,
    appointment_no_show,
    appointment_reschedule,
    appointment_schedule,
    lab_test_complete,
    lab_test_order,
)
from crm.handlers.base import Actor, CommandResult
from crm.handlers.contacts import (
    call_log,
    call_wrap_up,
    consent_record,
    consent_revoke,
    crisis_contact_record,
    crisis_flag_clear,
    note_add,
    satisfaction_record,
)
from crm.handlers.patients import (
    contact_details_change,
    demographics_change,
    patient_mark_deceased,
    patient_register,
    patients_merge,
)

__all__ = [
    "Actor",
    "CommandResult",
    "appointment_cancel",
    "appointment_complete",
    "appointment_confirm",
    "appointment_no_show",
    "appointment_reschedule",
    "appointment_schedule",
    "call_log",
    "call_wrap_up",
    "consent_record",
    "consent_revoke",
    "contact_details_change",
    "crisis_contact_record",
    "crisis_flag_clear",
    "demographics_change",
    "lab_test_complete",
    "lab_test_order",
    "note_add",
    "patient_mark_deceased",
    "patient_register",
    "patients_merge",
    "satisfaction_record",
]
