"""Hostile SMS webhooks, signed as Twilio signs them: each field we read is drawn from what
Twilio sends or from what it never would. Never a 5xx; a 200 for Twilio's values; otherwise
a short 400 naming only fields that were wrong, and nothing recorded, queued or sent."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from urllib.parse import quote_plus

import pytest
from django.http import QueryDict
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st
from twilio.request_validator import RequestValidator  # type: ignore[import-untyped]

from crm.models import CommandRecord, Event
from crm.projections import runner
from reminders.backends import locmem
from reminders.models import OutboundMessage
from reminders.webhooks import views
from tests.reminders.sms_webhook import (
    ACCOUNT_SID,
    AUTH_TOKEN,
    CLINIC_NUMBER,
    INBOUND,
    STATUS,
    dispatch_now,
)

pytestmark = pytest.mark.django_db

HEX = "0123456789abcdef"
# The statuses Twilio's Message resource documents; we take every one of them.
TWILIO_STATUSES = (
    "queued",
    "sending",
    "sent",
    "failed",
    "delivered",
    "undelivered",
    "receiving",
    "received",
    "accepted",
    "scheduled",
    "read",
    "partially_delivered",
    "canceled",
)
HOSTILE = settings(
    max_examples=50,
    deadline=None,
    derandomize=True,  # the same examples on every run and in CI
    database=None,
    suppress_health_check=[
        HealthCheck.function_scoped_fixture,  # one clinic per test; examples add to it
        HealthCheck.too_slow,
        HealthCheck.data_too_large,
        HealthCheck.large_base_example,
    ],
)


@dataclass
class Request:
    """A form as sent, and which fields we read were not what Twilio would send."""

    honest: bool  # every field we read as Twilio would send it
    pairs: list[tuple[str, str]] = field(default_factory=list)
    wrong: set[str] = field(default_factory=set)

    def add(self, name: str, values: list[str], *, twilio: bool) -> None:
        self.pairs += [(name, value) for value in values]
        if not twilio:
            self.wrong.add(name)


# --- values --------------------------------------------------------------------------------


def sid(prefix: str) -> st.SearchStrategy[str]:
    return st.text(HEX, min_size=32, max_size=32).map(lambda digits: prefix + digits)


# Wrong for every field we read, whatever its form: control characters (NUL among them),
# lone surrogates, NUL inside anything, runs too long for any column, huge numbers.
garbage = st.one_of(
    st.text(st.characters(categories=["Cc"]), min_size=1, max_size=5),
    st.text(st.characters(categories=["Cs"]), min_size=1, max_size=3),
    st.tuples(st.text(max_size=20), st.text(max_size=20)).map(lambda p: p[0] + "\x00" + p[1]),
    st.builds(lambda n, c: c * n, st.integers(41, 5000), st.sampled_from(["9", "a", "SM", "+1"])),
    st.integers(10**40, 10**400).map(str),
)
anything = st.one_of(garbage, st.text(max_size=50))
wrong_sids = st.one_of(
    garbage,
    st.just(""),
    sid("SM").map(lambda s: s[:-1]),
    sid("SM").map(lambda s: s + "0"),
    sid("sm"),
    sid("S1"),
    sid("SM").map(lambda s: " " + s),
    st.just("SM" + "g" * 32),
)
phones = st.integers(100, 199).map(lambda n: f"+1617555{n:04d}")  # 555-0100 to 555-0199
wrong_phones = st.one_of(garbage, st.sampled_from(["", "not a phone", "+1 617 555", "+0"]))
# A Body is free text: control characters are kept, NUL dropped, a lone surrogate read back
# as U+FFFD; only its length can be wrong.
bodies = st.one_of(
    st.text(st.characters(exclude_categories=["Cs"]), max_size=200),
    st.sampled_from(["STOP", "C", "HELP", "R", "5", "stop texting me", "\x00C\x00"]),
    st.just(("Running late, sorry! " * 80)[:1600]),  # the longest Twilio delivers
    garbage.filter(lambda body: len(body.replace("\x00", "")) <= 1600),
)
too_long_bodies = st.one_of(
    st.integers(1601, 3000).map(lambda n: "x" * n),
    garbage.filter(lambda body: len(body.replace("\x00", "")) > 1600),
)
error_codes = st.integers(0, 99999).map(str)
wrong_error_codes = st.one_of(
    garbage,
    st.integers(100000, 10**30).map(str),
    st.sampled_from(["-1", "3e4", "30003.0", " 30003", "\uff13\uff10\uff10\uff10\uff13"]),
)
wrong_statuses = st.one_of(
    garbage,
    st.sampled_from(["", "Delivered", "DELIVERED", " sent", "sent ", "teleported", "read\n"]),
)


def pick(
    draw: st.DrawFn,
    request: Request,
    name: str,
    good: st.SearchStrategy[str],
    bad: st.SearchStrategy[str],
    *,
    optional: bool = False,
) -> str:
    """Draw the field's value(s): absent, Twilio's, not Twilio's, or given twice; only
    Twilio's (or absent, when Twilio may leave it out) for an honest request."""
    kinds = ["good", "absent"] if request.honest and optional else ["good"]
    if not request.honest:
        kinds = ["good", "good", "bad", "bad", "twice", "absent"]
    kind = draw(st.sampled_from(kinds))
    if kind == "absent":
        request.add(name, [], twilio=optional)
        return ""
    if kind == "twice":
        request.add(name, [draw(good), draw(good)], twilio=False)
        return ""
    value = draw(good if kind == "good" else bad)
    request.add(name, [value], twilio=kind == "good")
    return value


def common(draw: st.DrawFn, request: Request, sids: st.SearchStrategy[str]) -> None:
    message_sid = pick(draw, request, "MessageSid", sids, wrong_sids)
    twin = st.just(message_sid) if message_sid else sids
    pick(draw, request, "SmsSid", twin, st.one_of(garbage, sid("SM")), optional=True)
    accounts = st.one_of(garbage, sid("AC"))  # another account's id is no better
    pick(draw, request, "AccountSid", st.just(ACCOUNT_SID), accounts, optional=True)
    # Fields we do not read: whatever they hold, they decide nothing.
    request.add("To", [draw(anything)], twilio=True)
    request.add("NumMedia", [draw(anything)], twilio=True)
    request.add("ParameterTwilioAddsLater", [draw(anything)], twilio=True)


@st.composite
def inbound_texts(draw: st.DrawFn) -> Request:
    request = Request(honest=draw(st.booleans()))
    common(draw, request, st.one_of(sid("SM"), sid("MM")))
    pick(draw, request, "From", phones, wrong_phones)
    pick(draw, request, "Body", bodies, too_long_bodies, optional=True)
    return request


@st.composite
def status_reports(draw: st.DrawFn, message_sid: str) -> Request:
    request = Request(honest=draw(st.booleans()))
    common(draw, request, st.one_of(st.just(message_sid), sid("SM")))
    pick(draw, request, "MessageStatus", st.sampled_from(TWILIO_STATUSES), wrong_statuses)
    pick(draw, request, "ErrorCode", error_codes, wrong_error_codes, optional=True)
    return request


# --- sending, as Twilio would sign it -------------------------------------------------------


def send(client, path: str, request: Request):
    # Lone surrogates go out as the bytes a careless encoder writes; the form is signed as
    # the server will read it back, as Twilio signs what it sends.
    body = "&".join(
        f"{quote_plus(name)}={quote_plus(value.encode('utf-8', 'surrogatepass'))}"
        for name, value in request.pairs
    )
    signature = RequestValidator(AUTH_TOKEN).compute_signature(
        f"http://testserver{path}", QueryDict(body)
    )
    return client.post(
        path,
        body,
        content_type="application/x-www-form-urlencoded",
        HTTP_X_TWILIO_SIGNATURE=signature,
    )


def holdings() -> tuple[int, int, int, int]:
    return (
        Event.objects.count(),
        CommandRecord.objects.count(),
        OutboundMessage.objects.count(),
        len(locmem.outbox),
    )


def answered_as_twilio_expects(client, path: str, request: Request) -> None:
    before = holdings()

    response = send(client, path, request)
    event(f"answered {response.status_code}")  # --hypothesis-show-statistics shows the mix

    assert response.status_code < 500, response.content
    if request.wrong:
        assert response.status_code == 400, (request.wrong, response.content)
        assert len(response.content) < 1000
        named = set(response.json()["errors"])
        assert named and named <= request.wrong, (named, request.wrong)
        assert holdings() == before
    else:
        assert response.status_code == 200, response.content
        if path == INBOUND:  # the text is on record, on a patient's or the number's stream
            sid = dict(request.pairs)["MessageSid"]
            texts = Event.objects.filter(event_type="SmsReceived")
            assert texts.filter(data__provider_message_id=sid).exists()
        # What was taken can be projected: no reader stops on it.
        for name in ("reminders", "sms_numbers"):
            runner.catch_up(runner.registered()[name])


# --- the two webhooks -----------------------------------------------------------------------


@pytest.fixture(autouse=True)
def _twilio(settings, monkeypatch, now):
    settings.TWILIO_AUTH_TOKEN = AUTH_TOKEN
    settings.TWILIO_ACCOUNT_SID = ACCOUNT_SID
    settings.TWILIO_WEBHOOK_BASE_URL = ""
    settings.CLINIC_PHONE = CLINIC_NUMBER
    monkeypatch.setattr(views, "clock", lambda: now + dt.timedelta(days=1, hours=3))


@pytest.fixture
def rowan_reminded(clinic, now):
    """Rowan got the reminder for Thursday's visit; Twilio reports on it."""
    patient = clinic.patient(phone="(617) 555-0134", first_name="Rowan")
    clinic.book(patient, now + dt.timedelta(days=2))
    dispatch_now(now + dt.timedelta(days=1, hours=2))
    return patient, OutboundMessage.objects.get(patient_id=patient, kind="reminder")


@HOSTILE
@given(data=st.data())
def test_any_inbound_text_gets_a_200_or_a_short_400_and_a_refused_one_leaves_no_trace(
    client, rowan_reminded, data
):
    request = data.draw(inbound_texts())

    answered_as_twilio_expects(client, INBOUND, request)


@HOSTILE
@given(data=st.data())
def test_any_status_report_gets_a_200_or_a_short_400_and_a_refused_one_leaves_no_trace(
    client, rowan_reminded, data
):
    _, message = rowan_reminded
    request = data.draw(status_reports(message.provider_message_id))

    answered_as_twilio_expects(client, STATUS, request)
