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
from crm.admin.forms.contacts import (
    CrisisContactForm,
    CrisisFlagClearForm,
    LogCallForm,
    NoteForm,
)
from crm.admin.forms.lab_tests import OpenTest, TestCompleteForm, TestOrderForm, open_tests
from crm.admin.forms.patients import (
    ConsentRecordForm,
    ConsentRevokeForm,
    ContactDetailsForm,
    DemographicsForm,
    MarkDeceasedForm,
    RegisterPatientForm,
)

# The patient page's actions, by the slug in their URL, in the order the page offers them.
# Those marked per_appointment are offered beside each open appointment (or test) instead.
PATIENT_ACTIONS: dict[str, type[PatientActionForm]] = {
    form.slug: form
    for form in (
        ScheduleForm,
        LogCallForm,
        NoteForm,
        TestOrderForm,
        ContactDetailsForm,
        DemographicsForm,
        ConsentRecordForm,
        ConsentRevokeForm,
        CrisisContactForm,
        CrisisFlagClearForm,
        MarkDeceasedForm,
        RescheduleForm,
        ConfirmForm,
        CancelForm,
        CompleteForm,
        NoShowForm,
        TestCompleteForm,
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
    "CrisisFlagClearForm",
    "DemographicsForm",
    "LogCallForm",
    "MarkDeceasedForm",
    "NoShowForm",
    "NoteForm",
    "OpenAppointment",
    "OpenTest",
    "PatientActionForm",
    "RegisterPatientForm",
    "RescheduleForm",
    "ScheduleForm",
    "TestCompleteForm",
    "TestOrderForm",
    "open_appointments",
    "open_tests",
]
