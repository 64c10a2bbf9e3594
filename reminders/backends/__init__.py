"""SMS backends, chosen by the SMS_BACKEND setting like Django's email backends: `console`,
`locmem` (tests), `twilio`, or the dotted path of any class with the same methods."""

from __future__ import annotations

from django.conf import settings
from django.utils.module_loading import import_string

from reminders.backends.base import BaseSmsBackend, Sms, SmsError, SmsOutcomeUnknown

__all__ = ["BaseSmsBackend", "Sms", "SmsError", "SmsOutcomeUnknown", "get_backend"]

SHORT_NAMES = {
    "console": "reminders.backends.console.ConsoleBackend",
    "locmem": "reminders.backends.locmem.LocmemBackend",
    "twilio": "reminders.backends.twilio.TwilioBackend",
}


def get_backend(name: str | None = None) -> BaseSmsBackend:
    path = name or settings.SMS_BACKEND
    backend_class = import_string(SHORT_NAMES.get(path, path))
    backend: BaseSmsBackend = backend_class()
    return backend
