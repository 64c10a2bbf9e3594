"""Logging a call, adding a note, recording a crisis contact and clearing the flag."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django import forms

from crm import handlers
from crm.admin import formatting as fmt
from crm.admin.access import may_read_restricted_notes
from crm.admin.forms.base import (
    MinutesSecondsField,
    PatientActionForm,
    User,
    clinic_today,
    date_field,
    local_moment,
    time_field,
)
from crm.domain import events as ev
from crm.handlers import Actor, CommandResult
from crm.handlers.base import CommandOptions
from crm.models import PatientProfile, offered_reasons


class LogCallForm(PatientActionForm):
    slug = "log-call"
    title = "Log a call"
    submit_label = "Log call"
    error_fields = {
        "started_at": "time",
        "duration_seconds": "talk",
        "hold_seconds": "hold",
        "wrap_up_seconds": "wrap_up",
    }

    direction = forms.ChoiceField(
        choices=fmt.choices(ev.CallDirection), initial=ev.CallDirection.INBOUND.value
    )
    channel = forms.ChoiceField(
        choices=fmt.choices(ev.Channel), initial=ev.Channel.VOICE.value, label="By"
    )
    day = date_field("Date")
    time = time_field("Started at", help_text="Clinic time.")
    disposition = forms.ChoiceField(
        choices=fmt.choices(ev.CallDisposition),
        initial=ev.CallDisposition.CONNECTED.value,
        label="Outcome",
    )
    reason_code = forms.ChoiceField(
        label="Reason",
        required=False,
        help_text="Why the patient called, from the clinic's list (supervisors keep it).",
    )
    reason = forms.CharField(
        max_length=1000,
        required=False,
        label="In words",
        help_text='Needed for "Other"; otherwise the reason\'s name is recorded.',
    )
    talk = MinutesSecondsField(label="Talk time", initial="0:00")
    hold = MinutesSecondsField(label="Hold time", required=False)
    wrap_up = MinutesSecondsField(label="Wrap-up time", required=False, help_text="After the call.")
    resolved_first_contact = forms.BooleanField(
        required=False, label="Resolved on this call (nothing left to follow up)"
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        now: dt.datetime = kwargs["now"]
        local = now.astimezone(fmt.clinic_zone())
        kwargs["initial"] = {
            "day": clinic_today(now),
            "time": local.time().replace(second=0, microsecond=0),
            **kwargs.get("initial", {}),
        }
        super().__init__(*args, **kwargs)
        field = self.fields["reason_code"]
        assert isinstance(field, forms.ChoiceField)
        field.choices = [
            ("", "—"),
            *offered_reasons().items(),
            (ev.OTHER_REASON, "Other (say what, in words)"),
        ]

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if data.get("day") and data.get("time"):
            try:
                data["started_at"] = local_moment(data["day"], data["time"], fmt.clinic_zone().key)
            except forms.ValidationError as error:
                self.add_error("time", error)
        return data

    def command(self, *, actor: Actor, options: CommandOptions) -> CommandResult:
        data = self.cleaned_data
        talk, hold = data["talk"] or 0, data["hold"] or 0
        return handlers.call_log(
            patient_id=self.patient.patient_id,
            direction=ev.CallDirection(data["direction"]),
            channel=ev.Channel(data["channel"]),
            started_at=data["started_at"],
            duration_seconds=talk + hold,
            hold_seconds=hold,
            wrap_up_seconds=data["wrap_up"] or 0,
            disposition=ev.CallDisposition(data["disposition"]),
            reason_code=data["reason_code"],
            reason=data["reason"],
            resolved_first_contact=data["resolved_first_contact"],
            actor=actor,
            now=self.now,
            **options,
        )

    def success_message(self, result: CommandResult) -> str:
        return "Call logged."


class NoteForm(PatientActionForm):
    slug = "note"
    title = "Add a note"
    submit_label = "Add note"
    # A note adds to the record and depends on nothing in it: never refused as stale.
    checks_version = False

    text = forms.CharField(widget=forms.Textarea(attrs={"rows": 5, "cols": 60}), max_length=10_000)
    restricted = forms.BooleanField(
        required=False,
        label="Restricted: clinicians only",
        help_text="Therapy and clinical content. Front desk and agents will not see it.",
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if not may_read_restricted_notes(self.user):
            # Nobody writes what they could not read back.
            del self.fields["restricted"]

    def command(self, *, actor: Actor, options: CommandOptions) -> CommandResult:
        return handlers.note_add(
            patient_id=self.patient.patient_id,
            text=self.cleaned_data["text"],
            restricted=bool(self.cleaned_data.get("restricted")),
            actor=actor,
            **options,
        )

    def success_message(self, result: CommandResult) -> str:
        restricted = bool(self.cleaned_data.get("restricted"))
        return "Restricted note added (clinicians only)." if restricted else "Note added."


class CrisisContactForm(PatientActionForm):
    slug = "crisis-contact"
    title = "Record a crisis contact"
    submit_label = "Record crisis contact"
    checks_version = False

    risk_level = forms.ChoiceField(choices=fmt.choices(ev.RiskLevel), label="Risk level")
    handoff = forms.ChoiceField(choices=fmt.choices(ev.CrisisHandoff), label="Handed off to")
    safety_plan = forms.ChoiceField(choices=fmt.choices(ev.SafetyPlan), label="Safety plan")
    summary = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 4, "cols": 60}), required=False, max_length=10_000
    )

    def command(self, *, actor: Actor, options: CommandOptions) -> CommandResult:
        data = self.cleaned_data
        return handlers.crisis_contact_record(
            patient_id=self.patient.patient_id,
            risk_level=ev.RiskLevel(data["risk_level"]),
            handoff=ev.CrisisHandoff(data["handoff"]),
            safety_plan=ev.SafetyPlan(data["safety_plan"]),
            summary=data["summary"],
            actor=actor,
            **options,
        )

    def success_message(self, result: CommandResult) -> str:
        return "Crisis contact recorded; the patient's record now shows the crisis flag."


class CrisisFlagClearForm(PatientActionForm):
    slug = "clear-crisis-flag"
    title = "Clear the crisis flag"
    submit_label = "Clear crisis flag"

    reason = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 3, "cols": 60}),
        max_length=2_000,
        help_text="Why the patient no longer needs crisis follow-up (e.g. safety plan "
        "reviewed in session).",
    )

    @classmethod
    def allowed(cls, user: User) -> bool:
        # A clinical judgement: only clinicians take the flag down.
        return may_read_restricted_notes(user)

    @classmethod
    def offered(cls, patient: PatientProfile, user: User) -> bool:
        return patient.crisis_flag and cls.allowed(user)

    def command(self, *, actor: Actor, options: CommandOptions) -> CommandResult:
        return handlers.crisis_flag_clear(
            patient_id=self.patient.patient_id,
            reason=self.cleaned_data["reason"],
            actor=actor,
            **options,
        )

    def success_message(self, result: CommandResult) -> str:
        return "Crisis flag cleared. The crisis contacts stay on the timeline."
