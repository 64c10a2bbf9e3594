"""The clinic's list of contact reasons: what a call is logged about, kept by supervisors."""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.db import models

from crm.domain import events as ev


def _not_other(code: str) -> None:
    if code == ev.OTHER_REASON:
        raise ValidationError('"other" is always offered; choose another code.')


class ContactReason(models.Model):
    """A call's event records the reason's code and its label as it read then, so renaming a
    reason changes no history and a retired one (inactive) still reads on old calls. Repeat
    contacts for first-contact resolution are matched on the code. "other" is not a row: it
    is always offered, with the agent's own words."""

    code = models.SlugField(
        max_length=40,
        unique=True,
        validators=[_not_other],
        help_text="What calls record and figures match on (e.g. billing); cannot change later.",
    )
    label = models.CharField(max_length=200, help_text="What agents pick from.")
    active = models.BooleanField(
        default=True, help_text="Offered for new calls. Old calls keep a retired reason."
    )
    position = models.PositiveSmallIntegerField(default=100, help_text="Order in the list.")

    class Meta:
        db_table = "crm_contact_reason"
        ordering = ["position", "label"]

    def __str__(self) -> str:
        return self.label


# (code, label): what a front desk and its call center are mostly called about. A new
# database starts with these (migration crm 0009); supervisors change the list after.
SEEDED_REASONS = (
    ("appointment", "Book an appointment"),
    ("reschedule", "Reschedule or cancel an appointment"),
    ("confirmation", "Appointment confirmation or reminder"),
    ("refill", "Prescription refill"),
    ("test_results", "Test or lab results"),
    ("billing", "Billing or insurance"),
    ("records", "Medical records request"),
    ("directions", "Directions and parking"),
    ("portal", "Patient portal help"),
    ("care_question", "Question for the care team"),
    ("registration", "New patient registration"),
    ("texts", "Text messages and reminders"),
    ("outreach", "Care outreach (a visit or test due)"),
    ("crisis", "Crisis support"),
)


def seed_contact_reasons(reason_model: type[ContactReason] | None = None) -> None:
    """Add the seeded reasons the list lacks (a new or emptied database); a reason already
    there, renamed or retired, is left as the supervisors keep it."""
    model = reason_model or ContactReason
    for position, (code, label) in enumerate(SEEDED_REASONS, start=1):
        model.objects.get_or_create(code=code, defaults={"label": label, "position": position * 10})


def offered_reasons() -> dict[str, str]:
    """The active reasons, code to label, in the list's order ("other" comes after them)."""
    return dict(ContactReason.objects.filter(active=True).values_list("code", "label"))
