"""Twilio Voice as the clinic's webhooks see it: the form posts of one call (a call comes in,
its status callbacks, the queue's action), signed with RequestValidator's algorithm."""

from __future__ import annotations

import itertools
import xml.etree.ElementTree as ET
from typing import Any
from urllib.parse import urlencode

from twilio.request_validator import RequestValidator  # type: ignore[import-untyped]

AUTH_TOKEN = "test-twilio-auth-token-0123456789"
ACCOUNT_SID = "AC" + "0" * 31 + "1"
CLINIC_NUMBER = "+16175550100"
INCOMING = "/webhooks/voice/incoming/"
STATUS = "/webhooks/voice/status/"
QUEUE_SID = "QU" + "0" * 31 + "7"
_sids = itertools.count(1)


def new_call_sid() -> str:
    return f"CA{next(_sids):032x}"


def sign(url: str, form: dict[str, str], token: str = AUTH_TOKEN) -> str:
    signature: str = RequestValidator(token).compute_signature(url, form)
    return signature


class Twilio:
    """Posts as Twilio does: form-encoded, X-Twilio-Signature over the full URL and the form.
    `send(path, form, headers)` is the transport: Django's test client, or real HTTP."""

    def __init__(self, client: Any, *, host: str = "testserver") -> None:
        self.client = client
        self.host = host

    def post(self, path: str, form: dict[str, str], *, signature: str | None = "valid") -> Any:
        headers: dict[str, Any] = {}
        if signature == "valid":
            headers["HTTP_X_TWILIO_SIGNATURE"] = sign(f"http://{self.host}{path}", form)
        elif signature is not None:
            headers["HTTP_X_TWILIO_SIGNATURE"] = signature
        return self.client.post(
            path,
            urlencode(form),
            content_type="application/x-www-form-urlencoded",
            HTTP_HOST=self.host,
            **headers,
        )

    def call(self, caller: str, *, sid: str | None = None) -> Call:
        return Call(self, caller, sid or new_call_sid())


class Call:
    """One inbound call to the clinic's number, and what Twilio posts about it."""

    def __init__(self, twilio: Twilio, caller: str, sid: str) -> None:
        self.twilio = twilio
        self.caller = caller
        self.sid = sid
        self.sequence = itertools.count(0)

    def form(self, status: str, **extra: str) -> dict[str, str]:
        return {
            "CallSid": self.sid,
            "AccountSid": ACCOUNT_SID,
            "From": self.caller,
            "To": CLINIC_NUMBER,
            "Caller": self.caller,
            "Called": CLINIC_NUMBER,
            "CallStatus": status,
            "Direction": "inbound",
            "ApiVersion": "2010-04-01",
            "CallerCountry": "US",
            **extra,
        }

    def ring(self) -> Any:
        """The incoming webhook: Twilio waits for our TwiML."""
        return self.twilio.post(INCOMING, self.form("ringing"))

    def left_queue(self, result: str, queue_seconds: int, *, status: str = "in-progress") -> Any:
        """The <Enqueue> action callback: why the call left the queue, and after how long."""
        form = self.form(
            status, QueueResult=result, QueueSid=QUEUE_SID, QueueTime=str(queue_seconds)
        )
        return self.twilio.post(STATUS, form)

    def status(self, status: str, *, duration: int | None = None, **extra: str) -> Any:
        """A status callback of the number's "call status changes" URL."""
        form = self.form(
            status,
            CallbackSource="call-progress-events",
            SequenceNumber=str(next(self.sequence)),
            Timestamp="Tue, 03 Nov 2026 14:05:00 +0000",
            **extra,
        )
        if duration is not None:
            form["CallDuration"] = str(duration)
        return self.twilio.post(STATUS, form)

    def answered(self, *, queue_seconds: int = 30, talk_seconds: int = 240) -> None:
        """Waited, an agent dequeued it, they talked, both hung up."""
        assert self.ring().status_code == 200
        assert self.left_queue("bridged", queue_seconds).status_code == 200
        assert self.status("completed", duration=queue_seconds + talk_seconds).status_code == 200

    def abandoned(self, *, queue_seconds: int = 45) -> None:
        """The caller hung up while waiting."""
        assert self.ring().status_code == 200
        assert self.left_queue("hangup", queue_seconds, status="completed").status_code == 200
        assert self.status("completed", duration=queue_seconds + 2).status_code == 200


def twiml(response: Any) -> ET.Element:
    """The TwiML document of a response, parsed (a malformed one fails the test)."""
    assert response["Content-Type"].startswith("text/xml")
    root = ET.fromstring(response.content)
    assert root.tag == "Response"
    return root
