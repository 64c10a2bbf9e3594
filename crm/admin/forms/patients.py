"""Registering a patient, their name and contact details, their consent to be contacted,
and recording a death."""

from __future__ import annotations

from typing import Any

from django import forms
from django.conf import settings
from django.db.models import Q

from crm import handlers
from crm.admin import formatting as fmt
from crm.admin.forms.base import CommandForm, PatientActionForm, User, date_field
from crm.domain import events as ev
from crm.domain.errors import InvalidInput
from crm.domain.languages import LANGUAGES as KNOWN_LANGUAGES
from crm.domain.phones import normalize_phone
from crm.handlers import Actor, CommandResult
from crm.handlers.base import CommandOptions
from crm.models import PatientProfile

LANGUAGES = list(KNOWN_LANGUAGES)
TIME_ZONES = [
    ("", "From the phone number (else the clinic's)"),
    ("America/New_York", "Eastern (New York)"),
    ("America/Chicago", "Central (Chicago)"),
    ("America/Denver", "Mountain (Denver)"),
    ("America/Phoenix", "Mountain, no daylight saving (Phoenix)"),
    ("America/Los_Angeles", "Pacific (Los Angeles)"),
    ("America/Anchorage", "Alaska (Anchorage)"),
    ("Pacific/Honolulu", "Hawaii (Honolulu)"),
    ("America/Puerto_Rico", "Atlantic (Puerto Rico)"),
]


def _with_current(options: list[tuple[str, str]], current: str) -> list[tuple[str, str]]:
    """Keep a value the list does not offer, so saving the form never changes it silently."""
    if current and current not in {value for value, _ in options}:
        return [*options, (current, current)]
    return options


class PhoneField(forms.CharField):
    """A phone number typed any way, cleaned to E.164 as stored ("" for no number)."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(max_length=40, required=False, **kwargs)

    def to_python(self, value: Any) -> str:
        raw = super().to_python(value)
        if not raw:
            return ""
        try:
            return normalize_phone(raw, region=settings.PHONE_DEFAULT_REGION)
        except InvalidInput as error:
            raise forms.ValidationError(error.detail, code="invalid") from None


class RegisterPatientForm(CommandForm):
    title = "Register a patient"
    submit_label = "Register"

    first_name = forms.CharField(max_length=200)
    last_name = forms.CharField(max_length=200)
    preferred_name = forms.CharField(
        max_length=200, required=False, help_text="What the patient likes to be called."
    )
    date_of_birth = date_field("Date of birth")
    phone = PhoneField(help_text="Any format: (617) 555-0134, +1 617 555 0134.")
    email = forms.CharField(max_length=254, required=False)
    language = forms.ChoiceField(choices=LANGUAGES, initial="en")
    timezone_name = forms.ChoiceField(choices=TIME_ZONES, required=False, label="Time zone")
    # Hidden until a possible duplicate is found; then the person has to tick it.
    not_a_duplicate = forms.BooleanField(
        required=False,
        label="This is a different person from the records listed above",
        widget=forms.HiddenInput,
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.possible_duplicates: list[PatientProfile] = []

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        phone = data.get("phone")
        born, last_name = data.get("date_of_birth"), (data.get("last_name") or "").strip()
        same = Q(phone=phone) if phone else Q(pk__in=[])
        if born and last_name:
            same |= Q(date_of_birth=born, last_name__iexact=last_name)
        self.possible_duplicates = list(PatientProfile.objects.filter(same)[:5])
        if self.possible_duplicates:
            self.fields["not_a_duplicate"].widget = forms.CheckboxInput()
        if self.possible_duplicates and not data.get("not_a_duplicate"):
            raise forms.ValidationError(
                "A patient with this phone number, or this last name and date of birth, is "
                "already registered. Open their record instead, or confirm this is someone else.",
                code="duplicate",
            )
        return data

    def command(self, *, actor: Actor, options: CommandOptions) -> CommandResult:
        data = self.cleaned_data
        return handlers.patient_register(
            first_name=data["first_name"],
            last_name=data["last_name"],
            preferred_name=data["preferred_name"],
            date_of_birth=data["date_of_birth"],
            phone=data["phone"] or None,
            email=data["email"],
            language=data["language"],
            timezone_name=data["timezone_name"],
            actor=actor,
            now=self.now,
            **options,
        )

    def success_message(self, result: CommandResult) -> str:
        if result.duplicate:
            return "This registration was already sent; here is the record it created."
        return f"Registered {self.cleaned_data['first_name']} {self.cleaned_data['last_name']}."


class ContactDetailsForm(PatientActionForm):
    slug = "contact-details"
    title = "Change contact details"
    error_fields = {"timezone": "timezone_name"}

    phone = PhoneField(help_text="Leave empty if the patient has no phone.")
    email = forms.CharField(max_length=254, required=False)
    timezone_name = forms.ChoiceField(choices=TIME_ZONES, required=False, label="Time zone")

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        patient: PatientProfile = kwargs["patient"]
        explicit = patient.timezone if patient.timezone_source == "explicit" else ""
        kwargs["initial"] = {
            "phone": fmt.phone(patient.phone),
            "email": patient.email,
            "timezone_name": explicit,
            **kwargs.get("initial", {}),
        }
        super().__init__(*args, **kwargs)
        field = self.fields["timezone_name"]
        assert isinstance(field, forms.ChoiceField)
        field.choices = _with_current(TIME_ZONES, explicit)

    def command(self, *, actor: Actor, options: CommandOptions) -> CommandResult:
        data = self.cleaned_data
        return handlers.contact_details_change(
            patient_id=self.patient.patient_id,
            phone=data["phone"] or None,
            email=data["email"],
            timezone_name=data["timezone_name"],
            actor=actor,
            **options,
        )

    def success_message(self, result: CommandResult) -> str:
        return "Contact details saved." if result.events else "Nothing changed."


class ConsentRecordForm(PatientActionForm):
    slug = "consent-record"
    title = "Record consent"
    submit_label = "Record consent"

    channel = forms.ChoiceField(choices=fmt.choices(ev.Channel), initial=ev.Channel.SMS.value)
    purpose = forms.ChoiceField(choices=fmt.choices(ev.ConsentPurpose))
    source = forms.ChoiceField(
        choices=fmt.choices(ev.ConsentSource)[:3], help_text="How the patient gave it."
    )

    def command(self, *, actor: Actor, options: CommandOptions) -> CommandResult:
        data = self.cleaned_data
        return handlers.consent_record(
            patient_id=self.patient.patient_id,
            channel=ev.Channel(data["channel"]),
            purpose=ev.ConsentPurpose(data["purpose"]),
            source=ev.ConsentSource(data["source"]),
            actor=actor,
            **options,
        )

    def success_message(self, result: CommandResult) -> str:
        if not result.events:
            return "The patient had already given that consent; nothing changed."
        return "Consent recorded."


class ConsentRevokeForm(PatientActionForm):
    slug = "consent-revoke"
    title = "Withdraw consent"
    submit_label = "Withdraw consent"
    checks_version = False

    channel = forms.ChoiceField(choices=fmt.choices(ev.Channel), initial=ev.Channel.SMS.value)
    purpose = forms.ChoiceField(
        choices=[("", "Every purpose"), *fmt.choices(ev.ConsentPurpose)], required=False
    )
    source = forms.ChoiceField(choices=fmt.choices(ev.ConsentSource)[:3])

    def command(self, *, actor: Actor, options: CommandOptions) -> CommandResult:
        data = self.cleaned_data
        return handlers.consent_revoke(
            patient_id=self.patient.patient_id,
            channel=ev.Channel(data["channel"]),
            purpose=ev.ConsentPurpose(data["purpose"]) if data["purpose"] else None,
            source=ev.ConsentSource(data["source"]),
            actor=actor,
            **options,
        )

    def success_message(self, result: CommandResult) -> str:
        return "Consent withdrawn. No more messages of that kind will go to this patient."


class DemographicsForm(PatientActionForm):
    slug = "demographics"
    title = "Change name, date of birth or language"
    error_fields = {"timezone": "timezone_name"}

    first_name = forms.CharField(max_length=200)
    last_name = forms.CharField(max_length=200)
    preferred_name = forms.CharField(
        max_length=200, required=False, help_text="What the patient likes to be called."
    )
    date_of_birth = date_field("Date of birth")
    language = forms.ChoiceField(choices=LANGUAGES)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        patient: PatientProfile = kwargs["patient"]
        kwargs["initial"] = {
            "first_name": patient.first_name,
            "last_name": patient.last_name,
            "preferred_name": patient.preferred_name,
            "date_of_birth": patient.date_of_birth,
            "language": patient.language,
            **kwargs.get("initial", {}),
        }
        super().__init__(*args, **kwargs)
        field = self.fields["language"]
        assert isinstance(field, forms.ChoiceField)
        field.choices = _with_current(LANGUAGES, patient.language)

    def command(self, *, actor: Actor, options: CommandOptions) -> CommandResult:
        data = self.cleaned_data
        return handlers.demographics_change(
            patient_id=self.patient.patient_id,
            first_name=data["first_name"],
            last_name=data["last_name"],
            preferred_name=data["preferred_name"],
            date_of_birth=data["date_of_birth"],
            language=data["language"],
            actor=actor,
            now=self.now,
            **options,
        )

    def success_message(self, result: CommandResult) -> str:
        return "Name and details saved." if result.events else "Nothing changed."


class MarkDeceasedForm(PatientActionForm):
    slug = "deceased"
    title = "Record that the patient has died"
    submit_label = "Record death"
    checks_version = False  # a death is recorded whatever else changed meanwhile

    date_of_death = date_field(
        "Date of death", required=False, help_text="Leave empty if it is not known."
    )
    confirm = forms.BooleanField(
        label="I have checked this is the right patient",
        help_text="Reminders and outreach stop for good, and no visit can be booked. "
        "This cannot be undone from here.",
        error_messages={"required": "Tick the box to confirm this is the right patient."},
    )

    @classmethod
    def offered(cls, patient: PatientProfile, user: User) -> bool:
        return not patient.deceased and cls.allowed(user)

    def command(self, *, actor: Actor, options: CommandOptions) -> CommandResult:
        return handlers.patient_mark_deceased(
            patient_id=self.patient.patient_id,
            date_of_death=self.cleaned_data["date_of_death"],
            actor=actor,
            now=self.now,
            **options,
        )

    def success_message(self, result: CommandResult) -> str:
        return "Recorded as deceased. Reminders and outreach to this record have stopped."
