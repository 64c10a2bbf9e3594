"""A domain enumeration's field (crm.api.fields.Choice) names the values it takes."""

from __future__ import annotations

import pytest
from rest_framework.exceptions import ValidationError

from crm.api.fields import Choice
from crm.domain import events as ev


def test_a_value_outside_the_enumeration_is_refused_naming_the_values_it_takes():
    with pytest.raises(ValidationError) as refused:
        Choice(ev.CallDisposition).run_validation("hung_up")

    allowed = ", ".join(d.value for d in ev.CallDisposition)
    assert refused.value.detail == [f'"hung_up" is not allowed; use one of: {allowed}.']


def test_a_message_the_caller_gives_wins_over_the_list_of_values():
    field = Choice(ev.CallDisposition, error_messages={"invalid_choice": "Pick a disposition."})

    with pytest.raises(ValidationError) as refused:
        field.run_validation("hung_up")

    assert refused.value.detail == ["Pick a disposition."]
    assert field.run_validation("voicemail") == ev.CallDisposition.VOICEMAIL
