"""The churn projection and figures: a rebuild gives the live rows, and the months count who was
in care, who lapsed and who was left out the way a supervisor reads them."""

from __future__ import annotations

import datetime as dt

import pytest
from django.core.management import call_command
from django.test import override_settings

from crm import handlers
from crm.domain import events as ev
from crm.models import ChurnAppointment, ChurnContact, ChurnPatient
from crm.projections import runner
from crm.projections.churn import ChurnProjection
from crm.selectors.churn import churn_figures
from tests.crm import churn_story as story

NOW = dt.datetime(2026, 11, 3, 14, 0, tzinfo=dt.UTC)


def dump() -> dict[str, list[tuple[str, ...]]]:
    result = {}
    for model in ChurnProjection.read_models:
        fields = [f.name for f in model._meta.concrete_fields]
        rows = model._default_manager.order_by(fields[0]).values_list(*fields)
        result[model.__name__] = [tuple(str(v) for v in row) for row in rows]
    return result


def catch_up() -> None:
    runner.catch_up(ChurnProjection())


@pytest.mark.django_db
def test_rebuilding_the_churn_rows_in_any_batch_size_gives_the_live_rows_exactly():
    story.random_care(seed=20261206, patients=30)
    projection = ChurnProjection()
    runner.catch_up(projection, batch_size=7)  # small batches, as a busy follower sees them
    live = dump()

    call_command("rebuild_projections", "churn", "--no-progress", stdout=_Sink(), stderr=_Sink())
    rebuilt = dump()
    runner.rebuild(projection, batch_size=1000)

    assert len(live["ChurnPatient"]) == 30 and live["ChurnAppointment"] and live["ChurnContact"]
    assert any(row[3] != "None" for row in live["ChurnPatient"])  # someone merged
    assert rebuilt == live == dump()
    assert churn_figures(end=NOW.date(), now=NOW).as_dict()["months"]


@pytest.mark.django_db
def test_a_merge_moves_the_duplicates_care_to_the_survivor_and_counts_the_duplicate_apart():
    survivor, duplicate = story.patient(1), story.patient(2)
    story.visit(duplicate, dt.datetime(2026, 9, 1, 15, tzinfo=dt.UTC))
    catch_up()  # the duplicate's visit is stored before the merge arrives
    merged_at = dt.datetime(2026, 9, 20, 15, tzinfo=dt.UTC)
    handlers.patients_merge(
        surviving_patient_id=survivor,
        duplicate_patient_id=duplicate,
        actor=story.ACTOR,
        now=merged_at,
    )
    catch_up()

    assert set(ChurnAppointment.objects.values_list("patient_id", flat=True)) == {survivor}
    october = churn_figures(end=dt.date(2026, 10, 31), now=NOW).months[-1]
    assert october.total.in_care_at_start == 1
    assert october.left_out["merged"] == 1


@pytest.mark.django_db
def test_a_month_counts_who_was_in_care_at_its_start_and_who_lapsed_during_it():
    therapy = story.patient(1)
    story.visit(therapy, dt.datetime(2026, 6, 10, 15, tzinfo=dt.UTC))  # lapses Sep 8
    checked_in = story.patient(2, language="es")
    story.visit(checked_in, dt.datetime(2026, 6, 10, 15, tzinfo=dt.UTC))
    story.call(checked_in, dt.datetime(2026, 8, 20, 15, tzinfo=dt.UTC))  # lapses Nov 18
    booked = story.patient(3)
    story.visit(booked, dt.datetime(2026, 6, 10, 15, tzinfo=dt.UTC))
    story.visit(
        booked,
        dt.datetime(2026, 12, 1, 15, tzinfo=dt.UTC),
        booked=dt.timedelta(days=150),  # booked on Jul 4, still ahead: in care
        outcome="open",
    )
    no_answer = story.patient(4)
    story.visit(no_answer, dt.datetime(2026, 6, 10, 15, tzinfo=dt.UTC))
    story.call(no_answer, dt.datetime(2026, 8, 20, 15, tzinfo=dt.UTC), ev.CallDisposition.NO_ANSWER)
    died = story.patient(5)
    story.visit(died, dt.datetime(2026, 6, 10, 15, tzinfo=dt.UTC))
    handlers.patient_mark_deceased(
        patient_id=died,
        actor=story.ACTOR,
        now=dt.datetime(2026, 8, 1, 15, tzinfo=dt.UTC),
        occurred_at=dt.datetime(2026, 8, 1, 15, tzinfo=dt.UTC),
    )
    opted = story.patient(6)
    story.visit(opted, dt.datetime(2026, 6, 10, 15, tzinfo=dt.UTC))
    story.opt_out_of_everything(opted, dt.datetime(2026, 7, 1, 15, tzinfo=dt.UTC))
    catch_up()

    figures = churn_figures(end=NOW.date(), now=NOW)
    by_month = {f"{m.month:%Y-%m}": m for m in figures.months}
    september = by_month["2026-09"]
    assert (september.total.in_care_at_start, september.total.lapsed) == (4, 2)
    assert september.left_out == {"deceased": 1, "opted_out": 1}
    assert september.by_language["es"].in_care_at_start == 1
    assert september.by_language["es"].lapsed == 0
    assert september.by_visit_type["therapy"].lapsed == 2
    november = by_month["2026-11"]
    assert november.partial and november.total.in_care_at_start == 2
    assert november.total.lapsed == 0  # the Spanish speaker lapses on the 18th, still ahead
    assert by_month["2026-06"].total.in_care_at_start == 0
    assert figures.months[-1].month == dt.date(2026, 11, 1) and len(figures.months) == 12
    retention = by_month["2026-11"].total
    assert (retention.retention_base, retention.retained) == (0, 0)  # nobody in care a year ago


@pytest.mark.django_db
def test_the_lapse_days_come_from_the_settings_when_the_figures_are_read():
    therapy = story.patient(1)
    story.visit(therapy, dt.datetime(2026, 6, 10, 15, tzinfo=dt.UTC))
    catch_up()
    with override_settings(CHURN_LAPSE_DAYS={"therapy": 200, "other": 180}):
        assert churn_figures(end=NOW.date(), now=NOW).over_the_months.lapsed == 0
    assert churn_figures(end=NOW.date(), now=NOW).over_the_months.lapsed == 1


@pytest.mark.django_db
def test_opting_out_of_texts_alone_is_not_opting_out_of_everything():
    patient = story.patient(1)
    handlers.consent_revoke(
        patient_id=patient,
        channel=ev.Channel.SMS,
        source=ev.ConsentSource.SMS_KEYWORD,
        actor=story.ACTOR,
    )
    catch_up()
    assert ChurnPatient.objects.get(pk=patient).opted_out == []
    story.opt_out_of_everything(patient, NOW)
    catch_up()
    assert ChurnPatient.objects.get(pk=patient).opted_out == [[NOW.isoformat(), None]]
    assert ChurnContact.objects.count() == 0


class _Sink:
    def write(self, text: str) -> None:
        pass

    def flush(self) -> None:
        pass
