"""A whole call against a running server over HTTP, as Twilio makes it: signed form posts to
the public URL, TwiML back, the call logged once at its end."""

from __future__ import annotations

import urllib.error
import urllib.request
import xml.etree.ElementTree as ET
from typing import Any
from urllib.parse import urlencode

import pytest

from crm.models import LiveCall
from tests.voice.conftest import logged_calls
from tests.voice.twilio_voice import Call, Twilio, sign

ROWAN = "+16175550134"

# The server commits, so the log is emptied at the end.
pytestmark = pytest.mark.usefixtures("_empty_append_only_tables")


class OverHttp:
    """Twilio's side of the wire: what Django's test client does in Twilio, over a socket."""

    def __init__(self, base_url: str) -> None:
        self.base_url = base_url

    def post(self, path: str, data: str, **headers: Any) -> tuple[int, bytes, str]:
        url = self.base_url + path
        request = urllib.request.Request(url, data=data.encode(), method="POST")
        request.add_header("Content-Type", "application/x-www-form-urlencoded")
        for name, value in headers.items():
            request.add_header(name, value)
        try:
            with urllib.request.urlopen(request, timeout=30) as response:
                return response.status, response.read(), response.headers["Content-Type"]
        except urllib.error.HTTPError as error:
            return error.code, error.read(), error.headers["Content-Type"]


def _post(server: OverHttp, path: str, form: dict[str, str]) -> tuple[int, bytes, str]:
    signature = sign(server.base_url + path, form)
    return server.post(path, urlencode(form), **{"X-Twilio-Signature": signature})


@pytest.mark.django_db(transaction=True)
def test_a_call_over_http_is_queued_and_logged_once(live_server, register):
    patient = register()
    server = OverHttp(live_server.url)
    call = Call(Twilio(None), ROWAN, "CA" + "5" * 32)

    status, body, media = _post(server, "/webhooks/voice/incoming/", call.form("ringing"))
    assert status == 200 and media.startswith("text/xml")
    (enqueue,) = list(ET.fromstring(body))
    assert enqueue.tag == "Enqueue"
    action = enqueue.get("action")
    assert action == live_server.url + "/webhooks/voice/status/"

    # Twilio posts the queue's result to the action URL it was given, and the status.
    queue_form = call.form(
        "completed", QueueResult="bridged", QueueTime="12", QueueSid="QU" + "1" * 32
    )
    status_form = call.form("completed", CallDuration="132", SequenceNumber="0")
    for form in (status_form, queue_form, status_form):
        assert _post(server, "/webhooks/voice/status/", form)[0] == 200
    forged = server.post("/webhooks/voice/status/", urlencode(status_form))

    assert forged[0] == 403
    (logged,) = logged_calls(patient)
    assert (logged.duration_seconds, logged.queue_seconds) == (120, 12)
    assert LiveCall.objects.get(call_sid=call.sid).state == "ended"
