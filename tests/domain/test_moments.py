"""The one way a time is written for a person: in the patient's zone, labelled with the
zone's abbreviation, with the clinic's clock beside it when the two differ."""

from __future__ import annotations

import datetime as dt
import zoneinfo

import pytest

from crm.domain import moments

CHICAGO = zoneinfo.ZoneInfo("America/Chicago")
NEW_YORK = zoneinfo.ZoneInfo("America/New_York")
DETROIT = zoneinfo.ZoneInfo("America/Detroit")
PHOENIX = zoneinfo.ZoneInfo("America/Phoenix")
DENVER = zoneinfo.ZoneInfo("America/Denver")


def utc(year: int, month: int, day: int, hour: int, minute: int) -> dt.datetime:
    return dt.datetime(year, month, day, hour, minute, tzinfo=dt.UTC)


def test_a_chicago_patients_visit_reads_in_central_time_with_the_clinics_time_beside_it():
    visit = utc(2026, 11, 17, 18, 0)

    assert moments.moment(visit, CHICAGO, clinic=NEW_YORK) == (
        "Tue Nov 17, 2026, 12:00 PM CST (clinic: 1:00 PM EST)"
    )
    assert moments.moment(visit, CHICAGO) == "Tue Nov 17, 2026, 12:00 PM CST"
    assert moments.clinic_time(visit, CHICAGO, NEW_YORK) == "1:00 PM EST"


def test_a_patient_in_the_clinics_zone_reads_one_time_only():
    assert moments.moment(utc(2026, 11, 17, 14, 30), NEW_YORK, clinic=NEW_YORK) == (
        "Tue Nov 17, 2026, 9:30 AM EST"
    )


def test_another_zone_whose_clock_reads_the_same_adds_nothing():
    # Detroit keeps New York's time; Phoenix (no daylight time) reads Denver's in winter.
    assert moments.clinic_time(utc(2026, 11, 17, 14, 30), DETROIT, NEW_YORK) == ""
    assert moments.clinic_time(utc(2026, 1, 5, 18, 0), PHOENIX, DENVER) == ""
    assert moments.clinic_time(utc(2026, 7, 1, 18, 0), PHOENIX, DENVER) == "12:00 PM MDT"


def test_the_clinics_time_names_its_day_when_that_is_another_day():
    late_evening_in_los_angeles = utc(2026, 11, 18, 5, 30)
    zone = zoneinfo.ZoneInfo("America/Los_Angeles")

    assert moments.moment(late_evening_in_los_angeles, zone, clinic=NEW_YORK) == (
        "Tue Nov 17, 2026, 9:30 PM PST (clinic: Wed Nov 18, 12:30 AM EST)"
    )
    new_years_eve = utc(2027, 1, 1, 5, 30)
    assert moments.moment(new_years_eve, CHICAGO, clinic=NEW_YORK) == (
        "Thu Dec 31, 2026, 11:30 PM CST (clinic: Fri Jan 1, 2027, 12:30 AM EST)"
    )


@pytest.mark.parametrize(
    ("instant", "shown"),
    [
        # Spring forward, Sunday Mar 8 2026: 1:59 AM CST is followed by 3:00 AM CDT.
        (utc(2026, 3, 8, 7, 59), "Sun Mar 8, 2026, 1:59 AM CST"),
        (utc(2026, 3, 8, 8, 0), "Sun Mar 8, 2026, 3:00 AM CDT"),
        # Fall back, Sunday Nov 1 2026: 1:30 AM happens twice, told apart by the label.
        (utc(2026, 11, 1, 6, 30), "Sun Nov 1, 2026, 1:30 AM CDT"),
        (utc(2026, 11, 1, 7, 30), "Sun Nov 1, 2026, 1:30 AM CST"),
    ],
)
def test_the_label_tells_daylight_time_from_standard_time_across_the_change(instant, shown):
    assert moments.moment(instant, CHICAGO) == shown


def test_on_the_night_the_clocks_change_the_clinic_time_follows_its_own_rule():
    # Both zones change at 2 AM local, an hour apart. At 5:30 UTC Chicago (CDT) is an
    # hour behind New York (EDT); at 6:30 New York has fallen back to EST and both clocks
    # read 1:30 AM, so nothing is added; at 7:30 Chicago has fallen back too.
    assert moments.moment(utc(2026, 11, 1, 5, 30), CHICAGO, clinic=NEW_YORK) == (
        "Sun Nov 1, 2026, 12:30 AM CDT (clinic: 1:30 AM EDT)"
    )
    assert moments.moment(utc(2026, 11, 1, 6, 30), CHICAGO, clinic=NEW_YORK) == (
        "Sun Nov 1, 2026, 1:30 AM CDT"
    )
    assert moments.moment(utc(2026, 11, 1, 7, 30), CHICAGO, clinic=NEW_YORK) == (
        "Sun Nov 1, 2026, 1:30 AM CST (clinic: 2:30 AM EST)"
    )
    # Europe changed a week earlier: on Oct 28 London is an hour closer to New York.
    london = zoneinfo.ZoneInfo("Europe/London")
    assert moments.clinic_time(utc(2026, 10, 28, 15, 0), london, NEW_YORK) == "11:00 AM EDT"
    assert moments.clinic_time(utc(2026, 11, 4, 15, 0), london, NEW_YORK) == "10:00 AM EST"


@pytest.mark.parametrize("name", ["", None, "Mars/Olympus_Mons", "../etc/passwd", "America"])
def test_an_unknown_or_empty_zone_reads_as_the_clinics(name):
    assert moments.zone_named(name, "America/New_York") == NEW_YORK
    shown = moments.moment(utc(2026, 11, 17, 18, 0), moments.zone_named(name, "America/New_York"))
    assert shown == "Tue Nov 17, 2026, 1:00 PM EST"


def test_a_known_zone_is_kept():
    assert moments.zone_named("America/Chicago", "America/New_York") == CHICAGO


def test_days_and_clock_read_as_on_every_screen():
    assert moments.day(dt.date(1984, 5, 17)) == "May 17, 1984"
    assert moments.local_day(utc(2026, 11, 18, 3, 0), CHICAGO) == "Tue Nov 17, 2026"
    assert moments.clock(dt.time(0, 5)) == "12:05 AM"
    assert moments.clock(dt.time(12, 0)) == "12:00 PM"
    assert moments.clock(dt.time(23, 59)) == "11:59 PM"


def test_a_text_in_spanish_reads_the_day_and_the_24_hour_clock():
    local = utc(2026, 11, 17, 20, 5).astimezone(CHICAGO)

    assert moments.date(local, "es") == "mar 17 nov"
    assert moments.clock(local, "es") == "14:05"
    assert moments.date(local, "fr") == "Tue Nov 17"  # no words of its own: English


def test_a_time_at_the_calendars_edge_is_shown_as_stored():
    edge = dt.datetime(1, 1, 1, 0, 0, tzinfo=dt.UTC)

    assert moments.moment(edge, CHICAGO, clinic=NEW_YORK) == "Mon Jan 1, 1, 12:00 AM UTC"
