"""The agent's queue over the API: list, claim, complete, dismiss, snooze, and one
patient's suggestions now or as of a past moment."""

from __future__ import annotations

import datetime as dt
import uuid

import pytest
from django.utils import timezone

from crm import eventstore, handlers
from crm.domain import events as ev
from crm.domain import moments
from crm.handlers import Actor
from crm.handlers.base import execute
from crm.projections import runner
from engagement import handlers as suggestion_handlers
from engagement import screens
from engagement.models import Suggestion
from engagement.projection import PROJECTION
from engagement.selectors import ACTIONABLE, with_status
from tests.api.conftest import problem, stream

pytestmark = pytest.mark.django_db

QUEUE = "/api/v1/suggestions/"
DESK = Actor(name="frontdesk.one", channel="admin", role="front_desk")


def catch_up() -> None:
    runner.catch_up(PROJECTION)


def missed_call(patient_id: uuid.UUID, *, ago: dt.timedelta = dt.timedelta(minutes=30)) -> str:
    started = timezone.now() - ago
    result = handlers.call_log(
        patient_id=patient_id,
        direction=ev.CallDirection.INBOUND,
        started_at=started,
        duration_seconds=0,
        disposition=ev.CallDisposition.MISSED,
        actor=DESK,
    )
    return f"callback.{result.events[0].event.call_id}.{patient_id}"  # type: ignore[attr-defined]


def text_received(patient_id: uuid.UUID, intent: ev.SmsIntent) -> str:
    message_id = uuid.uuid4()
    execute(
        patient_id=patient_id,
        decide=lambda state: [
            ev.SmsReceived(
                message_id=message_id, from_number="+16175550134", body="...", intent=intent
            )
        ],
        actor=Actor.system("sms-webhook"),
    )
    return str(message_id)


def claim(client, suggestion_id: str, **headers):
    return client.post(f"{QUEUE}{suggestion_id}/claim/", {}, format="json", **headers)


# --- the queue -----------------------------------------------------------------------------


def test_the_queue_puts_a_crisis_first_then_the_most_overdue(agent, register):
    caller = register(first_name="Morgan")
    older = missed_call(caller, ago=dt.timedelta(hours=6))
    newer = missed_call(register(first_name="Riley"), ago=dt.timedelta(minutes=5))
    in_crisis = register(first_name="Casey")
    handlers.crisis_contact_record(
        patient_id=in_crisis,
        risk_level=ev.RiskLevel.HIGH,
        handoff=ev.CrisisHandoff.CLINICIAN,
        safety_plan=ev.SafetyPlan.CREATED,
        summary="Private words that stay in the record.",
        actor=DESK,
    )
    catch_up()

    body = agent.get(QUEUE).json()

    kinds = [item["kind"] for item in body["results"]]
    assert kinds[0] == "crisis_follow_up"
    callbacks = [item["suggestion_id"] for item in body["results"] if item["kind"] == "callback"]
    assert callbacks == [older, newer]
    crisis = body["results"][0]
    assert crisis["payload"]["crisis_line"] == "988"
    assert "Private words" not in crisis["reason"]
    assert crisis["evidence"][0]["event_type"] == "CrisisContactRecorded"


def test_the_queue_filters_by_kind_patient_status_and_assignee(agent, front_desk, register):
    first = register(first_name="Morgan")
    callback = missed_call(first)
    missed_call(register(first_name="Riley"))
    catch_up()

    by_patient = agent.get(QUEUE, {"patient": str(first), "kind": "callback"}).json()
    assert [i["suggestion_id"] for i in by_patient["results"]] == [callback]

    assert claim(agent, callback).status_code == 200
    catch_up()
    mine = agent.get(QUEUE, {"assignee": "agent.avery"}).json()
    assert [i["suggestion_id"] for i in mine["results"]] == [callback]
    claimed = front_desk.get(QUEUE, {"status": "claimed"}).json()
    assert [i["status"] for i in claimed["results"]] == ["claimed"]

    problem(agent.get(QUEUE, {"kind": "gossip"}), 400)
    problem(agent.get(QUEUE, {"colour": "red"}), 400)


# --- claims --------------------------------------------------------------------------------


def test_a_second_agent_is_told_who_holds_the_suggestion_even_before_the_queue_catches_up(
    agent, front_desk, register
):
    patient = register()
    callback = missed_call(patient)
    catch_up()

    first = claim(agent, callback)
    assert first.status_code == 200
    assert first.json()["claimed_by"] == "agent.avery"
    assert first["ETag"] == f'"{len(stream(patient))}"'

    # No catch-up in between: the refusal comes from the patient's stream itself.
    second = problem(claim(front_desk, callback), 409)
    assert second["claimed_by"] == "agent.avery"
    assert "agent.avery is working on this suggestion" in second["detail"]
    # The machine field in UTC like every other; the sentence on the clinic's clock, labelled.
    until = dt.datetime.fromisoformat(second["claimed_until"])
    assert second["claimed_until"].endswith("Z")
    assert timezone.now() < until <= timezone.now() + dt.timedelta(minutes=15)
    assert (
        f"until {moments.moment(until, moments.zone_named('America/New_York'))};"
        in (second["detail"])
    )


def test_an_expired_claim_lets_another_agent_take_the_suggestion(front_desk, register, monkeypatch):
    patient = register()
    callback = missed_call(patient, ago=dt.timedelta(hours=2))
    claimed_at = timezone.now() - dt.timedelta(minutes=20)
    suggestion_handlers.suggestion_claim(
        patient_id=patient,
        suggestion_id=callback,
        actor=Actor(name="agent.gone", channel="api"),
        now=claimed_at,
    )
    # The queue was last evaluated while the claim held; the re-evaluation job has not
    # run since.
    monkeypatch.setattr(PROJECTION, "clock", lambda: claimed_at)
    catch_up()
    assert Suggestion.objects.get(suggestion_id=callback).status == "claimed"

    queue = front_desk.get(QUEUE, {"patient": str(patient)}).json()["results"]
    row = next(r for r in queue if r["suggestion_id"] == callback)
    assert row["status"] == "open"  # the claim ran out, whatever the row last said

    response = claim(front_desk, callback)
    assert response.status_code == 200
    assert response.json()["claimed_by"] == "frontdesk.fran"


def test_claiming_again_with_a_stale_if_match_changes_nothing(agent, register):
    patient = register()
    callback = missed_call(patient)
    catch_up()

    body = problem(claim(agent, callback, HTTP_IF_MATCH='"1"'), 412)

    assert body["current_version"] == 2
    assert stream(patient)[-1] == "CallLogged"


def test_a_retried_claim_with_the_same_idempotency_key_records_once(agent, register):
    patient = register()
    callback = missed_call(patient)
    catch_up()

    first = claim(agent, callback, HTTP_IDEMPOTENCY_KEY="claim-1")
    again = claim(agent, callback, HTTP_IDEMPOTENCY_KEY="claim-1")

    assert first.json() == again.json()
    assert again["Idempotent-Replayed"] == "true"
    assert stream(patient).count("SuggestionClaimed") == 1


def test_an_unknown_suggestion_is_a_404_problem(agent):
    body = problem(claim(agent, "callback.00000000-0000-4000-8000-000000000000"), 404)

    assert "caught up" in body["detail"]


# --- completing, dismissing, snoozing ------------------------------------------------------


def test_completing_records_the_outcome_and_the_queue_shows_it_done(agent, register):
    patient = register()
    callback = missed_call(patient)
    catch_up()
    claim(agent, callback)

    response = agent.post(
        f"{QUEUE}{callback}/complete/", {"outcome": "Booked a refill visit"}, format="json"
    )

    assert response.status_code == 200
    assert [e["type"] for e in response.json()["events"]] == ["SuggestionCompleted"]
    catch_up()
    row = Suggestion.objects.get(suggestion_id=callback)
    assert (row.status, row.closed_by, row.outcome) == ("done", "agent", "Booked a refill visit")
    assert agent.get(QUEUE, {"patient": str(patient), "kind": "callback"}).json()["results"] == []


def test_nobody_else_may_complete_a_suggestion_someone_holds(agent, clinician, register):
    patient = register()
    callback = missed_call(patient)
    catch_up()
    claim(agent, callback)

    body = problem(
        clinician.post(f"{QUEUE}{callback}/complete/", {"outcome": "Called"}, format="json"), 409
    )

    assert body["claimed_by"] == "agent.avery"


def test_a_stop_request_reviewed_as_opted_out_withdraws_text_consent_in_the_same_command(
    supervisor, register
):
    patient = register()
    review = f"sms_stop_review.{text_received(patient, ev.SmsIntent.STOP_REQUEST)}.{patient}"
    catch_up()

    response = supervisor.post(
        f"{QUEUE}{review}/complete/",
        {"outcome": "opted_out", "consent_source": "verbal"},
        format="json",
    )

    assert response.status_code == 200
    assert [e["type"] for e in response.json()["events"]] == [
        "SuggestionCompleted",
        "ConsentRevoked",
    ]
    revoked = eventstore.read_stream(patient)[-1].event
    assert revoked.channel is ev.Channel.SMS and revoked.purpose is None  # type: ignore[attr-defined]
    assert revoked.source is ev.ConsentSource.VERBAL  # type: ignore[attr-defined]


def test_a_stop_review_takes_only_its_two_outcomes(agent, register):
    patient = register()
    review = f"sms_stop_review.{text_received(patient, ev.SmsIntent.STOP_REQUEST)}.{patient}"
    catch_up()

    body = problem(
        agent.post(f"{QUEUE}{review}/complete/", {"outcome": "Called"}, format="json"), 400
    )

    assert body["errors"] == {"outcome": ["must be one of: keeps_texts, opted_out."]}


def test_a_crisis_follow_up_cannot_be_dismissed_or_snoozed(agent, register):
    patient = register()
    crisis_id = uuid.uuid4()
    handlers.crisis_contact_record(
        patient_id=patient,
        risk_level=ev.RiskLevel.MODERATE,
        handoff=ev.CrisisHandoff.NONE,
        safety_plan=ev.SafetyPlan.REVIEWED,
        crisis_id=crisis_id,
        actor=DESK,
    )
    catch_up()
    follow_up = f"crisis_follow_up.{crisis_id}"

    dismissed = problem(
        agent.post(f"{QUEUE}{follow_up}/dismiss/", {"reason": "Busy"}, format="json"), 409
    )
    until = (timezone.now() + dt.timedelta(hours=3)).isoformat()
    snoozed = problem(
        agent.post(f"{QUEUE}{follow_up}/snooze/", {"until": until}, format="json"), 409
    )

    assert "cannot be dismissed" in dismissed["detail"]
    assert "never put off" in snoozed["detail"]


def test_dismissing_needs_a_reason_and_closes_the_suggestion(agent, register):
    patient = register()
    callback = missed_call(patient)
    catch_up()

    problem(agent.post(f"{QUEUE}{callback}/dismiss/", {}, format="json"), 400)
    response = agent.post(
        f"{QUEUE}{callback}/dismiss/", {"reason": "Wrong number dialled"}, format="json"
    )

    assert response.status_code == 200
    catch_up()
    row = Suggestion.objects.get(suggestion_id=callback)
    assert row.status == "dismissed" and "Wrong number dialled" in row.closed_reason


def test_a_dismissal_reason_typed_over_several_lines_reads_back_as_typed(agent, register):
    patient = register()
    callback = missed_call(patient)
    catch_up()
    reason = "Called back from another line:\n\tsaid C:\\ drive was fine, no follow-up"

    response = agent.post(f"{QUEUE}{callback}/dismiss/", {"reason": reason}, format="json")

    assert response.status_code == 200
    catch_up()
    shown = agent.get(QUEUE, {"patient": str(patient), "status": "dismissed"}).json()["results"]
    assert [s["closed_reason"] for s in shown] == [f"Dismissed by agent.avery: {reason}"]


def test_a_snoozed_suggestion_leaves_the_queue_until_the_time_given(agent, register):
    patient = register()
    callback = missed_call(patient)
    catch_up()
    until = (timezone.now() + dt.timedelta(hours=3)).replace(microsecond=0)

    response = agent.post(f"{QUEUE}{callback}/snooze/", {"until": until.isoformat()}, format="json")

    assert response.status_code == 200
    assert response.json()["until"] == until.isoformat().replace("+00:00", "Z")
    catch_up()
    assert agent.get(QUEUE, {"patient": str(patient), "kind": "callback"}).json()["results"] == []
    snoozed = agent.get(QUEUE, {"patient": str(patient), "status": "snoozed"}).json()["results"]
    assert [s["suggestion_id"] for s in snoozed] == [callback]

    past = (timezone.now() - dt.timedelta(hours=1)).isoformat()
    problem(agent.post(f"{QUEUE}{callback}/snooze/", {"until": past}, format="json"), 400)


# --- one patient, now and as of a past moment ----------------------------------------------


def test_a_patients_suggestions_can_be_replayed_as_of_a_past_moment(agent, register):
    patient = register()
    callback = missed_call(patient, ago=dt.timedelta(hours=2))
    before_contact = timezone.now()
    handlers.call_log(
        patient_id=patient,
        direction=ev.CallDirection.OUTBOUND,
        started_at=timezone.now() - dt.timedelta(minutes=1),
        duration_seconds=120,
        disposition=ev.CallDisposition.CONNECTED,
        actor=DESK,
    )
    catch_up()
    url = f"/api/v1/patients/{patient}/suggestions/"

    now_body = agent.get(url).json()
    then_body = agent.get(url, {"as_of": before_contact.isoformat()}).json()

    status_now = {s["suggestion_id"]: s["status"] for s in now_body["suggestions"]}
    status_then = {s["suggestion_id"]: s["status"] for s in then_body["suggestions"]}
    assert status_now[callback] == "done"
    assert status_then[callback] == "open"
    assert then_body["as_of"] is not None and now_body["as_of"] is None


def test_as_of_before_registration_is_a_404(agent, register):
    patient = register(occurred_at=timezone.now())

    problem(
        agent.get(
            f"/api/v1/patients/{patient}/suggestions/",
            {"as_of": (timezone.now() - dt.timedelta(days=1)).isoformat()},
        ),
        404,
    )


def test_the_screen_pop_shows_the_callers_open_suggestions(agent, register):
    patient = register()
    callback = missed_call(patient)
    catch_up()

    body = agent.get("/api/v1/patients/lookup", {"phone": "617-555-0134"}).json()

    pop = body["open_suggestions"]
    assert callback in [s["suggestion_id"] for s in pop]
    assert all(s["status"] in ("open", "claimed") for s in pop)
    assert "Missed call" in next(s for s in pop if s["suggestion_id"] == callback)["reason"]


def test_the_screen_pop_offers_exactly_what_the_queue_counts_as_actionable(register):
    # The screen pop's section and the queue read the one rule (selectors.with_status).
    patients = [register(first_name=name) for name in ("Ash", "Bo", "Cy", "Di")]
    claimed, snoozed, dismissed, untouched = (missed_call(p) for p in patients)
    catch_up()
    now = timezone.now()
    suggestion_handlers.suggestion_claim(
        patient_id=patients[0], suggestion_id=claimed, actor=DESK, now=now
    )
    suggestion_handlers.suggestion_snooze(
        patient_id=patients[1],
        suggestion_id=snoozed,
        until=now + dt.timedelta(hours=2),
        actor=DESK,
        now=now,
    )
    suggestion_handlers.suggestion_dismiss(
        patient_id=patients[2],
        suggestion_id=dismissed,
        reason="Spoke at the desk",
        actor=DESK,
        now=now,
    )
    catch_up()
    rows = Suggestion.objects.filter(patient_id__in=patients)

    shown = {}
    for moment in (now, now + dt.timedelta(hours=3)):  # the claim and the snooze have run out
        found = screens.open_suggestions(patients, moment)
        shown[moment] = {s["suggestion_id"] for docs in found.values() for s in docs}
        actionable = with_status(rows, ACTIONABLE, moment)
        assert shown[moment] == set(actionable.values_list("suggestion_id", flat=True))

    assert {claimed, untouched} <= shown[now] and not {snoozed, dismissed} & shown[now]
    later = shown[now + dt.timedelta(hours=3)]
    assert {claimed, snoozed, untouched} <= later and dismissed not in later


def test_the_queue_is_in_the_schema_with_its_headers_and_the_screen_pop_section(agent):
    schema = agent.get("/api/schema/", HTTP_ACCEPT="application/json").json()

    paths = schema["paths"]
    assert {
        "/api/v1/suggestions/",
        "/api/v1/suggestions/{suggestion_id}/claim/",
        "/api/v1/suggestions/{suggestion_id}/complete/",
        "/api/v1/suggestions/{suggestion_id}/dismiss/",
        "/api/v1/suggestions/{suggestion_id}/snooze/",
        "/api/v1/patients/{patient_id}/suggestions/",
    } <= set(paths)
    claim_op = paths["/api/v1/suggestions/{suggestion_id}/claim/"]["post"]
    headers = {p["name"] for p in claim_op["parameters"] if p["in"] == "header"}
    assert {"If-Match", "Idempotency-Key"} <= headers
    assert {"404", "409", "412", "422"} <= set(claim_op["responses"])
    lookup = schema["components"]["schemas"]["Lookup"]["properties"]
    assert lookup["open_suggestions"]["type"] == "array"


def test_a_filter_repeated_lists_the_same_as_comma_separated(agent, register):
    callback = missed_call(register(first_name="Morgan"))
    held = missed_call(register(first_name="Riley", phone="(617) 555-0135"))
    missed_call(register(first_name="Avery", phone="(617) 555-0136"))
    catch_up()
    assert claim(agent, held).status_code == 200
    suggestion_handlers.suggestion_dismiss(
        patient_id=Suggestion.objects.get(suggestion_id=callback).patient_id,
        suggestion_id=callback,
        reason="Called back from the front desk",
        actor=DESK,
    )
    catch_up()

    def listed(query: str) -> list[tuple[str, str]]:
        body = agent.get(f"{QUEUE}?{query}").json()
        return [(i["suggestion_id"], i["status"]) for i in body["results"]]

    repeated = listed("status=claimed&status=dismissed")
    assert repeated == listed("status=claimed,dismissed")
    assert sorted(status for _, status in repeated) == ["claimed", "dismissed"]
    assert listed("kind=callback&kind=crisis_follow_up&status=dismissed") == [
        (callback, "dismissed")
    ]


@pytest.mark.parametrize(
    ("query", "parameter"),
    [
        ("status=open&status=gone", "status"),  # one value of several is unknown
        ("status=", "status"),
        ("kind=callback,", "kind"),
        ("patient=not-an-id", "patient"),
        ("patient=", "patient"),
        ("assignee=agent.avery&assignee=frontdesk.fran", "assignee"),
        ("page_size=0", "page_size"),
        ("page_size=101", "page_size"),
        ("page_size=ten", "page_size"),
    ],
)
def test_a_filter_value_the_queue_cannot_apply_is_a_400_naming_it(agent, query, parameter):
    body = problem(agent.get(f"{QUEUE}?{query}"), 400)

    assert list(body["errors"]) == [parameter]


def test_the_queue_pages_by_cursor_up_to_its_largest_page(agent, register):
    for n in range(3):
        missed_call(register(first_name=f"Sam{n}", phone=f"(617) 555-01{n + 40}"))
    catch_up()

    first = agent.get(QUEUE, {"page_size": 2, "kind": "callback"}).json()
    second = agent.get(first["next"]).json()

    assert len(first["results"]) == 2 and first["previous"] is None
    assert len(second["results"]) == 1 and second["next"] is None
    back = agent.get(second["previous"]).json()
    assert back["results"] == first["results"]
