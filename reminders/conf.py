"""Parsing of the reminders' settings, free of Django models so settings.py can use it; every
parser names the environment variable in its error, like config/env.py."""

from __future__ import annotations

import datetime as dt
import os
import re

from django.core.exceptions import ImproperlyConfigured

from reminders.domain.sms_safe import clinical_words

_TYPES = {
    "annual_wellness",
    "new_patient",
    "follow_up",
    "therapy",
    "psychiatry",
    "test",
}
_MODALITIES = {"in_person", "telehealth"}
_WINDOW = re.compile(r"^(\d{2}):(\d{2})-(\d{2}):(\d{2})$")


def hours_list(name: str, raw: str) -> tuple[int, ...]:
    """'72,24' -> (72, 24): whole hours before the appointment, largest first."""
    hours: list[int] = []
    for item in raw.split(","):
        item = item.strip()
        if not item:
            continue
        if not item.isdigit() or int(item) < 1:
            raise ImproperlyConfigured(
                f"{name}: {item!r} is not a whole number of hours (at least 1), e.g. 72,24."
            )
        hours.append(int(item))
    return tuple(sorted(set(hours), reverse=True))


def env_offsets(name: str, default: str) -> tuple[int, ...]:
    return hours_list(name, os.environ.get(name, default))


def env_offsets_by_kind(name: str) -> dict[str, tuple[int, ...]]:
    """'therapy=48,24;telehealth=24,2;psychiatry/telehealth=24;test=' -> per-key offsets.

    A key is an appointment type, a modality, or type/modality; an empty list means no
    reminders for that kind of visit.
    """
    raw = os.environ.get(name, "")
    parsed: dict[str, tuple[int, ...]] = {}
    for part in raw.split(";"):
        part = part.strip()
        if not part:
            continue
        key, sep, hours = part.partition("=")
        key = key.strip()
        kind, _, modality = key.partition("/")
        known = (kind in _TYPES and (not modality or modality in _MODALITIES)) or (
            kind in _MODALITIES and not modality
        )
        if not sep or not known:
            raise ImproperlyConfigured(
                f"{name}: {part!r} should read type=hours,... with a type among "
                f"{sorted(_TYPES)}, a modality among {sorted(_MODALITIES)}, or type/modality."
            )
        parsed[key] = hours_list(name, hours)
    return parsed


def env_window(name: str, default: str) -> tuple[dt.time, dt.time]:
    """'08:00-21:00' -> the local hours in which texts may go out."""
    raw = os.environ.get(name, default).strip()
    match = _WINDOW.match(raw)
    if match:
        h1, m1, h2, m2 = (int(g) for g in match.groups())
        if h1 < 24 and h2 < 24 and m1 < 60 and m2 < 60 and (h1, m1) < (h2, m2):
            return dt.time(h1, m1), dt.time(h2, m2)
    raise ImproperlyConfigured(
        f"{name}={raw!r} should be a local time window such as 08:00-21:00 (start before end)."
    )


def env_sms_safe_name(name: str, default: str) -> str:
    """A name every text carries (the clinic's): refused when it hints at the care given."""
    value = " ".join(os.environ.get(name, default).split())
    found = clinical_words(value)
    if not value or found:
        raise ImproperlyConfigured(
            f"{name}={value!r} is empty or says {', '.join(found)}: every text carries it, so "
            "it must name the clinic without hinting at the care given (e.g. Harbor Clinic)."
        )
    return value
