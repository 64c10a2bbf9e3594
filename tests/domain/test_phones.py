"""Phone numbers as the front desk types them, stored as E.164 and mapped to a time zone."""

from __future__ import annotations

import pytest

from crm.domain.errors import InvalidInput
from crm.domain.phones import format_national, normalize_phone, timezone_for_phone


@pytest.mark.parametrize(
    "typed",
    ["(617) 555-0134", "617.555.0134", "+1 617 555 0134", "617-555-0134", " 1 (617) 555 0134 "],
)
def test_every_way_of_typing_a_boston_number_gives_the_same_e164(typed: str) -> None:
    assert normalize_phone(typed, region="US") == "+16175550134"


def test_a_local_number_is_read_in_the_clinics_own_country() -> None:
    assert normalize_phone("020 7946 0958", region="GB") == "+442079460958"


def test_a_number_with_its_country_code_is_read_whatever_the_clinics_country() -> None:
    assert normalize_phone("+44 20 7946 0958", region="US") == "+442079460958"


def test_a_number_without_its_area_code_is_refused_asking_for_it() -> None:
    with pytest.raises(InvalidInput) as refused:
        normalize_phone("555-0134", region="US")

    assert refused.value.field == "phone"
    assert "'555-0134' is not a valid phone number" in refused.value.detail
    assert "include the area code" in refused.value.detail


def test_words_are_refused_as_not_a_phone_number() -> None:
    with pytest.raises(InvalidInput) as refused:
        normalize_phone("hello", region="US")

    assert refused.value.field == "phone"
    assert refused.value.detail == "'hello' is not a phone number."


@pytest.mark.parametrize("typed", ["", "   "])
def test_an_empty_phone_is_refused_with_an_example_of_a_good_one(typed: str) -> None:
    with pytest.raises(InvalidInput) as refused:
        normalize_phone(typed, region="US")

    assert refused.value.field == "phone"
    assert "is empty" in refused.value.detail
    assert "(617) 555-0134" in refused.value.detail


def test_a_fifty_digit_string_is_refused_as_too_long() -> None:
    with pytest.raises(InvalidInput) as refused:
        normalize_phone("5" * 50, region="US")

    assert refused.value.field == "phone"
    assert "too long" in refused.value.detail


def test_the_error_names_the_field_the_number_came_from() -> None:
    with pytest.raises(InvalidInput) as refused:
        normalize_phone("hello", region="US", field="from_number")

    assert refused.value.field == "from_number"
    assert refused.value.message.startswith("from_number: ")


def test_a_boston_number_is_in_new_york_time() -> None:
    assert timezone_for_phone("+16175550134") == "America/New_York"


def test_a_london_number_is_in_london_time() -> None:
    assert timezone_for_phone("+442079460958") == "Europe/London"


@pytest.mark.parametrize("toll_free", ["+18005550134", "+18885550134"])
def test_a_toll_free_number_spanning_many_zones_has_no_single_zone(toll_free: str) -> None:
    assert timezone_for_phone(toll_free) is None


def test_garbage_has_no_zone_rather_than_an_error() -> None:
    assert timezone_for_phone("not a number") is None


def test_a_number_is_shown_the_way_people_read_it_at_home() -> None:
    assert format_national("+16175550134") == "(617) 555-0134"
