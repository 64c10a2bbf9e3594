"""A household shares one phone: every text from it reaches each patient who has the
number, and each of them gets a suggestion of their own. The follower, a rebuild and the
bulk re-evaluation keep both, and none of them stops on the shared text."""

from __future__ import annotations

import io

import pytest
from django.core.management import call_command

from crm import handlers
from crm.domain import events as ev
from crm.handlers import Actor
from crm.handlers.base import execute
from crm.models import ParkedStream
from engagement.domain.suggestions import Kind, suggestion_id
from engagement.models import Suggestion
from reminders.webhooks import views
from tests.reminders.sms_webhook import AUTH_TOKEN, Phone, events_of

pytestmark = pytest.mark.django_db

HOME = "(617) 555-0134"
DESK = Actor(name="frontdesk.one", channel="admin", role="front_desk")
TEXTS = {
    "Can someone call me about the bill?": Kind.SMS_CALLBACK,
    "R": Kind.RESCHEDULE_REQUEST,
    "please stop texting me": Kind.SMS_STOP_REVIEW,
}


@pytest.fixture(autouse=True)
def _twilio(settings, monkeypatch, now):  # type: ignore[no-untyped-def]
    settings.TWILIO_AUTH_TOKEN = AUTH_TOKEN
    settings.TWILIO_WEBHOOK_BASE_URL = ""
    settings.CLINIC_PHONE = "+16175550100"
    monkeypatch.setattr(views, "clock", lambda: now)


@pytest.fixture
def household(register):  # type: ignore[no-untyped-def]
    """Avery and Jordan, parent and child, on the family's one phone."""
    return register(first_name="Avery", phone=HOME), register(first_name="Jordan", phone=HOME)


@pytest.fixture
def texted(client, household):  # type: ignore[no-untyped-def]
    """The household's phone sends a free text, an "R" and a request to stop texting."""
    phone = Phone(client, "+16175550134")
    for body in TEXTS:
        phone.text(body)
    return household


def _queue() -> set[tuple[object, str, str]]:
    """The queue's suggestions about texts: (patient, kind, status)."""
    about_texts = Suggestion.objects.filter(kind__in=[kind.value for kind in TEXTS.values()])
    return set(about_texts.values_list("patient_id", "kind", "status"))


def _each_has_their_own(household, status: str = "open") -> set[tuple[object, str, str]]:  # type: ignore[no-untyped-def]
    return {(pid, kind.value, status) for pid in household for kind in TEXTS.values()}


def test_every_text_from_a_shared_phone_gives_each_patient_a_suggestion_of_their_own(
    texted, catch_up
):
    catch_up()

    assert _queue() == _each_has_their_own(texted)
    ids = list(Suggestion.objects.values_list("suggestion_id", flat=True))
    assert len(set(ids)) == len(ids)
    assert not ParkedStream.objects.exists()


def test_a_rebuild_and_the_bulk_re_evaluation_keep_both_patients_suggestions(texted, catch_up, now):
    catch_up()
    live = set(Suggestion.objects.values_list("suggestion_id", "patient_id", "kind", "status"))

    call_command("rebuild_projections", "--no-progress", stdout=io.StringIO())
    rebuilt = set(Suggestion.objects.values_list("suggestion_id", "patient_id", "kind", "status"))
    call_command("evaluate_suggestions", "--all", "--now", now.isoformat(), stdout=io.StringIO())
    bulk = set(Suggestion.objects.values_list("suggestion_id", "patient_id", "kind", "status"))

    assert rebuilt == live == bulk
    assert _queue() == _each_has_their_own(texted)
    assert not ParkedStream.objects.exists()


def test_what_an_agent_recorded_under_a_texts_older_id_still_closes_that_patients_suggestion(
    texted, catch_up, now
):
    """Logs written before suggestion ids named the patient hold completions under
    `sms_callback.<message>`; they still count, for the patient whose record holds them."""
    avery, jordan = texted
    [free_text] = [
        r for r in events_of(avery, ev.SmsReceived) if r.intent is ev.SmsIntent.FREE_TEXT
    ]
    older_id = suggestion_id(Kind.SMS_CALLBACK, free_text.message_id)
    execute(
        patient_id=avery,
        decide=lambda state: [
            ev.SuggestionCompleted(
                suggestion_id=older_id, kind="sms_callback", outcome="Called back", agent="kim"
            )
        ],
        actor=Actor(name="kim", channel="api", role="agent"),
        occurred_at=now,
    )

    catch_up()
    call_command("rebuild_projections", "suggestions", "--no-progress", stdout=io.StringIO())

    statuses = dict(
        Suggestion.objects.filter(kind="sms_callback").values_list("patient_id", "status")
    )
    assert statuses == {avery: "done", jordan: "open"}


def test_two_records_of_one_person_that_both_got_the_text_leave_one_callback_once_merged(
    client, register, catch_up, now
):
    first = register(first_name="Avery", phone=HOME)
    duplicate = register(first_name="Avery", phone=HOME)  # the same person, registered twice
    Phone(client, "+16175550134").text("Can someone call me about the bill?")
    catch_up()
    assert Suggestion.objects.filter(kind="sms_callback").count() == 2

    handlers.patients_merge(
        surviving_patient_id=first, duplicate_patient_id=duplicate, actor=DESK, now=now
    )
    catch_up()

    [callback] = Suggestion.objects.filter(kind="sms_callback")
    assert callback.patient_id == first and callback.status == "open"
    assert not ParkedStream.objects.exists()
