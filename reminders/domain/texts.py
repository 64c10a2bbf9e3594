"""What a text may say: each kind's placeholders and default words, the check a template
must pass, and a visit as a reminder may describe it. Plain Python, no Django."""

from __future__ import annotations

import datetime as dt
import string

from crm.domain import moments, times
from reminders.domain.sms_safe import LOCATION, PROVIDER, SafeNames, clinical_words, raw_names_in

__all__ = [
    "DEFAULTS",
    "PLACEHOLDERS",
    "TemplateError",
    "base_language",
    "check_template",
    "reminder_context",
]


class TemplateError(ValueError):
    """A template names something a text may not carry, or is malformed."""


_COMMON = ("clinic", "clinic_phone")
PLACEHOLDERS: dict[str, tuple[str, ...]] = {
    "reminder": ("first_name", "date", "time", "location", "provider", *_COMMON),
    "satisfaction": ("first_name", *_COMMON),
    "opt_out_confirmation": _COMMON,
    "opt_in_confirmation": _COMMON,
    "help": _COMMON,
}

# The seed of the admin's templates (migration 0002 copies these words).
DEFAULTS: dict[tuple[str, str], str] = {
    ("reminder", "en"): (
        "Hi {first_name}, reminder: your {clinic} appointment is on {date} at {time}, "
        "{location}. Reply C to confirm, R to reschedule, STOP to opt out."
    ),
    ("reminder", "es"): (
        "Hola {first_name}, recordatorio: su cita en {clinic} es el {date} a las {time}, "
        "{location}. Responda C para confirmar, R para cambiarla, STOP para no recibir más."
    ),
    ("satisfaction", "en"): (
        "Hi {first_name}, thank you for visiting {clinic}. How was your visit? "
        "Reply with a number from 1 (poor) to 5 (excellent)."
    ),
    ("satisfaction", "es"): (
        "Hola {first_name}, gracias por visitar {clinic}. ¿Cómo fue su visita? "
        "Responda con un número del 1 (mala) al 5 (excelente)."
    ),
    ("opt_out_confirmation", "en"): (
        "{clinic}: you will get no more texts from us. Reply START to get them again. "
        "Questions? Call {clinic_phone}."
    ),
    ("opt_out_confirmation", "es"): (
        "{clinic}: ya no recibirá mensajes nuestros. Responda START para recibirlos de nuevo. "
        "¿Preguntas? Llame al {clinic_phone}."
    ),
    ("opt_in_confirmation", "en"): (
        "{clinic}: you will get appointment texts again. Reply STOP to opt out, HELP for help."
    ),
    ("opt_in_confirmation", "es"): (
        "{clinic}: volverá a recibir mensajes sobre sus citas. Responda STOP para no "
        "recibirlos, HELP para ayuda."
    ),
    ("help", "en"): (
        "{clinic} appointment texts. Call us at {clinic_phone}. Reply STOP to opt out. "
        "Msg & data rates may apply."
    ),
    ("help", "es"): (
        "Mensajes de citas de {clinic}. Llámenos al {clinic_phone}. Responda STOP para no "
        "recibir más. Pueden aplicarse tarifas."
    ),
}

_DAYS = {
    "en": ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"),
    "es": ("lun", "mar", "mié", "jue", "vie", "sáb", "dom"),
}
_VIDEO = {"en": "by video", "es": "por video"}
# Said instead of a location or provider the clinic gave no SMS-safe name: never the name.
_IN_PERSON = {"en": "in person", "es": "en persona"}
_CARE_TEAM = {"en": "your care team", "es": "su equipo de atención"}


def base_language(language: str) -> str:
    """'es-MX' -> 'es'; anything we have no texts for -> 'en'."""
    base = (language or "en").split("-")[0].lower()
    return base if base in _DAYS else "en"


def check_template(kind: str, body: str, names: SafeNames | None = None) -> None:
    """Refuse a template that names anything but its kind's placeholders, says a clinical
    word, or writes out a location or provider the clinic gave an SMS-safe name."""
    allowed = PLACEHOLDERS.get(kind)
    if allowed is None:
        raise TemplateError(f"Unknown kind of text {kind!r}.")
    if not body.strip():
        raise TemplateError("The text must not be empty.")
    try:
        parsed = list(string.Formatter().parse(body))
    except ValueError as error:
        raise TemplateError(
            f"Braces do not match ({error}); write {{{{ or }}}} for a literal brace."
        ) from None
    for _literal, field, spec, conversion in parsed:
        if field is None:
            continue
        if field not in allowed or spec or conversion:
            shown = "{" + field + ("!" + conversion if conversion else "") + "}"
            raise TemplateError(
                f"{shown} is not allowed here; use only "
                + ", ".join("{" + name + "}" for name in allowed)
                + "."
            )
    found = clinical_words(body)
    if found:
        raise TemplateError(
            f"{', '.join(found)} hints at the care a patient gets; whoever sees the phone "
            "reads the text, so leave it out."
        )
    named = raw_names_in(body, names or SafeNames())
    if named:
        raise TemplateError(
            f"{', '.join(named)} has an SMS-safe name; write {{location}} or {{provider}} "
            "instead of the name."
        )


def reminder_context(
    *,
    first_name: str,
    starts_at: dt.datetime,
    timezone: str,
    location: str,
    provider: str,
    telehealth: bool,
    language: str,
    names: SafeNames,
) -> dict[str, str]:
    """What a reminder may say about a visit, in the patient's zone and language: the
    location and provider only by their SMS-safe names, never as recorded."""
    lang = base_language(language)
    local = times.in_zone(starts_at, moments.zone_named(timezone))
    return {
        "first_name": first_name,
        "date": moments.date(local, lang),
        "time": moments.clock(local, lang),
        "location": (
            _VIDEO[lang] if telehealth else names.alias(LOCATION, location) or _IN_PERSON[lang]
        ),
        "provider": names.alias(PROVIDER, provider) or _CARE_TEAM[lang],
    }
