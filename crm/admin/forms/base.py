"""What every admin action form shares: it runs one command handler, once."""

from __future__ import annotations

import datetime as dt
import uuid
import zoneinfo
from typing import Any, ClassVar

from django import forms
from django.conf import settings
from django.contrib.auth.models import AbstractBaseUser, AnonymousUser
from django.http import QueryDict

from crm.admin import formatting as fmt
from crm.domain.errors import CommandRefused, InvalidInput, PatientNotFound
from crm.eventstore import ConcurrencyConflict, IdempotencyKeyReused
from crm.handlers import Actor, CommandResult
from crm.handlers.base import CommandOptions
from crm.models import PatientProfile

User = AbstractBaseUser | AnonymousUser

CONFLICT = (
    "Someone else changed this patient's record while this form was open. The page now "
    "shows the latest record: check it, then send the form again."
)


class CommandForm(forms.Form):
    """A form that runs one command handler; subclasses say which one in `command`.

    It carries the patient's version as it was when the page was drawn (a concurrent change
    is caught, not overwritten) and a one-time token used as the idempotency key (a double
    click or a resubmitted page records nothing twice). Whatever the handler refuses comes
    back as a form error; the handler's transaction means nothing was half-saved.
    """

    title: ClassVar[str]
    submit_label: ClassVar[str] = "Save"
    # Domain error field -> the form field where a person would correct it.
    error_fields: ClassVar[dict[str, str]] = {}

    form_token = forms.UUIDField(widget=forms.HiddenInput)

    def __init__(self, data: Any = None, *, user: User, now: dt.datetime, **kwargs: Any) -> None:
        initial = {"form_token": uuid.uuid4(), **kwargs.pop("initial", {})}
        super().__init__(data, initial=initial, **kwargs)
        self.user = user
        self.now = now
        # Why the last run recorded nothing, in the access audit's words, with the HTTP
        # status the API gives the same failure: ("refused", 409), ("invalid", 400)...
        self.failure: tuple[str, int] | None = None

    def command(self, *, actor: Actor, options: CommandOptions) -> CommandResult:
        raise NotImplementedError

    def success_message(self, result: CommandResult) -> str:
        return f"{self.title}: done."

    def options(self) -> CommandOptions:
        return {"idempotency_key": f"admin:{self.cleaned_data['form_token']}"}

    def run(self, actor: Actor) -> CommandResult | None:
        """Validate, then run the command; None (with errors on the form) when it failed."""
        self.failure = ("invalid", 400)
        if not self.is_valid():
            return None
        try:
            result = self.command(actor=actor, options=self.options())
        except InvalidInput as error:
            self._invalid(error)
        except CommandRefused as error:
            self.failure = ("refused", 409)
            self.add_error(None, error.message)
        except PatientNotFound:
            self.failure = ("not_found", 404)
            self.add_error(None, "This patient record does not exist (any more).")
        except ConcurrencyConflict:
            self.failure = ("stale_version", 412)
            self.add_error(None, CONFLICT)
            self._refresh_version()
        except IdempotencyKeyReused:
            self.failure = ("key_reused", 422)
            self.add_error(None, "This form was already sent for another change; reload it.")
        else:
            self.failure = None
            return result
        return None

    def _invalid(self, error: InvalidInput) -> None:
        name = self.error_fields.get(error.field, error.field)
        if name in self.fields and not self.fields[name].widget.is_hidden:
            self.add_error(name, error.detail)
        else:
            self.add_error(None, f"{error.field.replace('_', ' ').capitalize()} {error.detail}")

    def _refresh_version(self) -> None:
        """After a conflict the page shows the latest record, so the form may follow it."""


class PatientActionForm(CommandForm):
    """An action on one patient's page, checked against the version the page showed."""

    slug: ClassVar[str]
    per_appointment: ClassVar[bool] = False
    # False for what must be recorded whatever changed meanwhile (an opt-out, a crisis
    # contact): making a counselor resend the form would only risk losing it.
    checks_version: ClassVar[bool] = True

    expected_version = forms.IntegerField(widget=forms.HiddenInput, min_value=0)

    @classmethod
    def allowed(cls, user: User) -> bool:
        """Whether this person's role lets them use the form at all (roles as in the API)."""
        return True

    @classmethod
    def offered(cls, patient: PatientProfile, user: User) -> bool:
        """Whether the patient page offers it: allowed, and it makes sense for the record."""
        return cls.allowed(user)

    def __init__(
        self,
        data: Any = None,
        *,
        patient: PatientProfile,
        user: User,
        now: dt.datetime,
        **kwargs: Any,
    ) -> None:
        initial = {"expected_version": patient.version, **kwargs.pop("initial", {})}
        self.patient = patient
        super().__init__(data, user=user, now=now, initial=initial, **kwargs)
        if not self.checks_version:
            # Recorded whatever changed meanwhile: the page's version is not needed at all.
            self.fields["expected_version"].required = False

    def options(self) -> CommandOptions:
        if not self.checks_version:
            return super().options()
        return {**super().options(), "expected_version": self.cleaned_data["expected_version"]}

    def _refresh_version(self) -> None:
        self.patient.refresh_from_db()
        data = self.data.copy() if isinstance(self.data, QueryDict) else dict(self.data)
        data["expected_version"] = str(self.patient.version)
        self.data = data


# --- fields and helpers the action forms share --------------------------------------------


class DateInput(forms.DateInput):
    input_type = "date"

    def __init__(self) -> None:
        super().__init__(format="%Y-%m-%d")


class TimeInput(forms.TimeInput):
    input_type = "time"

    def __init__(self) -> None:
        super().__init__(format="%H:%M")


def date_field(label: str, **kwargs: Any) -> forms.DateField:
    return forms.DateField(
        label=label,
        widget=DateInput(),
        input_formats=["%Y-%m-%d", "%m/%d/%Y", "%m/%d/%y", "%m-%d-%Y"],
        **kwargs,
    )


def time_field(label: str, **kwargs: Any) -> forms.TimeField:
    return forms.TimeField(
        label=label, widget=TimeInput(), input_formats=["%H:%M", "%H:%M:%S", "%I:%M %p"], **kwargs
    )


def zone_choices(patient: PatientProfile | None) -> list[tuple[str, str]]:
    """The clinic's zone first, then the patient's when it differs: a time typed in the
    wrong one books the visit hours off, so the form always says which it means."""
    clinic = settings.TIME_ZONE
    options = [(clinic, f"Clinic time ({_zone_label(clinic)})")]
    if patient is not None and patient.timezone and patient.timezone != clinic:
        options.append((patient.timezone, f"Patient's time ({_zone_label(patient.timezone)})"))
    return options


def _zone_label(name: str) -> str:
    return f"{name.replace('_', ' ')}"


def local_moment(day: dt.date, time: dt.time, zone_name: str) -> dt.datetime:
    """`day` at `time` on the wall clocks of `zone_name`, refusing the hour a clock change
    skips or repeats rather than guessing which one was meant."""
    zone = zoneinfo.ZoneInfo(zone_name)
    naive = dt.datetime.combine(day, time)
    aware = naive.replace(tzinfo=zone)
    if aware.astimezone(dt.UTC).astimezone(zone).replace(tzinfo=None) != naive:
        raise forms.ValidationError(
            "That time does not exist on that day (the clocks go forward); pick another.",
            code="imaginary",
        )
    if naive.replace(tzinfo=zone, fold=1).utcoffset() != aware.utcoffset():
        raise forms.ValidationError(
            "That time happens twice on that day (the clocks go back); pick another.",
            code="ambiguous",
        )
    return aware


def clinic_today(now: dt.datetime) -> dt.date:
    return now.astimezone(fmt.clinic_zone()).date()


class MinutesSecondsField(forms.Field):
    """A duration typed as "4:30" (minutes and seconds) or "4" (whole minutes)."""

    default_error_messages = {"invalid": "Type minutes, or minutes:seconds such as 4:30."}

    def __init__(self, **kwargs: Any) -> None:
        kwargs.setdefault("widget", forms.TextInput(attrs={"size": 6, "placeholder": "m:ss"}))
        super().__init__(**kwargs)

    def to_python(self, value: Any) -> int | None:
        text = str(value or "").strip()
        if not text:
            return None
        minutes, _, seconds = text.partition(":")
        if not minutes.isdigit() or (seconds and not seconds.isdigit()) or len(text) > 8:
            raise forms.ValidationError(self.error_messages["invalid"], code="invalid")
        rest = int(seconds) if seconds else 0
        if rest >= 60:
            raise forms.ValidationError(self.error_messages["invalid"], code="invalid")
        return int(minutes) * 60 + rest
