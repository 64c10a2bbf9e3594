"""GET /api/v1/metrics/: the supervisor dashboard's figures for reporting tools."""

from __future__ import annotations

import datetime as dt
import uuid
import zoneinfo

import pytest

from crm import handlers
from crm.api.views.metrics import FiguresSerializer
from crm.domain import events as ev
from crm.handlers import Actor
from crm.models import AccessLogEntry
from crm.projections import runner
from crm.selectors.metrics import Figures
from tests.api.conftest import problem

pytestmark = pytest.mark.django_db

METRICS = "/api/v1/metrics/"
CLINIC = zoneinfo.ZoneInfo("America/New_York")
WEEK = {"from": "2025-03-03", "to": "2025-03-09"}
AGENT = Actor(name="agent.cedar", channel="api", role="agent")


@pytest.fixture
def busy_week(patient):  # type: ignore[no-untyped-def]
    """Mon-Sun Mar 3-9 2025: billing twice (a repeat), a chat, and an abandoned call."""

    def call(day: int, hour: int, **values) -> None:
        handlers.call_log(
            patient_id=patient,
            direction=ev.CallDirection.INBOUND,
            started_at=dt.datetime(2025, 3, day, hour, tzinfo=CLINIC),
            duration_seconds=values.pop("seconds", 300),
            disposition=values.pop("disposition", ev.CallDisposition.CONNECTED),
            actor=AGENT,
            **values,
        )

    call(3, 9, reason_code="billing", resolved_first_contact=True, wrap_up_seconds=60)
    call(5, 9, reason_code="billing", resolved_first_contact=True, wrap_up_seconds=60)
    call(4, 14, reason_code="directions", resolved_first_contact=True, channel=ev.Channel.CHAT)
    call(6, 11, seconds=45, disposition=ev.CallDisposition.ABANDONED)
    runner.catch_up_all()
    return patient


def test_a_supervisor_gets_the_weeks_figures_day_by_day(supervisor, busy_week):
    response = supervisor.get(METRICS, WEEK)

    assert response.status_code == 200
    body = response.json()
    assert (body["from"], body["to"], body["bucket"]) == ("2025-03-03", "2025-03-09", "day")
    total = body["total"]
    assert total["calls"] == 4
    assert total["calls_by_channel"] == {"voice": 3, "chat": 1}
    assert total["abandoned"] == 1 and total["abandonment_rate"] == 0.25  # of 4 inbound
    # 3 handled contacts: 2 x (300 + 60 wrap-up) + 300.
    assert total["average_handle_seconds"] == pytest.approx(1020 / 3)
    # The billing question came back within a week; parking did not.
    assert (total["first_contacts"], total["resolved_first_contact"]) == (2, 1)
    assert total["no_show_rate"] is None  # no visit closed: nothing to measure, not 0
    assert [p["start"] for p in body["periods"]][:2] == ["2025-03-03", "2025-03-04"]
    assert [p["calls"] for p in body["periods"]] == [1, 1, 1, 1, 0, 0, 0]
    assert body["thresholds"] == {"fcr_repeat_days": 7, "short_abandon_seconds": 5}


def test_the_thresholds_can_be_tried_per_request(supervisor, busy_week):
    body = supervisor.get(METRICS, {**WEEK, "fcr_repeat_days": "1"}).json()

    # With a one-day window the billing call two days later is a new issue.
    assert (body["total"]["first_contacts"], body["total"]["resolved_first_contact"]) == (3, 3)
    assert body["thresholds"]["fcr_repeat_days"] == 1


def test_a_long_range_comes_week_by_week(supervisor, busy_week):
    body = supervisor.get(METRICS, {"from": "2025-01-01", "to": "2025-06-30"}).json()

    assert body["bucket"] == "week"
    assert sum(p["calls"] for p in body["periods"]) == body["total"]["calls"] == 4


def test_reminder_confirmations_and_opt_outs_are_counted(supervisor, patient, register):
    jules = register(first_name="Jules", phone="(617) 555-0177")
    visit = _booked(patient, dt.datetime(2025, 3, 7, 10, tzinfo=CLINIC))
    _booked(jules, dt.datetime(2025, 3, 7, 11, tzinfo=CLINIC))
    _reminder_texted(patient, dt.datetime(2025, 3, 4, 10, tzinfo=CLINIC))
    _reminder_texted(jules, dt.datetime(2025, 3, 4, 11, tzinfo=CLINIC))
    handlers.appointment_confirm(
        patient_id=patient,
        appointment_id=visit,
        via=ev.Channel.SMS,
        actor=Actor.system("sms"),
        now=dt.datetime(2025, 3, 4, 12, tzinfo=CLINIC),
        occurred_at=dt.datetime(2025, 3, 4, 12, tzinfo=CLINIC),
    )
    handlers.consent_revoke(
        patient_id=jules,
        channel=ev.Channel.SMS,
        purpose=None,
        source=ev.ConsentSource.SMS_KEYWORD,
        actor=Actor.system("sms"),
        occurred_at=dt.datetime(2025, 3, 4, 13, tzinfo=CLINIC),
    )
    runner.catch_up_all()

    total = supervisor.get(METRICS, WEEK).json()["total"]

    assert (total["reminders_sent"], total["reminded_appointments"]) == (2, 2)
    assert total["confirmed_by_text"] == 1 and total["reminder_confirmation_rate"] == 0.5
    assert total["opt_outs"] == 1 and total["opt_out_rate"] == 0.5


def test_only_supervisors_may_read_the_figures(agent, front_desk, clinician, busy_week):
    for client in (agent, front_desk, clinician):
        body = problem(client.get(METRICS, WEEK), 403)
        assert "supervisors" in body["detail"]


def test_reading_the_figures_touches_no_patient_so_the_audit_stays_quiet(supervisor, busy_week):
    supervisor.get(METRICS, WEEK)

    assert not AccessLogEntry.objects.exists()


@pytest.mark.parametrize(
    ("query", "field", "says"),
    [
        ({"to": "2025-03-09"}, "from", "required"),
        ({"from": "2025-03-03"}, "to", "required"),
        ({"from": "March 3", "to": "2025-03-09"}, "from", "YYYY-MM-DD"),
        ({"from": "2025-03-09", "to": "2025-03-03"}, "to", "before from"),
        ({"from": "2024-01-01", "to": "2025-03-03"}, "to", "366 days"),
        ({**WEEK, "fcr_repeat_days": "0"}, "fcr_repeat_days", "greater than or equal to 1"),
        ({**WEEK, "short_abandon_seconds": "soon"}, "short_abandon_seconds", "valid integer"),
        ({**WEEK, "channel": "voice"}, "channel", "not a parameter"),
    ],
)
def test_a_bad_range_is_a_400_naming_the_parameter(supervisor, db, query, field, says):
    body = problem(supervisor.get(METRICS, query), 400)

    assert list(body["errors"]) == [field]
    assert says in " ".join(body["errors"][field])


def test_other_apps_sections_come_back_under_their_keys(supervisor, db):
    body = supervisor.get(METRICS, WEEK).json()

    for key, section in body["sections"].items():
        assert section["title"] and isinstance(section["columns"], list), key
        assert all(len(row) == len(section["columns"]) for row in section["rows"]), key


def test_the_documented_figures_are_exactly_the_ones_sent():
    counted = Figures(start=dt.date(2025, 3, 3), end=dt.date(2025, 3, 3)).as_dict()

    assert set(FiguresSerializer().fields) == set(counted)


def test_the_endpoint_is_in_the_schema_with_its_parameters(supervisor):
    schema = supervisor.get("/api/schema/", HTTP_ACCEPT="application/json").json()

    operation = schema["paths"]["/api/v1/metrics/"]["get"]
    names = {
        p["name"]: p.get("required", False) for p in operation["parameters"] if p["in"] == "query"
    }
    assert names["from"] is True and names["to"] is True
    assert {"fcr_repeat_days", "short_abandon_seconds"} <= set(names)
    assert {"200", "400", "401", "403"} <= set(operation["responses"])


def _booked(patient_id: uuid.UUID, starts_at: dt.datetime) -> uuid.UUID:
    appointment_id = uuid.uuid4()
    handlers.appointment_schedule(
        patient_id=patient_id,
        appointment_id=appointment_id,
        appointment_type=ev.AppointmentType.FOLLOW_UP,
        starts_at=starts_at,
        provider="Dr. Priya Fernhurst",
        location="Main Street Clinic",
        actor=AGENT,
        now=starts_at - dt.timedelta(days=10),
        occurred_at=starts_at - dt.timedelta(days=10),
    )
    return appointment_id


def _reminder_texted(patient_id: uuid.UUID, at: dt.datetime) -> None:
    """What the reminder dispatcher records once the SMS provider took the text."""
    from crm.handlers.base import execute

    execute(
        patient_id=patient_id,
        decide=lambda state: [
            ev.SmsSent(
                message_id=uuid.uuid4(),
                to=state.phone or "",
                body="Reminder: your visit on Friday. Reply C to confirm.",
                purpose=ev.ConsentPurpose.APPOINTMENT_REMINDERS,
                reminder_id=uuid.uuid4(),
            )
        ],
        actor=Actor.system("reminders"),
        occurred_at=at,
    )


def test_every_rate_states_its_numerator_and_denominator(supervisor, busy_week):
    body = supervisor.get(METRICS, WEEK).json()

    definitions, total = body["definitions"], body["total"]
    rates = [name for name, value in total.items() if name.endswith(("_rate", "_average"))]
    assert set(rates) | {"average_handle_seconds"} == set(definitions)
    for name, rate in definitions.items():
        part, whole = total[rate["numerator"]], total[rate["denominator"]]
        assert total[name] == (pytest.approx(part / whole) if whole else None), name
        assert rate["caption"] and rate["title"], name
    fcr = definitions["fcr_rate"]
    assert (fcr["numerator"], fcr["denominator"]) == ("resolved_first_contact", "first_contacts")
    assert "marked resolved" in fcr["caption"] and "within 7 days" in fcr["caption"]
    abandonment = definitions["abandonment_rate"]
    assert (abandonment["numerator"], abandonment["denominator"]) == ("abandoned", "queued")
    assert "missed" in abandonment["caption"] and "under 5 s" in abandonment["caption"]


def test_the_agents_answer_and_repeats_are_both_reported(supervisor, patient):
    def call(day: int, reason_code: str, *, resolved: bool) -> None:
        handlers.call_log(
            patient_id=patient,
            direction=ev.CallDirection.INBOUND,
            started_at=dt.datetime(2025, 3, day, 9, tzinfo=CLINIC),
            duration_seconds=200,
            disposition=ev.CallDisposition.CONNECTED,
            reason_code=reason_code,
            resolved_first_contact=resolved,
            actor=AGENT,
        )

    call(3, "refill", resolved=False)  # the agent said something was left open
    call(4, "billing", resolved=True)
    call(6, "billing", resolved=True)  # ...but the patient came back about the bill
    call(5, "directions", resolved=True)
    runner.catch_up_all()

    total = supervisor.get(METRICS, WEEK).json()["total"]

    assert (total["first_contacts"], total["resolved_first_contact"]) == (3, 1)
    assert (total["marked_unresolved"], total["contacted_again"]) == (1, 1)
    assert total["fcr_rate"] == pytest.approx(1 / 3)
