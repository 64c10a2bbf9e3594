"""Typed readers for settings from the environment; each names the variable in its error,
so a bad deployment fails at start with a message an operator can act on."""

from __future__ import annotations

import os
import zoneinfo

from django.core.exceptions import ImproperlyConfigured

_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"0", "false", "no", "off", ""}


def env_str(name: str, default: str | None = None) -> str:
    value = os.environ.get(name)
    if value is None:
        if default is None:
            raise ImproperlyConfigured(f"The environment variable {name} is required but not set.")
        return default
    return value


def env_bool(name: str, default: bool) -> bool:
    raw = os.environ.get(name)
    if raw is None:
        return default
    lowered = raw.strip().lower()
    if lowered in _TRUE:
        return True
    if lowered in _FALSE:
        return False
    raise ImproperlyConfigured(
        f"{name}={raw!r} is not a boolean; use one of 1/0, true/false, yes/no, on/off."
    )


def env_int(name: str, default: int, *, minimum: int | None = None) -> int:
    raw = os.environ.get(name)
    if raw is None:
        return default
    try:
        value = int(raw)
    except ValueError:
        raise ImproperlyConfigured(f"{name}={raw!r} is not a whole number.") from None
    if minimum is not None and value < minimum:
        raise ImproperlyConfigured(f"{name}={value} must be at least {minimum}.")
    return value


def env_list(name: str, default: list[str]) -> list[str]:
    raw = os.environ.get(name)
    if raw is None:
        return default
    return [item.strip() for item in raw.split(",") if item.strip()]


def env_timezone(name: str, default: str) -> str:
    value = env_str(name, default)
    try:
        zoneinfo.ZoneInfo(value)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        raise ImproperlyConfigured(
            f"{name}={value!r} is not an IANA time zone name such as 'America/New_York'."
        ) from None
    return value


def env_region(name: str, default: str) -> str:
    # Imported here so settings stay importable even before dependencies are checked.
    import phonenumbers

    value = env_str(name, default).strip().upper()
    if value not in phonenumbers.SUPPORTED_REGIONS:
        raise ImproperlyConfigured(
            f"{name}={value!r} is not a two-letter region phonenumbers knows, such as 'US'."
        )
    return value


def env_proxy_ssl_header(name: str) -> tuple[str, str] | None:
    """'HTTP_X_FORWARDED_PROTO,https' -> the header a TLS-ending proxy sets, and its value."""
    raw = os.environ.get(name, "").strip()
    if not raw:
        return None
    header, _, value = (part.strip() for part in raw.partition(","))
    if not header.startswith("HTTP_") or not value:
        raise ImproperlyConfigured(
            f"{name}={raw!r} should read HEADER,value with the header as Django's META names "
            "it, e.g. HTTP_X_FORWARDED_PROTO,https."
        )
    return header, value


def env_days_by_type(name: str, default: dict[str, int]) -> dict[str, int]:
    """`therapy=90,psychiatry=90,other=180`: days per appointment type, `other` for the rest
    (a bare number sets every type); crm.domain.churn.parse_lapse_days reads it."""
    from crm.domain.churn import OTHER, parse_lapse_days

    raw = os.environ.get(name)
    if raw is None:
        return dict(default)
    try:
        by_type, other = parse_lapse_days(raw)
    except ValueError as wrong:
        raise ImproperlyConfigured(f"{name}={raw!r}: {wrong}.") from None
    from crm.domain.events import AppointmentType

    unknown = sorted(set(by_type) - {t.value for t in AppointmentType})
    if unknown:
        known = ", ".join(sorted(t.value for t in AppointmentType))
        raise ImproperlyConfigured(
            f"{name}={raw!r}: unknown type {unknown[0]!r}; types are {known}."
        )
    return {**by_type, OTHER: other}
