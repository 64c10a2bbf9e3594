"""The admin's action forms: each one runs the same command handler as the API."""

from crm.admin.forms.appointments import (
    CancelForm,
    CompleteForm,
    ConfirmForm,
    NoShowForm,
    OpenAppointment,
    RescheduleForm,
    ScheduleForm,
    open_appointments,
)
from crm.admin.forms.base import CommandForm, PatientActionForm
from crm.admin.forms.contacts import CrisisContactForm, LogCallForm, NoteForm
from crm.admin.forms.patients import (
    ConsentRecordForm,
    ConsentRevokeForm,
    ContactDetailsForm,
    RegisterPatientForm,
)

# The patient page's actions, by the slug in their URL, in the order the page offers them.
PATIENT_ACTIONS: dict[str, type[PatientActionForm]] = {
    form.slug: form
    for form in (
        ScheduleForm,
        LogCallForm,
        NoteForm,
        ContactDetailsForm,
        ConsentRecordForm,
        ConsentRevokeForm,
        CrisisContactForm,
        RescheduleForm,
        ConfirmForm,
        CancelForm,
        CompleteForm,
        NoShowForm,
    )
}

__all__ = [
    "PATIENT_ACTIONS",
    "CancelForm",
    "CommandForm",
    "CompleteForm",
    "ConfirmForm",
    "ConsentRecordForm",
    "ConsentRevokeForm",
    "ContactDetailsForm",
    "CrisisContactForm",
    "LogCallForm",
    "NoShowForm",
    "NoteForm",
    "OpenAppointment",
    "PatientActionForm",
    "RegisterPatientForm",
    "RescheduleForm",
    "ScheduleForm",
    "open_appointments",
]
