"""The clinic's settings reach the rules: each threshold a clinic can tune is read."""

from __future__ import annotations

import datetime as dt

from engagement.conf import rule_config


def test_the_clinic_tunes_how_long_an_unbooked_follow_up_stays_in_the_queue(settings):
    settings.ENGAGEMENT_FOLLOW_UP_WINDOW_DAYS = 30

    assert rule_config().follow_up_window == dt.timedelta(days=30)


def test_every_engagement_setting_is_defined_with_the_rules_own_default(settings):
    from engagement.domain.config import RuleConfig

    defaults = RuleConfig()

    assert defaults.follow_up_window.days == settings.ENGAGEMENT_FOLLOW_UP_WINDOW_DAYS
    assert rule_config() == defaults
