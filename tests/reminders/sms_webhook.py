"""A phone that texts the clinic: signed Twilio webhooks, as Twilio would post them."""

from __future__ import annotations

import datetime as dt
import itertools
import uuid
from typing import Any
from urllib.parse import urlencode

from django.test import Client
from twilio.request_validator import RequestValidator  # type: ignore[import-untyped]

from crm import eventstore
from crm.domain import events as ev
from crm.domain.recorded import RecordedEvent
from crm.eventstore.fingerprints import fingerprint
from crm.handlers import Actor
from reminders.backends import locmem
from reminders.dispatch import dispatch_due
from reminders.dispatch.outcomes import Report
from reminders.domain.numbers import number_stream_id
from reminders.handlers.inbound import record
from reminders.models import OutboundMessage

AUTH_TOKEN = "test-twilio-auth-token-0123456789"
ACCOUNT_SID = "AC" + "0" * 32
CLINIC_NUMBER = "+16175550100"
INBOUND = "/webhooks/sms/inbound/"
STATUS = "/webhooks/sms/status/"
_sids = itertools.count(1)


def new_sid(prefix: str = "SM") -> str:
    return f"{prefix}{next(_sids):032x}"


def sign(url: str, form: dict[str, str], token: str = AUTH_TOKEN) -> str:
    signature: str = RequestValidator(token).compute_signature(url, form)
    return signature


def post(
    client: Client,
    path: str,
    form: dict[str, str],
    *,
    signature: str | None = "valid",
    host: str = "testserver",
) -> Any:
    headers: dict[str, Any] = {}
    if signature == "valid":
        headers["HTTP_X_TWILIO_SIGNATURE"] = sign(f"http://{host}{path}", form)
    elif signature is not None:
        headers["HTTP_X_TWILIO_SIGNATURE"] = signature
    return client.post(
        path,
        urlencode(form),
        content_type="application/x-www-form-urlencoded",
        HTTP_HOST=host,
        **headers,
    )


class Phone:
    """A patient's phone: texts the clinic and reads what came back."""

    def __init__(self, client: Client, number: str) -> None:
        self.client = client
        self.number = number  # E.164
        self.sent: list[str] = []  # the MessageSids of what this phone texted, in order

    def text(self, body: str, *, sid: str | None = None) -> Any:
        form = {
            "AccountSid": ACCOUNT_SID,
            "MessageSid": sid or new_sid(),
            "From": self.number,
            "To": CLINIC_NUMBER,
            "Body": body,
            "NumMedia": "0",
        }
        response = post(self.client, INBOUND, form)
        assert response.status_code == 200, response.content
        self.sent.append(form["MessageSid"])
        return response

    def replies(self) -> list[OutboundMessage]:
        """What the clinic queued back to this phone (keyword replies), in the order of
        the texts they answer."""
        replies = OutboundMessage.objects.filter(to=self.number, kind__in=_REPLY_KINDS)
        return sorted(replies, key=lambda reply: self.sent.index(reply.in_reply_to))

    def received(self) -> list[str]:
        """What the SMS backend handed over to this phone."""
        return [sent.body for sent in locmem.outbox if sent.to == self.number]


_REPLY_KINDS = ("opt_out_confirmation", "opt_in_confirmation", "help")


def stream(stream_id: uuid.UUID) -> list[RecordedEvent]:
    return eventstore.read_stream(stream_id)


def events_of(stream_id: uuid.UUID, kind: type[ev.DomainEvent]) -> list[Any]:
    return [r.event for r in stream(stream_id) if isinstance(r.event, kind)]


def number_events(phone: str) -> list[ev.DomainEvent]:
    return [r.event for r in stream(number_stream_id(phone))]


def dispatch_now(now: dt.datetime) -> Report:
    return dispatch_due(now=now)


def resolve_stop_review(patient_id: uuid.UUID, *, dismissed: bool, at: dt.datetime) -> None:
    """An agent closes the patient's sms_stop_review suggestion, as engagement records it."""
    closing: ev.DomainEvent
    if dismissed:
        closing = ev.SuggestionDismissed(
            suggestion_id="sms_stop_review-test",
            kind="sms_stop_review",
            reason="Patient meant another clinic",
            agent="agent.kim",
        )
    else:
        closing = ev.SuggestionCompleted(
            suggestion_id="sms_stop_review-test",
            kind="sms_stop_review",
            outcome="keep_texting",
            agent="agent.kim",
        )
    record(
        stream_id=patient_id,
        decide=lambda events, state: [closing],
        occurred_at=at,
        idempotency_key=f"test-review:{patient_id}:{at.isoformat()}",
        fingerprint=fingerprint("test_review", {"closing": closing.event_type}),
        actor=Actor(name="agent.kim", channel="api", role="agent"),
    )
