"""GET /api/v1/patients/?search=: find a patient by name, phone or date of birth."""

from __future__ import annotations

import datetime as dt

import pytest

from crm import handlers
from crm.models import AccessLogEntry
from tests.api.conftest import problem

pytestmark = pytest.mark.django_db

PATIENTS = "/api/v1/patients/"


@pytest.fixture
def clinic_list(register):
    return {
        "rowan": register(),
        "ada": register(
            first_name="Ada",
            last_name="Okafor",
            phone="(617) 555-0101",
            date_of_birth=dt.date(1990, 1, 2),
        ),
        "adam": register(
            first_name="Adam",
            last_name="Okafor-Reyes",
            preferred_name="Addy",
            phone=None,
            date_of_birth=dt.date(1975, 7, 4),
        ),
    }


def _names(response):
    assert response.status_code == 200, response.content
    return [p["display_name"] for p in response.json()["results"]]


def test_a_name_finds_everyone_whose_name_holds_every_word(front_desk, clinic_list):
    assert _names(front_desk.get(PATIENTS, {"search": "okafor"})) == [
        "Ada Okafor",
        "Addy Okafor-Reyes",
    ]
    assert _names(front_desk.get(PATIENTS, {"search": "REYES ada"})) == ["Addy Okafor-Reyes"]
    assert _names(front_desk.get(PATIENTS, {"search": "addy"})) == ["Addy Okafor-Reyes"]


def test_a_phone_number_in_any_format_finds_its_owner(front_desk, clinic_list):
    assert _names(front_desk.get(PATIENTS, {"search": "617.555.0101"})) == ["Ada Okafor"]
    assert _names(front_desk.get(PATIENTS, {"search": "+1 (617) 555-0101"})) == ["Ada Okafor"]


@pytest.mark.parametrize("typed", ["1975-07-04", "07/04/1975", "7/4/1975"])
def test_a_date_of_birth_finds_the_patient(front_desk, clinic_list, typed):
    assert _names(front_desk.get(PATIENTS, {"search": typed})) == ["Addy Okafor-Reyes"]


def test_results_are_paginated_with_a_count(front_desk, register):
    for n in range(7):
        register(first_name=f"Sam{n}", last_name="Paged")

    body = front_desk.get(PATIENTS, {"search": "paged", "page_size": 5}).json()
    assert body["count"] == 7
    assert len(body["results"]) == 5
    assert body["next"] is not None

    rest = front_desk.get(body["next"]).json()
    assert len(rest["results"]) == 2
    assert rest["next"] is None


def test_a_merged_away_duplicate_is_not_listed(front_desk, register, desk):
    survivor = register()
    duplicate = register()
    handlers.patients_merge(
        surviving_patient_id=survivor, duplicate_patient_id=duplicate, actor=desk
    )

    results = front_desk.get(PATIENTS, {"search": "testpatient"}).json()["results"]
    assert [r["patient_id"] for r in results] == [str(survivor)]


def test_a_search_is_required_so_nobody_pages_through_every_patient(front_desk, clinic_list):
    body = problem(front_desk.get(PATIENTS), 400)
    assert body["errors"] == {"search": ["This field is required."]}


@pytest.mark.parametrize(
    ("typed", "message"),
    [
        ("a", "at least 2 characters"),
        ("1984-13-45", "is not a date"),
        ("555-0134", "include the area code"),
        ("x" * 101, "at most 100 characters"),
        ("ab\x00cd", "Null characters are not allowed"),
    ],
)
def test_a_search_that_cannot_be_understood_is_a_400(front_desk, typed, message):
    body = problem(front_desk.get(PATIENTS, {"search": typed}), 400)
    assert list(body["errors"]) == ["search"]
    assert message in body["errors"]["search"][0]


def test_an_unknown_page_is_a_404_problem(front_desk, clinic_list):
    # Pages are reached by the cursor of a next or previous link; any other is unknown.
    problem(front_desk.get(PATIENTS, {"search": "okafor", "cursor": "bm90LWEtY3Vyc29y"}), 404)


def test_a_page_of_results_takes_a_bounded_number_of_queries(
    front_desk, register, django_assert_max_num_queries
):
    for n in range(30):
        register(first_name=f"Sam{n}", last_name="Bounded")

    # token, roles, count, page, audit rows (one insert)
    with django_assert_max_num_queries(5):
        assert len(front_desk.get(PATIENTS, {"search": "bounded"}).json()["results"]) == 25


def test_every_patient_listed_is_audited_and_an_empty_search_too(front_desk, clinic_list):
    front_desk.get(PATIENTS, {"search": "okafor"})
    front_desk.get(PATIENTS, {"search": "nobody-here"})

    rows = [(r.patient_id, r.outcome) for r in AccessLogEntry.objects.order_by("id")]
    assert rows == [
        (clinic_list["ada"], "search_match"),
        (clinic_list["adam"], "search_match"),
        (None, "no_match"),
    ]
