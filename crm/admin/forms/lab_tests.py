"""Ordering a test (labs, imaging) and recording that it was done; the open ones are read from
the patient's TestOrdered and TestCompleted events in one query (the profile keeps no tests)."""

from __future__ import annotations

import datetime as dt
import uuid
from dataclasses import dataclass
from typing import Any

from django import forms

from crm import handlers
from crm.admin import formatting as fmt
from crm.admin.forms.base import PatientActionForm, User, clinic_today, date_field
from crm.domain import events as ev
from crm.handlers import Actor, CommandResult
from crm.handlers.base import CommandOptions
from crm.models import Event, PatientProfile

_TEST_EVENTS = ("TestOrdered", "TestCompleted")


@dataclass(frozen=True, slots=True)
class OpenTest:
    test_id: uuid.UUID
    test_name: str
    due_by: dt.date
    ordered_by: str

    def describe(self) -> str:
        return f"{self.test_name}, due by {fmt.day(self.due_by)} (ordered by {self.ordered_by})"


def open_tests(patient_id: uuid.UUID) -> list[OpenTest]:
    """Tests ordered and not yet completed, soonest due first."""
    ordered: dict[uuid.UUID, OpenTest] = {}
    rows = (
        Event.objects.filter(stream_id=patient_id, event_type__in=_TEST_EVENTS)
        .order_by("version")
        .values_list("event_type", "schema_version", "data")
    )
    for event_type, schema_version, data in rows:
        event = ev.load_stored(event_type, schema_version, data)
        if isinstance(event, ev.TestOrdered):
            ordered[event.test_id] = OpenTest(
                event.test_id, event.test_name, event.due_by, event.ordered_by
            )
        elif isinstance(event, ev.TestCompleted):
            ordered.pop(event.test_id, None)
    return sorted(ordered.values(), key=lambda t: (t.due_by, t.test_name, str(t.test_id)))


class TestOrderForm(PatientActionForm):
    __test__ = False  # not a pytest class, whatever its name says

    slug = "order-test"
    title = "Order a test"
    submit_label = "Order test"

    test_name = forms.CharField(
        max_length=200, label="Test", help_text="e.g. Lipid panel, HbA1c, PHQ-9 screening."
    )
    due_by = date_field("Due by")

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        now: dt.datetime = kwargs["now"]
        kwargs["initial"] = {
            "due_by": clinic_today(now) + dt.timedelta(days=14),
            **kwargs.get("initial", {}),
        }
        super().__init__(*args, **kwargs)

    @classmethod
    def offered(cls, patient: PatientProfile, user: User) -> bool:
        return not patient.deceased and cls.allowed(user)

    def command(self, *, actor: Actor, options: CommandOptions) -> CommandResult:
        return handlers.lab_test_order(
            patient_id=self.patient.patient_id,
            test_name=self.cleaned_data["test_name"].strip(),
            due_by=self.cleaned_data["due_by"],
            actor=actor,
            now=self.now,
            **options,
        )

    def success_message(self, result: CommandResult) -> str:
        due = fmt.day(self.cleaned_data["due_by"])
        return f"Ordered: {self.cleaned_data['test_name'].strip()}, due by {due}."


class TestCompleteForm(PatientActionForm):
    __test__ = False

    slug = "complete-test"
    title = "Record a test as done"
    submit_label = "Mark done"
    per_appointment = True  # offered beside each open test, not in the page's action list

    test = forms.ChoiceField(
        choices=[],
        error_messages={
            "invalid_choice": "This test is no longer open: it was marked done since the page "
            "was drawn."
        },
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.open = {str(t.test_id): t for t in open_tests(self.patient.patient_id)}
        field = self.fields["test"]
        assert isinstance(field, forms.ChoiceField)
        field.choices = [(key, test.describe()) for key, test in self.open.items()]
        self.order_fields(["test", *self.fields])

    def command(self, *, actor: Actor, options: CommandOptions) -> CommandResult:
        return handlers.lab_test_complete(
            patient_id=self.patient.patient_id,
            test_id=uuid.UUID(self.cleaned_data["test"]),
            actor=actor,
            **options,
        )

    def success_message(self, result: CommandResult) -> str:
        return f"Done: {self.open[self.cleaned_data['test']].test_name}."
