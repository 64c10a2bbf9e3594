"""The agent desk in a real browser: a signed Twilio webhook rings the live server, the caller's
record pops within 2 s (crisis first), the ended call is logged once, the queue is worked."""

from __future__ import annotations

import datetime as dt
import io
import time
import uuid
import zoneinfo
from typing import Any

import pytest
from django.core.management import CommandError, call_command
from django.utils import timezone

from crm import eventstore, handlers
from crm.desk.broadcast import BROADCASTER
from crm.domain import events as ev
from crm.handlers import Actor
from crm.management.commands.simulate_call import SimulatedCall
from crm.models import PatientProfile
from crm.models.contact_reasons import seed_contact_reasons
from crm.projections import runner
from engagement.models import Suggestion
from fixtures import demo
from fixtures.staff import demo_password, ensure_demo_staff
from tests.roles import role_group

pytestmark = pytest.mark.django_db(transaction=True)

AUTH_TOKEN = "desk-test-twilio-auth-token-0123456789"
CLINIC_NUMBER = "+16175550100"
SEED = 1
CRISIS_CALLER = 20


@pytest.fixture
def clinic(settings: Any, _empty_append_only_tables: None) -> Any:
    """Demo patients (a few histories of the demo, one with an open crisis flag), the demo
    logins, and a server that checks Twilio signatures with the test's token."""
    settings.TWILIO_AUTH_TOKEN = AUTH_TOKEN
    settings.CLINIC_PHONE = CLINIC_NUMBER
    role_group("agent")  # the flush of the last test emptied the role groups too
    ensure_demo_staff()
    seed_contact_reasons()
    now = timezone.now()
    # Seed 1's patients 2 to 4 lead ordinary lives; 20 is its first open crisis with a phone.
    assert demo.storyline(seed=SEED, index=CRISIS_CALLER) is demo.Storyline.CRISIS_OPEN
    indexes = [2, 3, 4, CRISIS_CALLER]
    steps = [step for i in indexes for step in demo.patient_history(seed=SEED, index=i, now=now)]
    demo.load(sorted(steps, key=lambda step: step.sort_key), now=now)
    runner.catch_up_all()
    yield
    BROADCASTER.stop()


@pytest.fixture
def desk(page: Any, clinic: None) -> Any:
    return signed_in(page)


def signed_in(page: Any) -> Any:
    """The demo agent signed in: /desk/ sends them to sign in and brings them back."""
    page.goto("/desk/")
    page.wait_for_url("**/admin/login/?next=/desk/")
    page.get_by_label("Username").fill("agent")
    page.get_by_label("Password").fill(demo_password("agent"))
    page.get_by_role("button", name="Log in").click()
    page.wait_for_url("**/desk/")
    page.locator("#feed-state.is-live").wait_for()
    return page


def a_patient(**where: Any) -> PatientProfile:
    """A demo patient with a number of their own."""
    for profile in (
        PatientProfile.objects.answering()
        .filter(phone__isnull=False, deceased=False, **where)
        .order_by("last_name", "first_name", "patient_id")
    ):
        if PatientProfile.objects.answering().filter(phone=profile.phone).count() == 1:
            return profile
    raise AssertionError(f"no demo patient with {where}")


def household_of_two() -> list[PatientProfile]:
    """Two patients of the demo who share a phone (a household), registered for this test."""
    now = timezone.now()
    first = a_patient(crisis_flag=False)
    desk_actor = Actor(name="frontdesk", channel="fixture", role="front_desk")
    handlers.patient_register(
        first_name="Quinn",
        last_name=first.last_name,
        date_of_birth=dt.date(2011, 4, 2),
        phone=first.phone,
        actor=desk_actor,
        now=now,
        occurred_at=now - dt.timedelta(days=30),
    )
    return list(PatientProfile.objects.answering().filter(phone=first.phone).order_by("first_name"))


def phone_call(live_server: Any, caller: str | None) -> SimulatedCall:
    assert caller is not None
    return SimulatedCall(
        base_url=live_server.url, auth_token=AUTH_TOKEN, caller=caller, called=CLINIC_NUMBER
    )


def events_of(patient_id: uuid.UUID, kind: type[Any]) -> list[Any]:
    return [r.event for r in eventstore.read_stream(patient_id) if isinstance(r.event, kind)]


def calls_logged(call_sid: str) -> list[tuple[uuid.UUID, ev.CallLogged]]:
    """Every CallLogged of this call across every patient's stream."""
    return [
        (recorded.stream_id, recorded.event)
        for recorded in eventstore.read_all(after_position=0, limit=1_000_000)
        if isinstance(recorded.event, ev.CallLogged) and recorded.event.call_sid == call_sid
    ]


def test_the_callers_record_pops_within_two_seconds_and_the_ended_call_is_logged_once(
    desk: Any, live_server: Any
) -> None:
    patient = a_patient(crisis_flag=False)
    call = phone_call(live_server, patient.phone)
    refused: list[str] = []  # what the Content Security Policy blocked, as the console says
    desk.on("console", lambda m: refused.append(m.text) if "Content Security" in m.text else None)

    started = time.monotonic()
    status, twiml = call.ring()
    desk.locator("#pop .desk-caller h3", has_text=patient.display_name).wait_for(timeout=2000)
    popped = time.monotonic() - started

    assert status == 200 and "<Enqueue" in twiml
    assert popped < 2.0, popped
    assert patient.display_name in desk.locator("#announce").inner_text()
    pop = desk.locator("#pop")
    assert pop.locator(".desk-crisis").count() == 0
    titles = pop.locator(".desk-panel > h3").all_inner_texts()
    assert titles == ["Open suggestions", "Upcoming visits", "Consents", "Last events"]
    assert "On the line" in pop.locator("[data-call-state]").inner_text()
    assert desk.url == f"{live_server.url}/desk/"  # nothing of the caller in the address

    assert call.end(outcome="answered", queue_seconds=4, talk_seconds=95) == [200, 200]
    call.end(outcome="answered", queue_seconds=4, talk_seconds=95)  # Twilio retries
    state = pop.locator("[data-call-state].is-logged")
    state.wait_for()
    assert "talked 1 min 35 s" in state.inner_text()
    assert f"Logged on {patient.display_name}'s record" in state.inner_text()

    desk.get_by_label("Reason for the call").select_option("appointment")
    desk.get_by_label("Resolved on this first contact").check()
    desk.get_by_label("Note").fill("Asked about the next visit; booked it.")
    desk.get_by_role("button", name="Save the wrap-up").click()
    desk.locator("[data-form=wrap-up] .desk-result", has_text="Wrap-up saved").wait_for()

    logged = calls_logged(call.call_sid)
    assert [stream for stream, _ in logged] == [patient.patient_id]
    assert refused == []
    ((_, the_call),) = logged
    wrap_ups = events_of(patient.patient_id, ev.CallWrappedUp)
    assert [(w.call_id, w.reason_code, w.resolved_first_contact, w.agent) for w in wrap_ups] == [
        (the_call.call_id, "appointment", True, "agent")
    ]
    timeline = desk.request.get(
        f"/api/v1/patients/{patient.patient_id}/timeline/?type=CallLogged&page_size=100"
    ).json()["results"]
    assert [entry["data"].get("call_sid") for entry in timeline].count(call.call_sid) == 1


def test_a_crisis_callers_pop_puts_the_crisis_line_above_everything_else(
    desk: Any, live_server: Any
) -> None:
    patient = a_patient(crisis_flag=True)

    phone_call(live_server, patient.phone).ring()
    pop = desk.locator("#pop")
    banner = pop.locator(".desk-crisis")
    banner.wait_for(timeout=2000)

    first = pop.locator(".desk-main > *").first
    assert "desk-crisis" in (first.get_attribute("class") or "")
    assert banner.get_attribute("role") == "alert"
    assert banner.inner_text().startswith("Crisis line 988")
    assert desk.locator("#announce").inner_text().startswith("Crisis flag: 988 first.")
    caller_box = pop.locator(".desk-caller").bounding_box()
    assert banner.bounding_box()["y"] < caller_box["y"]
    assert patient.display_name in pop.locator(".desk-caller h3").inner_text()


def test_a_shared_number_asks_who_is_calling_and_logs_the_call_on_the_one_picked(
    desk: Any, live_server: Any
) -> None:
    household = household_of_two()
    picked, other = household
    call = phone_call(live_server, picked.phone)

    call.ring()
    pop = desk.locator("#pop")
    pop.get_by_text("2 patients share this number").wait_for(timeout=2000)
    call.end(outcome="answered", queue_seconds=3, talk_seconds=40)
    pop.get_by_text("Held: choose who called to log it.").wait_for()
    assert calls_logged(call.call_sid) == []

    pop.get_by_role("button", name=f"{picked.display_name} is calling").click()
    pop.locator(".desk-caller h3", has_text=picked.display_name).wait_for()

    assert [stream for stream, _ in calls_logged(call.call_sid)] == [picked.patient_id]
    assert (
        f"Logged on {picked.display_name}'s record" in pop.locator("[data-call-state]").inner_text()
    )
    assert other.display_name not in pop.inner_text()


def test_a_call_held_before_the_desk_opened_waits_there_for_the_agent(
    page: Any, clinic: None, live_server: Any
) -> None:
    picked, _ = household_of_two()
    call = phone_call(live_server, picked.phone)
    call.ring()
    call.end(outcome="answered", queue_seconds=3, talk_seconds=40)

    desk = signed_in(page)
    pop = desk.locator("#pop")
    pop.get_by_text("Held: choose who called to log it.").wait_for()
    assert desk.locator("#announce").inner_text().startswith("Call waiting from")
    pop.get_by_role("button", name=f"{picked.display_name} is calling").click()
    pop.locator("[data-call-state].is-logged").wait_for()

    assert [stream for stream, _ in calls_logged(call.call_sid)] == [picked.patient_id]


def test_an_unknown_caller_is_said_to_be_unknown_and_found_by_name(
    desk: Any, live_server: Any
) -> None:
    patient = a_patient(crisis_flag=False)
    call = phone_call(live_server, "+16175550187")  # nobody's number in the demo

    call.ring()
    pop = desk.locator("#pop")
    pop.get_by_text("No patient has the number (617) 555-0187.").wait_for(timeout=2000)
    assert pop.locator(".desk-crisis").count() == 0

    pop.get_by_label("Find the caller by name or date of birth").fill(patient.last_name)
    pop.get_by_role("button", name="Search").click()
    pop.get_by_role("button", name=f"{patient.display_name} is calling").click()
    pop.locator(".desk-caller h3", has_text=patient.display_name).wait_for()
    call.end(outcome="answered", queue_seconds=2, talk_seconds=20)
    pop.locator("[data-call-state].is-logged").wait_for()

    assert [stream for stream, _ in calls_logged(call.call_sid)] == [patient.patient_id]


def test_the_agent_books_a_visit_in_the_patients_time_and_confirms_it_during_the_call(
    desk: Any, live_server: Any
) -> None:
    patient = a_patient(crisis_flag=False)
    phone_call(live_server, patient.phone).ring()
    desk.locator("#pop .desk-caller h3", has_text=patient.display_name).wait_for(timeout=2000)
    zone = zoneinfo.ZoneInfo(patient.timezone)
    day = (timezone.now().astimezone(zone) + dt.timedelta(days=9)).date()

    desk.get_by_label("Visit").select_option("follow_up")
    desk.get_by_label("Date").fill(day.isoformat())
    desk.get_by_label("Time").fill("14:30")
    desk.get_by_label("Provider").fill("Dr. Morgan Ashdale")
    desk.get_by_label("Location").fill("Main Street Clinic, 2nd floor")
    desk.get_by_role("button", name="Book the visit").click()
    desk.locator("[data-form=book] .desk-result", has_text="Booked: follow-up").wait_for()

    booked = events_of(patient.patient_id, ev.AppointmentScheduled)[-1]
    starts = dt.datetime.combine(day, dt.time(14, 30), tzinfo=zone)
    assert booked.starts_at == starts  # 2:30 PM on the patient's own clock
    upcoming = desk.locator("#pop section", has=desk.get_by_role("heading", name="Upcoming visits"))
    visit = upcoming.locator("li", has_text="Dr. Morgan Ashdale")
    assert f"{starts:%b} {day.day}, {day.year}, 2:30 PM" in visit.inner_text()
    visit.get_by_role("button", name="Confirm").click()
    visit.get_by_text("confirmed").wait_for()
    confirmed = events_of(patient.patient_id, ev.AppointmentConfirmed)
    assert confirmed[-1].appointment_id == booked.appointment_id


def test_the_agent_claims_and_completes_a_suggestion_from_the_queue(desk: Any) -> None:
    first = desk.locator("#queue > li").first
    first.wait_for()
    label = first.locator("strong").first.inner_text()
    suggestion_id = first.get_attribute("data-suggestion")

    first.get_by_role("button", name="Claim").click()
    row = desk.locator(f'#queue > li[data-suggestion="{suggestion_id}"]')
    row.get_by_text("claimed by you").wait_for()
    assert f"Claimed: {label}." in desk.locator("#queue-state").inner_text()

    row.get_by_text("Complete or put off").click()
    outcome = row.get_by_label("Outcome")
    if outcome.evaluate("node => node.tagName") == "SELECT":
        outcome.select_option(index=0)
    else:
        outcome.fill("Called back; nothing more needed.")
    row.get_by_role("button", name="Complete").click()
    desk.get_by_text(f"Completed: {label}.").wait_for()

    done = [
        recorded.event
        for recorded in eventstore.read_all(after_position=0, limit=1_000_000)
        if isinstance(recorded.event, ev.SuggestionCompleted)
        and recorded.event.suggestion_id == suggestion_id
    ]
    assert [event.agent for event in done] == ["agent"]
    runner.catch_up_all()
    desk.get_by_role("button", name="Refresh").click()
    desk.locator(f'#queue > li[data-suggestion="{suggestion_id}"]').wait_for(state="detached")


def test_simulate_call_rings_the_running_server_and_ends_the_call(
    clinic: None, live_server: Any
) -> None:
    out = io.StringIO()
    call_command("simulate_call", url=live_server.url, end_after=0.2, stdout=out)

    said = out.getvalue()
    sid = said.split("Ringing: ")[1].split()[0]
    patient = a_patient(crisis_flag=False)
    assert f"from {patient.phone} ({patient.display_name})" in said
    assert "Ended:" in said
    assert [stream for stream, _ in calls_logged(sid)] == [patient.patient_id]


def test_simulate_call_says_why_the_server_refused_it(clinic: None, live_server: Any) -> None:
    with pytest.raises(CommandError) as refused:
        call_command("simulate_call", url=live_server.url, auth_token="not-the-servers-token")

    assert "refused the call (403)" in str(refused.value)
    assert "X-Twilio-Signature header does not match" in str(refused.value)


def test_an_outcome_being_typed_survives_the_queue_refreshing(desk: Any) -> None:
    row = desk.locator("#queue > li", has=desk.locator("input[name=outcome]")).first
    row.get_by_text("Complete or put off").click()
    row.get_by_label("Outcome").fill("Left a message with the daughter")

    desk.get_by_role("button", name="Refresh").click()  # as the feed's queue_changed does
    desk.locator('#queue[aria-busy="false"]').wait_for()

    assert row.get_by_label("Outcome").input_value() == "Left a message with the daughter"


def test_the_agent_puts_a_suggestion_off_for_a_day(desk: Any) -> None:
    row = desk.locator("#queue > li", has=desk.locator("select[name=hours]")).first
    suggestion_id = row.get_attribute("data-suggestion")
    patient_id = next(s.patient_id for s in Suggestion.objects.filter(suggestion_id=suggestion_id))
    row.get_by_text("Complete or put off").click()

    row.get_by_label("Put off for").select_option(label="1 day")
    before = timezone.now()
    row.get_by_role("button", name="Snooze").click()
    desk.locator(f'#queue > li[data-suggestion="{suggestion_id}"]').wait_for(state="detached")

    (snoozed,) = [
        e for e in events_of(patient_id, ev.SuggestionSnoozed) if e.suggestion_id == suggestion_id
    ]
    assert before + dt.timedelta(hours=23) < snoozed.until < before + dt.timedelta(hours=25)
