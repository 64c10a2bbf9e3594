"""Ring the running server as Twilio would: a signed incoming-call webhook for a demo patient, then
(--end-after) the queue's action and the status callback that end it. No Twilio account needed."""

from __future__ import annotations

import datetime as dt
import json
import secrets
import time
import urllib.error
import urllib.parse
import urllib.request
from dataclasses import dataclass, field
from email.utils import format_datetime
from typing import Any
from xml.etree import ElementTree

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db.models import Count, Q
from twilio.request_validator import RequestValidator  # type: ignore[import-untyped]

from crm.domain.errors import InvalidInput
from crm.domain.phones import normalize_phone
from crm.models import PatientProfile

INCOMING = "/webhooks/voice/incoming/"
STATUS = "/webhooks/voice/status/"
# An account id of the right shape for a server that names no account of its own.
DEMO_ACCOUNT_SID = "AC" + "0" * 32
OUTCOMES = ("answered", "hung-up")


@dataclass
class SimulatedCall:
    """One inbound call as Twilio's webhooks report it, each request signed with the
    account's auth token over the URL it is posted to (X-Twilio-Signature)."""

    base_url: str  # where the server listens: http://127.0.0.1:8000
    auth_token: str
    caller: str  # E.164
    called: str  # the clinic's number
    account_sid: str = DEMO_ACCOUNT_SID
    call_sid: str = field(default_factory=lambda: "CA" + secrets.token_hex(16))
    signing_base: str = ""  # TWILIO_WEBHOOK_BASE_URL when a proxy stands in front
    action: str = ""  # the queue's action URL, read from the TwiML that enqueued the call
    sequence: int = 0

    def ring(self) -> tuple[int, str]:
        """A call comes in: the server answers TwiML that puts the caller in line."""
        status, body = self.post(INCOMING, {**self._call(), "CallStatus": "ringing"})
        if status == 200:
            self.action = _enqueue_action(body)
        return status, body

    def end(self, *, outcome: str, queue_seconds: int, talk_seconds: int) -> list[int]:
        """The call leaves the queue (answered by an agent, or the caller hung up), then its
        completed status: the two callbacks Twilio sends, in the order it sends them."""
        answered = outcome == "answered"
        left_queue = {
            **self._call(),
            "CallStatus": "in-progress" if answered else "completed",
            "QueueResult": "bridged" if answered else "hangup",
            "QueueSid": "QU" + secrets.token_hex(16),
            "QueueTime": str(queue_seconds),
        }
        statuses = [self.post(self.action or STATUS, left_queue)[0]]
        duration = queue_seconds + (talk_seconds if answered else 0)
        self.sequence += 1
        completed = {
            **self._call(),
            "CallStatus": "completed",
            "CallDuration": str(duration),
            "Duration": str(-(-duration // 60)),  # whole minutes, rounded up
            "SequenceNumber": str(self.sequence),
            "CallbackSource": "call-progress-events",
            "Timestamp": format_datetime(dt.datetime.now(dt.UTC), usegmt=True),
        }
        statuses.append(self.post(STATUS, completed)[0])
        return statuses

    def post(self, path: str, form: dict[str, str]) -> tuple[int, str]:
        url = urllib.parse.urljoin(self.base_url + "/", path)
        signed_url = url
        if self.signing_base:  # the server checks the URL Twilio called, not its own
            parts = urllib.parse.urlsplit(url)
            signed_url = self.signing_base + urllib.parse.urlunsplit(
                ("", "", parts.path, parts.query, "")
            )
        signature = RequestValidator(self.auth_token).compute_signature(signed_url, form)
        request = urllib.request.Request(
            url,
            data=urllib.parse.urlencode(form).encode(),
            headers={
                "Content-Type": "application/x-www-form-urlencoded",
                "X-Twilio-Signature": signature,
                "User-Agent": "TwilioProxy/1.1 (simulate_call)",
            },
            method="POST",
        )
        try:
            with urllib.request.urlopen(request, timeout=10) as response:
                return response.status, response.read().decode()
        except urllib.error.HTTPError as refused:
            return refused.code, refused.read().decode(errors="replace")

    def _call(self) -> dict[str, str]:
        return {
            "AccountSid": self.account_sid,
            "ApiVersion": "2010-04-01",
            "CallSid": self.call_sid,
            "Direction": "inbound",
            "From": self.caller,
            "Caller": self.caller,
            "To": self.called,
            "Called": self.called,
            "FromCountry": "US",
            "ToCountry": "US",
        }


def _said(body: str) -> str:
    """A refusal's reason: the problem document's detail, else what kind of answer it was."""
    try:
        return str(json.loads(body)["detail"])
    except (ValueError, KeyError, TypeError):
        return "the answer is not this CRM's (is --url the CRM's address?)."


def _enqueue_action(twiml: str) -> str:
    """The action URL of the <Enqueue> verb, where Twilio reports the call leaving the queue."""
    try:
        root = ElementTree.fromstring(twiml)
    except ElementTree.ParseError:
        return ""
    verb = root.find("Enqueue")
    return "" if verb is None else verb.get("action", "")


class Command(BaseCommand):
    help = (
        "Simulate an incoming phone call for a demo patient against the running server, "
        "signed like Twilio's webhooks (no Twilio account needed): the agent desk at /desk/ "
        "pops the caller's record. --end-after ends the call as Twilio reports it."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        who = parser.add_mutually_exclusive_group()
        who.add_argument("--phone", help="the caller's number, any format (unknown is fine)")
        who.add_argument("--patient", help="a patient's name, or part of it")
        who.add_argument("--crisis", action="store_true", help="a patient with an open crisis flag")
        who.add_argument("--household", action="store_true", help="a number several patients share")
        parser.add_argument(
            "--url", default="http://127.0.0.1:8000", help="the server (default %(default)s)"
        )
        parser.add_argument(
            "--end-after",
            type=float,
            metavar="SECONDS",
            help="end the call this long after it rang (default: leave it ringing)",
        )
        parser.add_argument(
            "--outcome",
            choices=OUTCOMES,
            default="answered",
            help="answered by an agent (default) or hung up while waiting in the queue",
        )
        parser.add_argument(
            "--queue-seconds", type=int, default=5, help="time in the queue (default 5)"
        )
        parser.add_argument("--call-sid", help="the CallSid to use (default: a new one)")
        parser.add_argument(
            "--auth-token",
            help="the token the server checks signatures with (default: TWILIO_AUTH_TOKEN)",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        token = options["auth_token"] or settings.TWILIO_AUTH_TOKEN
        if not token:
            raise CommandError(
                "TWILIO_AUTH_TOKEN is not set, so neither this command nor the server can sign "
                "or check a call. Start the server and run this with the same "
                "TWILIO_AUTH_TOKEN (README, 'Try the live desk')."
            )
        caller, who = self._caller(options)
        call = SimulatedCall(
            base_url=options["url"].rstrip("/"),
            auth_token=token,
            caller=caller,
            called=settings.CLINIC_PHONE,
            account_sid=settings.TWILIO_ACCOUNT_SID or DEMO_ACCOUNT_SID,
            signing_base=settings.TWILIO_WEBHOOK_BASE_URL,
        )
        if options["call_sid"]:
            call.call_sid = options["call_sid"]
        started = time.monotonic()
        status, body = self._send(lambda: call.ring())
        if status != 200:
            hint = (
                " The server and this command must share TWILIO_AUTH_TOKEN (README, 'Try the "
                "live desk')."
                if status == 403
                else ""
            )
            raise CommandError(f"The server refused the call ({status}): {_said(body)}{hint}")
        self.stdout.write(
            f"Ringing: {call.call_sid} from {caller} ({who}) to {call.called}. "
            f"The desk at {call.base_url}/desk/ pops it."
        )
        if options["end_after"] is None:
            return
        time.sleep(max(0.0, options["end_after"] - (time.monotonic() - started)))
        queue_seconds = min(options["queue_seconds"], int(options["end_after"]))
        talk = max(0, round(options["end_after"]) - queue_seconds)
        statuses = self._send(
            lambda: call.end(
                outcome=options["outcome"], queue_seconds=queue_seconds, talk_seconds=talk
            )
        )
        if any(code != 200 for code in statuses):
            raise CommandError(f"The server refused the call's end: it answered {statuses}.")
        self.stdout.write(f"Ended: {call.call_sid}, {options['outcome']} ({statuses}).")

    def _send(self, step: Any) -> Any:
        try:
            return step()
        except urllib.error.URLError as error:
            raise CommandError(
                f"No server answers there ({error.reason}); start it with `make run`, or "
                "say where it is with --url."
            ) from None

    def _caller(self, options: dict[str, Any]) -> tuple[str, str]:
        """The number to call from, and who that is in words."""
        if options["phone"]:
            try:
                e164 = normalize_phone(options["phone"], region=settings.PHONE_DEFAULT_REGION)
            except InvalidInput as error:
                raise CommandError(f"--phone: {error}") from None
            holders = PatientProfile.objects.answering().filter(phone=e164)
            names = ", ".join(p.display_name for p in holders[:5]) or "no patient has it"
            return e164, names
        patients = PatientProfile.objects.answering().filter(phone__isnull=False, deceased=False)
        shared = (
            PatientProfile.objects.answering()
            .values("phone")
            .annotate(holders=Count("patient_id"))
            .filter(holders__gt=1, phone__isnull=False)
            .values("phone")
        )
        if options["household"]:
            found = patients.filter(phone__in=shared)
        elif options["crisis"]:
            found = patients.filter(crisis_flag=True).exclude(phone__in=shared)
        elif options["patient"]:
            words = options["patient"].split()
            found = patients
            for word in words:
                found = found.filter(
                    Q(first_name__icontains=word)
                    | Q(last_name__icontains=word)
                    | Q(preferred_name__icontains=word)
                )
        else:
            found = patients.filter(crisis_flag=False).exclude(phone__in=shared)
        patient = found.order_by("last_name", "first_name", "patient_id").first()
        if patient is None or patient.phone is None:
            raise CommandError(
                "No demo patient fits; load the demo first (`python manage.py load_demo`), "
                "or give --phone."
            )
        if options["household"]:
            count = PatientProfile.objects.answering().filter(phone=patient.phone).count()
            return patient.phone, f"a number {count} patients share"
        return patient.phone, patient.display_name
