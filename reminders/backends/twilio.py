"""Twilio Programmable Messaging over its REST API, with one kept-alive connection."""

from __future__ import annotations

import base64
import datetime as dt
import email.utils
import http.client
import json
import re
import urllib.parse
from typing import Any

from django.conf import settings

from reminders.backends.base import BaseSmsBackend, Sms, SmsError, SmsOutcomeUnknown

# Twilio error codes that sending again cannot fix.
PERMANENT_CODES = {
    "21211": "invalid 'To' number",
    "21408": "no permission to send to this region",
    "21610": "the recipient is unsubscribed at the carrier",
    "21612": "the number cannot be reached by this route",
    "21614": "the number is not a mobile number",
    "21635": "the number cannot receive texts",
}
_ERROR_CODE = re.compile(r"[0-9]{1,5}")  # Twilio's error codes: 21211, 20429...
MESSAGE_LIMIT = 500
LIST_PAGE_SIZE = 100
LIST_PAGE_LIMIT = 10


class TwilioBackend(BaseSmsBackend):
    """POST /2010-04-01/Accounts/{AccountSid}/Messages.json hands a text over; the list
    endpoint (GET Messages.json?To=) tells a restarted worker whether a text it may have sent
    is there. TWILIO_API_BASE_URL points tests and the benchmark at a local server."""

    def __init__(self) -> None:
        url = urllib.parse.urlsplit(settings.TWILIO_API_BASE_URL)
        self.https = url.scheme == "https"
        self.host = url.hostname or "api.twilio.com"
        self.port = url.port or (443 if self.https else 80)
        self.prefix = url.path.rstrip("/")
        self.account = settings.TWILIO_ACCOUNT_SID
        token = f"{self.account}:{settings.TWILIO_AUTH_TOKEN}".encode()
        self.auth = "Basic " + base64.b64encode(token).decode()
        self.timeout = settings.TWILIO_TIMEOUT_SECONDS
        self._connection: http.client.HTTPConnection | None = None

    @property
    def messages_path(self) -> str:
        return f"{self.prefix}/2010-04-01/Accounts/{self.account}/Messages.json"

    def send(self, sms: Sms) -> str:
        form: dict[str, str] = {"To": sms.to, "Body": sms.body}
        if settings.TWILIO_MESSAGING_SERVICE_SID:
            form["MessagingServiceSid"] = settings.TWILIO_MESSAGING_SERVICE_SID
        else:
            form["From"] = settings.TWILIO_FROM_NUMBER
        if settings.TWILIO_STATUS_CALLBACK_URL:
            form["StatusCallback"] = settings.TWILIO_STATUS_CALLBACK_URL
        status, payload = self._request("POST", self.messages_path, form, sent_once=True)
        if status in (200, 201):
            return str(payload["sid"])
        raise _error(status, payload)

    def find_sent(self, *, to: str, body: str, since: dt.datetime) -> str | None:
        # Filter on To only: a text Twilio still holds in its queue has no date_sent yet,
        # so a DateSent filter could hide exactly the text we are looking for. The list is
        # newest first; stop at the first page that reaches back past `since`.
        query = urllib.parse.urlencode({"To": to, "PageSize": LIST_PAGE_SIZE})
        path = f"{self.messages_path}?{query}"
        for _page in range(LIST_PAGE_LIMIT):
            status, payload = self._request("GET", path, None, sent_once=False)
            if status != 200:
                raise SmsOutcomeUnknown(f"Twilio answered {status} to the message list")
            older = False
            for message in payload.get("messages", []):
                created = email.utils.parsedate_to_datetime(message["date_created"])
                if created < since:
                    older = True
                    continue
                if message.get("body") == body and message.get("to") == to:
                    return str(message["sid"])
            next_uri = payload.get("next_page_uri")
            if older or not next_uri:
                return None
            path = f"{self.prefix}{next_uri}"
        raise SmsOutcomeUnknown("too many pages of messages to this number to be sure")

    def close(self) -> None:
        if self._connection is not None:
            self._connection.close()
            self._connection = None

    # --- HTTP ---------------------------------------------------------------------------

    def _connect(self) -> http.client.HTTPConnection:
        if self._connection is None:
            kind = http.client.HTTPSConnection if self.https else http.client.HTTPConnection
            self._connection = kind(self.host, self.port, timeout=self.timeout)
        return self._connection

    def _request(
        self, method: str, path: str, form: dict[str, str] | None, *, sent_once: bool
    ) -> tuple[int, dict[str, Any]]:
        # Bytes, not str: http.client then sends headers and body in one segment (a str
        # body goes out separately and meets Nagle + delayed ACK: 40 ms per request).
        body = urllib.parse.urlencode(form).encode() if form is not None else None
        headers = {"Authorization": self.auth, "Accept": "application/json"}
        if body is not None:
            headers["Content-Type"] = "application/x-www-form-urlencoded"
        for attempt in (1, 2):
            connection = self._connect()
            try:
                connection.request(method, path, body=body, headers=headers)
            except (TimeoutError, ConnectionError, OSError) as error:
                # Nothing reached the provider: the request could not even be written.
                self.close()
                if attempt == 2:
                    raise SmsError(
                        "connection", f"cannot reach Twilio: {error}", permanent=False
                    ) from None
                continue
            try:
                response = connection.getresponse()
                raw = response.read()
            except http.client.RemoteDisconnected:
                self.close()
                if attempt == 1 and not sent_once:
                    continue  # a stale kept-alive connection; a read is safe to repeat
                raise SmsOutcomeUnknown("Twilio closed the connection without answering") from None
            except (TimeoutError, OSError, http.client.HTTPException) as error:
                self.close()
                raise SmsOutcomeUnknown(f"no answer from Twilio: {error}") from None
            if response.getheader("Connection", "").lower() == "close":
                self.close()
            try:
                payload = json.loads(raw or b"{}")
            except ValueError:
                payload = {"message": raw[:200].decode("utf-8", "replace")}
            return response.status, payload if isinstance(payload, dict) else {}
        raise AssertionError("unreachable")


def _error(status: int, payload: dict[str, Any]) -> SmsError:
    # What Twilio answers is bounded like its webhooks are: the code and message end up in
    # SmsFailed and the outbox, whose error code holds 32 characters.
    code = str(payload.get("code") or "")
    if not _ERROR_CODE.fullmatch(code):
        code = str(status)
    message = str(payload.get("message") or f"HTTP {status}")[:MESSAGE_LIMIT]
    # JSON may carry NUL and unpaired surrogates (a "\ud800" escape); neither can be stored.
    message = message.replace("\x00", "").encode("utf-8", "replace").decode("utf-8")
    if status == 429 or status >= 500 or status in (401, 403):
        # Busy, down, or credentials being rotated: the text itself is fine.
        return SmsError(code, message, permanent=False)
    return SmsError(code, PERMANENT_CODES.get(code, message), permanent=True)
