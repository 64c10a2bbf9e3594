"""The thresholds of the suggestion rules: defaults here, overrides from the environment, and
`rule_config()` turning the settings into the plain `RuleConfig` the rules take."""

from __future__ import annotations

import datetime as dt
import os
from collections.abc import Mapping
from typing import Any

from django.core.exceptions import ImproperlyConfigured

from crm.domain.churn import ChurnRules
from engagement.domain.config import (
    DEFAULT_CARING_CONTACT_DAYS,
    DEFAULT_CRISIS_LINE,
    DEFAULT_FOLLOW_UP_DAYS,
    RuleConfig,
)

__all__ = [
    "DEFAULT_CARING_CONTACT_DAYS",
    "DEFAULT_CRISIS_LINE",
    "DEFAULT_FOLLOW_UP_DAYS",
    "RuleConfig",
    "env_crisis_line",
    "env_day_list",
    "env_days_by_type",
    "rule_config",
]


def rule_config() -> RuleConfig:
    """The rules' configuration as the settings say (read per call: tests override them)."""
    from django.conf import settings

    def hours(name: str, default: dt.timedelta) -> dt.timedelta:
        value = getattr(settings, name, None)
        return default if value is None else dt.timedelta(hours=int(value))

    def days(name: str, default: dt.timedelta) -> dt.timedelta:
        value = getattr(settings, name, None)
        return default if value is None else dt.timedelta(days=int(value))

    base = RuleConfig()
    follow_ups = getattr(settings, "ENGAGEMENT_FOLLOW_UP_DAYS", None)
    caring = getattr(settings, "ENGAGEMENT_CARING_CONTACT_DAYS", None)
    claim_minutes = getattr(settings, "ENGAGEMENT_CLAIM_MINUTES", None)
    return RuleConfig(
        annual_interval=days("ENGAGEMENT_ANNUAL_INTERVAL_DAYS", base.annual_interval),
        follow_up_delays=(
            base.follow_up_delays
            if follow_ups is None
            else {k: dt.timedelta(days=v) for k, v in follow_ups.items()}
        ),
        follow_up_window=days("ENGAGEMENT_FOLLOW_UP_WINDOW_DAYS", base.follow_up_window),
        no_show_window=days("ENGAGEMENT_NO_SHOW_WINDOW_DAYS", base.no_show_window),
        callback_due=hours("ENGAGEMENT_CALLBACK_DUE_HOURS", base.callback_due),
        callback_window=days("ENGAGEMENT_CALLBACK_WINDOW_DAYS", base.callback_window),
        crisis_first_call=hours("ENGAGEMENT_CRISIS_FIRST_CALL_HOURS", base.crisis_first_call),
        crisis_window=hours("ENGAGEMENT_CRISIS_WINDOW_HOURS", base.crisis_window),
        crisis_retry=hours("ENGAGEMENT_CRISIS_RETRY_HOURS", base.crisis_retry),
        caring_contacts=(
            base.caring_contacts if caring is None else tuple(dt.timedelta(days=d) for d in caring)
        ),
        unconfirmed_window=hours("ENGAGEMENT_UNCONFIRMED_HOURS", base.unconfirmed_window),
        unreachable_attempts=int(
            getattr(settings, "ENGAGEMENT_UNREACHABLE_ATTEMPTS", base.unreachable_attempts)
        ),
        claim_expiry=(
            base.claim_expiry if claim_minutes is None else dt.timedelta(minutes=int(claim_minutes))
        ),
        crisis_line=str(getattr(settings, "CRISIS_LINE", base.crisis_line)),
        clinic_timezone=str(settings.TIME_ZONE),
        churn=_churn_rules(base.churn),
        outreach_window=getattr(settings, "REMINDERS_SEND_WINDOW", base.outreach_window),
        outreach_cap_per_day=int(
            getattr(settings, "REMINDERS_CAP_PER_DAY", base.outreach_cap_per_day)
        ),
        outreach_cap_per_week=int(
            getattr(settings, "REMINDERS_CAP_PER_WEEK", base.outreach_cap_per_week)
        ),
    )


def _churn_rules(base: ChurnRules) -> ChurnRules:
    """crm's churn definition with the CHURN_* settings, as the dashboard reads it."""
    from django.conf import settings

    days = getattr(settings, "CHURN_LAPSE_DAYS", None)
    if days is None:
        return base
    return ChurnRules.of(int(getattr(settings, "CHURN_ACTIVE_MONTHS", base.active_months)), days)


# --- environment readers for config/settings.py ------------------------------------------


def env_days_by_type(name: str, default: Mapping[str, int]) -> dict[str, int]:
    """`new_patient=14,psychiatry=28`: days per appointment type; `none` for no follow-ups."""
    from crm.domain.events import AppointmentType

    raw = os.environ.get(name)
    if raw is None:
        return dict(default)
    if raw.strip().lower() == "none":
        return {}
    known = {t.value for t in AppointmentType}
    result: dict[str, int] = {}
    for part in raw.split(","):
        key, sep, value = part.partition("=")
        key = key.strip()
        if not sep or key not in known:
            raise ImproperlyConfigured(
                f"{name}={raw!r}: write type=days pairs such as new_patient=14,psychiatry=28; "
                f"types are {', '.join(sorted(known))}."
            )
        result[key] = _positive(name, raw, value)
    return result


def env_day_list(name: str, default: tuple[int, ...]) -> tuple[int, ...]:
    """`7,14,21,28,...`: increasing days after the crisis contact."""
    raw = os.environ.get(name)
    if raw is None:
        return default
    values = tuple(_positive(name, raw, part) for part in raw.split(",") if part.strip())
    if list(values) != sorted(set(values)):
        raise ImproperlyConfigured(f"{name}={raw!r}: the days must increase, e.g. 7,14,28,90.")
    return values


def env_crisis_line(name: str, default: str) -> str:
    value = os.environ.get(name, default).strip()
    if not value or not all(c.isdigit() or c in "+-() " for c in value):
        raise ImproperlyConfigured(f"{name}={value!r} is not a phone number such as 988.")
    return value


def _positive(name: str, raw: str, value: Any) -> int:
    try:
        number = int(str(value).strip())
    except ValueError:
        raise ImproperlyConfigured(f"{name}={raw!r}: {value!r} is not a whole number.") from None
    if number < 1:
        raise ImproperlyConfigured(f"{name}={raw!r}: {number} must be at least 1.")
    return number
