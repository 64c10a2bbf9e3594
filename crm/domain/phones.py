"""Phone numbers: parsed with `phonenumbers`, stored and compared as E.164."""

from __future__ import annotations

import phonenumbers
from phonenumbers import timezone as phone_timezones

from crm.domain.errors import InvalidInput


def normalize_phone(raw: str, *, region: str, field: str = "phone") -> str:
    """Return `raw` as E.164 ("+16175550134"), or raise InvalidInput naming `field`.

    "(617) 555-0134", "617.555.0134" and "+1 617 555 0134" all give the same result.
    """
    text = (raw or "").strip()
    if not text:
        raise InvalidInput(field, "is empty; give a phone number such as (617) 555-0134.")
    if len(text) > 40:
        raise InvalidInput(field, "is too long to be a phone number.")
    try:
        number = phonenumbers.parse(text, region)
    except phonenumbers.NumberParseException:
        raise InvalidInput(field, f"{text!r} is not a phone number.") from None
    if not phonenumbers.is_valid_number(number):
        raise InvalidInput(
            field,
            f"{text!r} is not a valid phone number; include the area code "
            "(and a + country code outside the clinic's country).",
        )
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def timezone_for_phone(e164: str) -> str | None:
    """The one IANA zone a number belongs to, or None when it spans several or none."""
    try:
        number = phonenumbers.parse(e164, None)
    except phonenumbers.NumberParseException:
        return None
    zones = [z for z in phone_timezones.time_zones_for_number(number) if z != "Etc/Unknown"]
    return zones[0] if len(zones) == 1 else None


def format_national(e164: str) -> str:
    """A number as people read it in its own country: (617) 555-0134."""
    number = phonenumbers.parse(e164, None)
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.NATIONAL)
