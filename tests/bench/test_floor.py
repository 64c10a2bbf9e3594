"""The commands benchmark's floor sends the product's own statements, and only to its scratch
copies of the log and the profiles (bench.floor)."""

from __future__ import annotations

import datetime as dt
import os

import pytest
from django.db import connection

from bench import floor
from config.database import url_naming
from crm import handlers
from crm.domain import events as ev
from crm.eventstore import postgres
from crm.models import Event, PatientProfile
from crm.projections import profile

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


def _scratch(sql: str) -> list[tuple[object, ...]]:
    with connection.cursor() as cursor:
        cursor.execute(sql)
        return list(cursor.fetchall())


def test_the_floor_appends_the_products_rows_to_its_copies_and_leaves_the_log_alone(
    register, actor, now
):
    patients = [register(phone=f"(617) 555-01{n:02d}") for n in (41, 42)]
    handlers.call_log(
        patient_id=patients[0],
        direction=ev.CallDirection.INBOUND,
        started_at=now - dt.timedelta(hours=1),
        duration_seconds=120,
        disposition=ev.CallDisposition.CONNECTED,
        actor=actor,
        now=now,
    )
    before = {p: Event.objects.filter(stream_id=p).count() for p in patients}
    profiles = {p.patient_id: p.version for p in PatientProfile.objects.all()}
    url = url_naming(os.environ["DATABASE_URL"], connection.settings_dict["NAME"])

    floor.prepare(url, [str(p) for p in patients])
    try:
        command = floor.statements(url, tuple(str(p) for p in patients))
        for _ in range(6):
            assert command() == "call_log"
        copied = dict(
            _scratch(f"SELECT stream_id, max(version) FROM {floor.EVENTS} GROUP BY stream_id")
        )
        counted = _scratch(f"SELECT count(*), count(DISTINCT position) FROM {floor.EVENTS}")
        kept = dict(_scratch(f"SELECT patient_id, version FROM {floor.PROFILES}"))
        calls = _scratch(f"SELECT count(*) FROM {floor.EVENTS} WHERE event_type = 'CallLogged'")
    finally:
        floor.drop(url)

    # Six appends on the copies, versions and positions unbroken, profiles following.
    assert sum(copied.values()) == sum(before.values()) + 6
    assert counted[0][0] == counted[0][1] == sum(copied.values())
    assert kept == copied
    assert calls[0][0] == 1 + 6
    # The product's log and profiles are as they were.
    assert {p: Event.objects.filter(stream_id=p).count() for p in patients} == before
    assert {p.patient_id: p.version for p in PatientProfile.objects.all()} == profiles
    assert not _scratch(
        f"SELECT 1 FROM pg_tables WHERE tablename IN ('{floor.EVENTS}', '{floor.PROFILES}')"
    )


def test_the_floors_statements_are_the_products_on_the_scratch_tables():
    insert = floor.scratch(postgres._insert_sql(1, postgres.APPEND_LOCK))
    upsert = floor.scratch(profile._UPSERT_SQL)

    assert insert == postgres._insert_sql(1, postgres.APPEND_LOCK).replace(
        "INTO crm_event ", f"INTO {floor.EVENTS} "
    )
    assert f"pg_notify('{postgres.EVENTS_CHANNEL}'" in insert  # the channel is not a table
    assert upsert == profile._UPSERT_SQL.replace("crm_patient_profile", floor.PROFILES)
    assert floor.scratch(postgres.STREAM_FROM_SQL).endswith(
        f"FROM {floor.EVENTS} WHERE stream_id = %s AND version >= %s ORDER BY version"
    )
