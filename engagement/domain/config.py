"""The thresholds the suggestion rules are tuned by, with the defaults a clinic starts from
(plain Python: `engagement.conf.rule_config()` builds one from the settings)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass, field

from crm.domain.churn import ChurnRules

# Completed visits of these types call for a follow-up booked within this many days.
DEFAULT_FOLLOW_UP_DAYS: Mapping[str, int] = {"new_patient": 14, "psychiatry": 28, "test": 7}
# Caring contacts after a crisis, in days from the crisis contact: about a dozen over a
# year, front-loaded (weekly for the first month, then spreading out), as in brief-contact
# programs such as Motto's caring letters.
DEFAULT_CARING_CONTACT_DAYS: tuple[int, ...] = (7, 14, 21, 28, 42, 56, 90, 120, 180, 240, 300, 365)
DEFAULT_CRISIS_LINE = "988"


@dataclass(frozen=True, slots=True)
class RuleConfig:
    """Everything a rule may be tuned by; the rules read nothing else but state and now."""

    annual_interval: dt.timedelta = dt.timedelta(days=365)
    follow_up_delays: Mapping[str, dt.timedelta] = field(
        default_factory=lambda: {k: dt.timedelta(days=v) for k, v in DEFAULT_FOLLOW_UP_DAYS.items()}
    )
    # A follow-up that nobody booked stays in the queue this long after it fell due.
    follow_up_window: dt.timedelta = dt.timedelta(days=60)
    no_show_window: dt.timedelta = dt.timedelta(days=14)
    callback_due: dt.timedelta = dt.timedelta(hours=4)
    callback_window: dt.timedelta = dt.timedelta(days=7)
    crisis_first_call: dt.timedelta = dt.timedelta(hours=24)
    crisis_window: dt.timedelta = dt.timedelta(hours=72)
    crisis_retry: dt.timedelta = dt.timedelta(hours=4)
    caring_contacts: tuple[dt.timedelta, ...] = tuple(
        dt.timedelta(days=d) for d in DEFAULT_CARING_CONTACT_DAYS
    )
    # The last caring contact stays open this long; each earlier one until the next opens.
    caring_contact_last_window: dt.timedelta = dt.timedelta(days=30)
    unconfirmed_window: dt.timedelta = dt.timedelta(hours=48)
    unreachable_attempts: int = 3
    test_window: dt.timedelta = dt.timedelta(days=60)
    claim_expiry: dt.timedelta = dt.timedelta(minutes=15)
    # Closed suggestions stay on record (queue, patient page, as-of views) this long.
    history: dt.timedelta = dt.timedelta(days=90)
    crisis_line: str = DEFAULT_CRISIS_LINE
    clinic_timezone: str = "America/New_York"
    # Win-back (re_engage): who has lapsed from care is crm's churn definition, with the
    # CHURN_* settings; a crisis contact this long before the lapse (or an open crisis
    # flag) raises the suggestion's priority.
    churn: ChurnRules = field(default_factory=ChurnRules)
    re_engage_crisis_window: dt.timedelta = dt.timedelta(days=180)
    # Outreach the clinic starts keeps the texts' rules: inside these local hours, and at
    # most so many attempts (calls placed, texts sent) a day and in seven days.
    outreach_window: tuple[dt.time, dt.time] = (dt.time(8), dt.time(21))
    outreach_cap_per_day: int = 1
    outreach_cap_per_week: int = 3
