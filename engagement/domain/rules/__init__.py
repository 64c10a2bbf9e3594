"""The rules: pure functions from a patient's engagement state and the configuration to the
needs they see, over the whole history they can see (docs/engagement.md, Rules)."""

from __future__ import annotations

from collections.abc import Callable

from engagement.domain.config import RuleConfig
from engagement.domain.rules.contact import callbacks, texts, unreachable
from engagement.domain.rules.crisis import caring_contacts, crisis_follow_up
from engagement.domain.rules.visits import (
    annual_wellness,
    confirmations,
    no_show_follow_ups,
    overdue_tests,
    sms_consent,
    visit_follow_ups,
)
from engagement.domain.rules.winback import re_engage
from engagement.domain.rules.words import Words
from engagement.domain.state import EngagementState
from engagement.domain.suggestions import Need

Rule = Callable[[EngagementState, RuleConfig, Words], list[Need]]

RULES: tuple[Rule, ...] = (
    crisis_follow_up,
    caring_contacts,
    callbacks,
    texts,
    unreachable,
    no_show_follow_ups,
    confirmations,
    visit_follow_ups,
    overdue_tests,
    annual_wellness,
    sms_consent,
    re_engage,
)

__all__ = ["RULES", "Rule", "Words"]
