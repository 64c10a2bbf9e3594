"""The worklist's small forms: claim, hand back, complete, put off, dismiss; each runs the
engagement handler the API runs, once (the form's one-time token is the idempotency key)."""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Callable
from typing import Any, ClassVar

from django import forms

from crm.admin import formatting as fmt
from crm.admin.forms.base import (
    CommandForm,
    User,
    clinic_today,
    date_field,
    local_moment,
    time_field,
)
from crm.domain import events as ev
from crm.handlers import Actor, CommandResult
from crm.handlers.base import CommandOptions
from engagement import handlers
from engagement.domain.decisions import MAX_SNOOZE, SuggestionNotFound
from engagement.domain.suggestions import (
    CRISIS_OUTCOMES,
    STOP_REVIEW_OUTCOMES,
    Kind,
    Status,
)
from engagement.domain.suggestions import Suggestion as Found

GONE = "This suggestion is no longer on the patient's record; the queue will drop it shortly."
OUTCOME_WORDS = {
    "reached": "Reached the patient",
    "not_reached": "Tried, not reached (stays open)",
    "keeps_texts": "Keeps the texts (the reply was not a request to stop)",
    "opted_out": "Stops all texts (withdraws text consent)",
}


def workable_by(suggestion: Found, user: User) -> bool:
    """Open, put off, or held by this person: what they may act on now."""
    if suggestion.paused_reason:
        return False
    if suggestion.status is Status.CLAIMED:
        return suggestion.assignee == user.get_username()
    return suggestion.status in (Status.OPEN, Status.SNOOZED)


class SuggestionForm(CommandForm):
    """A command on one suggestion of one patient.

    The command decides from the patient's log under the patient's lock (who holds the
    suggestion, whether it is still open), so these forms carry no page version: a note or a
    booking added meanwhile never makes a clerk send the form again.
    """

    slug: ClassVar[str]
    handler: ClassVar[Callable[..., CommandResult]]

    def __init__(
        self,
        data: Any = None,
        *,
        suggestion: Found,
        patient_id: uuid.UUID,
        user: User,
        now: dt.datetime,
        **kwargs: Any,
    ) -> None:
        self.suggestion = suggestion
        self.patient_id = patient_id
        super().__init__(data, user=user, now=now, prefix=self.slug, **kwargs)

    @classmethod
    def offered(cls, suggestion: Found, user: User) -> bool:
        return workable_by(suggestion, user)

    def arguments(self) -> dict[str, Any]:
        """What the handler takes besides the suggestion, from the cleaned form."""
        return {}

    def command(self, *, actor: Actor, options: CommandOptions) -> CommandResult:
        return type(self).handler(
            patient_id=self.patient_id,
            suggestion_id=self.suggestion.suggestion_id,
            actor=actor,
            **self.arguments(),
            **options,
        )

    def run(self, actor: Actor) -> CommandResult | None:
        try:
            return super().run(actor)
        except SuggestionNotFound:
            self.failure = ("not_found", 404)
            self.add_error(None, GONE)
            return None


class ClaimForm(SuggestionForm):
    slug = "claim"
    title = "Claim"
    submit_label = "Claim: I'm on it"
    handler = staticmethod(handlers.suggestion_claim)

    @classmethod
    def offered(cls, suggestion: Found, user: User) -> bool:
        return workable_by(suggestion, user) and suggestion.status is not Status.CLAIMED

    def success_message(self, result: CommandResult) -> str:
        until = getattr(result.events[0].event, "until", None) if result.events else None
        return f"Claimed: nobody else takes it until {fmt.moment(until)}." if until else "Claimed."


class ReleaseForm(SuggestionForm):
    slug = "release"
    title = "Hand back"
    submit_label = "Hand it back to the queue"
    handler = staticmethod(handlers.suggestion_release)

    @classmethod
    def offered(cls, suggestion: Found, user: User) -> bool:
        return suggestion.status is Status.CLAIMED and suggestion.assignee == user.get_username()

    def success_message(self, result: CommandResult) -> str:
        return "Handed back to the queue."


class CompleteForm(SuggestionForm):
    slug = "complete"
    title = "Record what was done"
    submit_label = "Done"
    handler = staticmethod(handlers.suggestion_complete)

    outcome = forms.CharField(
        max_length=1000,
        label="What was done",
        widget=forms.Textarea(attrs={"rows": 3, "cols": 50}),
    )
    consent_source = forms.ChoiceField(
        required=False,
        label="How the patient asked",
        choices=[
            (ev.ConsentSource.SMS_KEYWORD.value, "By the text they sent"),
            (ev.ConsentSource.VERBAL.value, "They confirmed on the phone"),
        ],
        initial=ev.ConsentSource.SMS_KEYWORD.value,
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        closed = {
            Kind.CRISIS_FOLLOW_UP: CRISIS_OUTCOMES,
            Kind.SMS_STOP_REVIEW: STOP_REVIEW_OUTCOMES,
        }.get(self.suggestion.kind)
        if closed is not None:
            # A closed vocabulary: offer exactly the outcomes the rule takes.
            self.fields["outcome"] = forms.ChoiceField(
                label="Outcome",
                choices=[(value, OUTCOME_WORDS[value]) for value in closed],
                widget=forms.RadioSelect,
            )
        if self.suggestion.kind is not Kind.SMS_STOP_REVIEW:
            del self.fields["consent_source"]

    def arguments(self) -> dict[str, Any]:
        data = self.cleaned_data
        found: dict[str, Any] = {"outcome": data["outcome"]}
        if data.get("consent_source"):
            found["consent_source"] = ev.ConsentSource(data["consent_source"])
        return found

    def success_message(self, result: CommandResult) -> str:
        return "Recorded as done."


class SnoozeForm(SuggestionForm):
    slug = "snooze"
    title = "Put off until later"
    submit_label = "Put off"
    handler = staticmethod(handlers.suggestion_snooze)
    error_fields = {"until": "day"}

    day = date_field("Until", help_text=f"Within {MAX_SNOOZE.days} days.")
    time = time_field("At", help_text="Clinic time.")

    @classmethod
    def offered(cls, suggestion: Found, user: User) -> bool:
        return workable_by(suggestion, user) and suggestion.kind is not Kind.CRISIS_FOLLOW_UP

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        now: dt.datetime = kwargs["now"]
        kwargs["initial"] = {
            "day": clinic_today(now) + dt.timedelta(days=1),
            "time": dt.time(9, 0),
            **kwargs.get("initial", {}),
        }
        super().__init__(*args, **kwargs)

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if data.get("day") and data.get("time"):
            try:
                data["until"] = local_moment(data["day"], data["time"], fmt.clinic_zone().key)
            except forms.ValidationError as error:
                self.add_error("time", error)
        return data

    def arguments(self) -> dict[str, Any]:
        return {"until": self.cleaned_data["until"]}

    def success_message(self, result: CommandResult) -> str:
        return f"Put off until {fmt.moment(self.cleaned_data['until'])}."


class DismissForm(SuggestionForm):
    slug = "dismiss"
    title = "Dismiss"
    submit_label = "Dismiss"
    handler = staticmethod(handlers.suggestion_dismiss)

    reason = forms.CharField(
        max_length=1000,
        label="Why it needs nothing",
        widget=forms.Textarea(attrs={"rows": 2, "cols": 50}),
    )

    @classmethod
    def offered(cls, suggestion: Found, user: User) -> bool:
        # A paused suggestion may still be dismissed (decisions._workable).
        return (
            suggestion.kind is not Kind.CRISIS_FOLLOW_UP
            and suggestion.active
            and not (
                suggestion.status is Status.CLAIMED and suggestion.assignee != user.get_username()
            )
        )

    def arguments(self) -> dict[str, Any]:
        return {"reason": self.cleaned_data["reason"]}

    def success_message(self, result: CommandResult) -> str:
        return "Dismissed."


# In the order the suggestion's page offers them.
SUGGESTION_ACTIONS: dict[str, type[SuggestionForm]] = {
    form.slug: form for form in (ClaimForm, CompleteForm, SnoozeForm, DismissForm, ReleaseForm)
}
