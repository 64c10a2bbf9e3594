"""The front desk works the suggestion queue in the admin: the same order as the agents'
API queue, filtered by kind and status, each row naming its patient and why; claiming,
completing, putting off and dismissing go through the handlers the API runs, and each
page and command is in the access audit."""

from __future__ import annotations

import datetime as dt
import re
import uuid

import pytest
from django.contrib.admin.utils import quote
from django.urls import reverse
from django.utils import timezone
from rest_framework.test import APIClient

from crm import handlers
from crm.domain import events as ev
from crm.handlers import Actor
from crm.models import AccessAction, AccessLogEntry, Event
from crm.projections import runner
from engagement.models import Suggestion
from engagement.projection import PROJECTION
from tests.admin.pages import form_fields, patient_url, text_of

pytestmark = pytest.mark.django_db

QUEUE = reverse("admin:engagement_suggestion_changelist")
CALLER_DESK = Actor(name="frontdesk.alder", channel="fixture", role="front_desk")


def catch_up() -> None:
    runner.catch_up(PROJECTION)


def missed_call(patient_id: uuid.UUID, *, ago: dt.timedelta) -> str:
    result = handlers.call_log(
        patient_id=patient_id,
        direction=ev.CallDirection.INBOUND,
        started_at=timezone.now() - ago,
        duration_seconds=0,
        disposition=ev.CallDisposition.MISSED,
        actor=CALLER_DESK,
    )
    return f"callback.{result.events[0].event.call_id}.{patient_id}"  # type: ignore[attr-defined]


def crisis(patient_id: uuid.UUID) -> None:
    handlers.crisis_contact_record(
        patient_id=patient_id,
        risk_level=ev.RiskLevel.HIGH,
        handoff=ev.CrisisHandoff.CLINICIAN,
        safety_plan=ev.SafetyPlan.CREATED,
        summary="Private words that stay in the record.",
        actor=CALLER_DESK,
    )


def page_url(suggestion_id: str) -> str:
    return reverse("admin:engagement_suggestion_change", args=[quote(suggestion_id)])


def action_url(suggestion_id: str, action: str) -> str:
    return reverse("admin:engagement_suggestion_action", args=[quote(suggestion_id), action])


def rows_of(html: str) -> list[str]:
    return re.findall(r'class="field-what"><a href="[^"]*">([^<]+)</a>', html)


def patients_of(html: str) -> list[str]:
    return re.findall(r'class="field-patient"><a href="[^"]*">([^<]+)</a>', html)


def send(client, suggestion_id: str, action: str, **values: str):  # type: ignore[no-untyped-def]
    """Send the form as the suggestion's page draws it, with `values` typed in."""
    page = client.get(page_url(suggestion_id)).content.decode()
    fields = form_fields(page, form_id=f"{action}-form")
    fields.update({f"{action}-{name}": value for name, value in values.items()})
    return client.post(action_url(suggestion_id, action), fields)


def test_the_worklist_is_in_the_api_queues_order_with_each_patient_and_why(desk, patient, staff):
    morgan = patient(first_name="Morgan", phone="(617) 555-0141")
    riley = patient(first_name="Riley", phone="(617) 555-0142")
    casey = patient(first_name="Casey", phone="(617) 555-0143")
    missed_call(morgan, ago=dt.timedelta(hours=6))
    missed_call(riley, ago=dt.timedelta(minutes=5))
    crisis(casey)
    catch_up()

    html = desk.get(QUEUE).content.decode()
    agent = APIClient()
    agent.force_authenticate(staff("agent.avery", "agent").user)
    api = agent.get("/api/v1/suggestions/").json()["results"]

    assert rows_of(html) == [item["label"] for item in api]
    assert patients_of(html)[:3] == ["Casey Quillbrook", "Morgan Quillbrook", "Riley Quillbrook"]
    assert f'href="{patient_url(casey)}"' in html
    page = text_of(desk.get(QUEUE))
    assert "Private words" not in page
    for item in api:
        assert item["reason"] in page


def test_the_worklist_filters_by_kind_and_by_status_as_of_now(desk, patient):
    morgan = patient(first_name="Morgan", phone="(617) 555-0141")
    callback = missed_call(morgan, ago=dt.timedelta(hours=1))
    crisis(patient(first_name="Casey", phone="(617) 555-0143"))
    catch_up()

    callbacks = desk.get(QUEUE, {"kind": "callback"}).content.decode()
    assert rows_of(callbacks) == ["Call back a missed call"]
    assert "1 suggestion" in text_of_html(callbacks)

    send(desk, callback, "claim")
    catch_up()
    claimed = desk.get(QUEUE, {"status": "claimed"}).content.decode()
    assert rows_of(claimed) == ["Call back a missed call"]
    assert "Being handled by frontdesk" in text_of(desk.get(QUEUE, {"status": "claimed"}))
    assert rows_of(desk.get(QUEUE, {"status": "done", "kind": "callback"}).content.decode()) == []
    # A filter the list does not offer is refused, as the API refuses it.
    assert desk.get(QUEUE, {"assignee": "frontdesk"}).status_code == 400


def test_a_clerk_claims_then_completes_a_suggestion_through_the_handlers(desk, patient):
    morgan = patient(first_name="Morgan")
    callback = missed_call(morgan, ago=dt.timedelta(hours=1))
    catch_up()

    claimed = send(desk, callback, "claim")
    assert claimed.status_code == 302
    page = text_of(desk.get(claimed["Location"]))
    # Read back from the log at once, before the queue catches up.
    assert "Being handled by frontdesk until" in page
    assert "Claimed" in page

    done = send(desk, callback, "complete", outcome="Called back; booked a visit.")
    assert done.status_code == 302
    assert "Recorded as done." in text_of(desk.get(done["Location"]))

    recorded = [
        (e.event_type, e.metadata.get("actor"))
        for e in Event.objects.filter(stream_id=morgan).order_by("version")
    ][-2:]
    assert [kind for kind, _ in recorded] == ["SuggestionClaimed", "SuggestionCompleted"]
    assert (
        Event.objects.get(stream_id=morgan, event_type="SuggestionCompleted").data["outcome"]
        == "Called back; booked a visit."
    )
    catch_up()
    assert rows_of(desk.get(QUEUE, {"kind": "callback"}).content.decode()) == []
    assert Suggestion.objects.get(suggestion_id=callback).status == "done"


def test_someone_elses_claim_is_named_and_nothing_is_recorded(desk, staff, patient):
    morgan = patient(first_name="Morgan")
    callback = missed_call(morgan, ago=dt.timedelta(hours=1))
    catch_up()
    other = staff("frontdesk.birch", "front_desk")
    page = other.get(page_url(callback)).content.decode()
    send(desk, callback, "claim")
    before = Event.objects.filter(stream_id=morgan).count()

    # Birch's page was drawn before the claim; the handler refuses from the log.
    fields = form_fields(page, form_id="complete-form")
    fields["complete-outcome"] = "Called back."
    refused = other.post(action_url(callback, "complete"), fields)

    assert refused.status_code == 200
    assert "frontdesk is working on this suggestion" in text_of(refused)
    assert Event.objects.filter(stream_id=morgan).count() == before
    assert 'id="claim-form"' not in other.get(page_url(callback)).content.decode()


def test_put_off_and_dismissed_suggestions_leave_the_worklist(desk, patient, clinic_now):
    callback = missed_call(patient(first_name="Morgan"), ago=dt.timedelta(hours=1))
    other = missed_call(
        patient(first_name="Riley", phone="(617) 555-0142"), ago=dt.timedelta(hours=2)
    )
    catch_up()

    tomorrow = (clinic_now + dt.timedelta(days=2)).date().isoformat()
    assert send(desk, callback, "snooze", day=tomorrow, time="09:00").status_code == 302
    assert send(desk, other, "dismiss", reason="Called us back already.").status_code == 302
    catch_up()

    assert rows_of(desk.get(QUEUE, {"kind": "callback"}).content.decode()) == []
    assert rows_of(desk.get(QUEUE, {"status": "snoozed"}).content.decode()) == [
        "Call back a missed call"
    ]
    dismissed = text_of(desk.get(QUEUE, {"status": "dismissed"}))
    assert "Dismissed" in dismissed and "Called us back already." in dismissed


def test_a_crisis_follow_up_offers_its_two_outcomes_and_is_never_put_off(desk, patient):
    casey = patient(first_name="Casey")
    crisis(casey)
    catch_up()
    suggestion_id = Suggestion.objects.get(patient_id=casey, kind="crisis_follow_up").pk

    page = desk.get(page_url(suggestion_id)).content.decode()

    assert 'id="complete-form"' in page and 'id="snooze-form"' not in page
    assert 'id="dismiss-form"' not in page
    assert 'value="reached"' in page and 'value="not_reached"' in page


def test_the_worklist_its_pages_and_its_commands_are_in_the_access_audit(desk, patient):
    morgan = patient(first_name="Morgan")
    callback = missed_call(morgan, ago=dt.timedelta(hours=1))
    catch_up()
    start = AccessLogEntry.objects.order_by("-pk").values_list("pk", flat=True).first() or 0

    desk.get(QUEUE)
    desk.get(page_url(callback))
    send(desk, callback, "claim")

    rows = list(
        AccessLogEntry.objects.filter(pk__gt=start)
        .order_by("pk")
        .values_list("action", "patient_id", "outcome")
    )
    assert (AccessAction.READ, morgan, "queue_listed") in rows
    assert (AccessAction.READ, morgan, "returned") in rows
    assert (AccessAction.CHANGE, morgan, "changed") in rows
    assert {row[1] for row in rows} == {morgan}


def test_people_without_the_patients_area_cannot_open_the_worklist(staff):
    root = staff("it.admin", superuser=True)

    assert root.get(QUEUE).status_code == 403
    assert root.post(action_url("callback.x.y", "claim"), {}).status_code == 403


def text_of_html(html: str) -> str:
    return " ".join(re.sub(r"<[^>]+>", " ", html).split())
