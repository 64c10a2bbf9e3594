"""I9 on PostgreSQL: a text is handed over at most once per reminder, even when a worker
is killed mid-dispatch, and none is lost. Real processes, real connections."""

from __future__ import annotations

import datetime as dt
import json
import os
import signal
import subprocess
import sys
import time
import uuid
from pathlib import Path

import pytest
from django.db import connection
from django.utils import timezone

from config.database import url_naming
from crm import eventstore, handlers
from crm.domain import events as ev
from crm.handlers import Actor
from crm.projections import runner
from fixtures.fake_twilio import ACCOUNT_SID, AUTH_TOKEN, FakeTwilio
from reminders.dispatch.claim import claim_batch
from reminders.dispatch.outbox import materialize_due
from reminders.models import MessageStatus, OutboundMessage
from tests.threads import together

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]

ROOT = Path(__file__).resolve().parents[2]
DESK = Actor(name="frontdesk.one", channel="admin", role="front_desk")
AREA_CODES = ("617", "312", "303", "415", "602", "212", "713", "206", "505", "404")


def phone_of(n: int) -> str:
    return f"+1{AREA_CODES[n // 100]}5550{100 + n % 100}"


def book_due_reminders(count: int) -> list[uuid.UUID]:
    """`count` patients, each with its own number, consent, and a visit whose 24-hour
    reminder is due now (booked yesterday, by the wall clock the worker will use)."""
    wall = timezone.now()
    yesterday = wall - dt.timedelta(days=1)
    patients = []
    for n in range(count):
        patient = handlers.patient_register(
            first_name=f"Sam{n}",
            last_name="Testpatient",
            date_of_birth=dt.date(1980, 1, 1),
            phone=phone_of(n),
            timezone_name="America/New_York",
            actor=DESK,
            now=yesterday,
            occurred_at=yesterday - dt.timedelta(days=1),
        ).patient_id
        handlers.consent_record(
            patient_id=patient,
            channel=ev.Channel.SMS,
            purpose=ev.ConsentPurpose.APPOINTMENT_REMINDERS,
            source=ev.ConsentSource.VERBAL,
            actor=DESK,
            occurred_at=yesterday,
        )
        handlers.appointment_schedule(
            patient_id=patient,
            appointment_type=ev.AppointmentType.THERAPY,
            starts_at=wall + dt.timedelta(hours=20),
            provider="Dr. Lee",
            location="Main St clinic",
            actor=DESK,
            now=yesterday,
            occurred_at=yesterday,
        )
        patients.append(patient)
    runner.catch_up(runner.registered()["reminders"])
    return patients


def sent_events(patient) -> list[ev.SmsSent]:
    return [r.event for r in eventstore.read_stream(patient) if isinstance(r.event, ev.SmsSent)]


@pytest.fixture
def reminder_settings(settings):
    settings.REMINDERS_OFFSETS_HOURS = (24,)
    settings.REMINDERS_OFFSETS_BY_KIND = {}
    settings.REMINDERS_SEND_WINDOW = (dt.time(0, 0), dt.time(23, 59))


def worker_database_url() -> str:
    """The test database, reached as DATABASE_URL says: password, socket host, options."""
    return url_naming(os.environ["DATABASE_URL"], connection.settings_dict["NAME"])


def worker(twilio: FakeTwilio) -> subprocess.Popen[str]:
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "config.test_settings",
        "DATABASE_URL": worker_database_url(),
        "SMS_BACKEND": "twilio",
        "TWILIO_API_BASE_URL": twilio.url,
        "TWILIO_ACCOUNT_SID": ACCOUNT_SID,
        "TWILIO_AUTH_TOKEN": AUTH_TOKEN,
        "TWILIO_MESSAGING_SERVICE_SID": "MG" + "1" * 32,
        # With SMS_BACKEND=twilio the worker refuses to start without the clinic's own.
        "CLINIC_SHORT_NAME": "Harbor Clinic",
        "CLINIC_PHONE": "+16175550100",
        "TWILIO_TIMEOUT_SECONDS": "1",
        "REMINDERS_SEND_LEASE_SECONDS": "6",
        "REMINDERS_OFFSETS_HOURS": "24",
        "REMINDERS_SEND_WINDOW": "00:00-23:59",
        "REMINDERS_BATCH_SIZE": "5",
    }
    return subprocess.Popen(
        [sys.executable, "manage.py", "send_due_reminders", "--loop", "--interval", "0.2"],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


_CONNECTION_SEEN = """
import json
from django.db import connection
with connection.cursor() as cursor:
    cursor.execute("SELECT current_database()")
    [database] = cursor.fetchone()
params = connection.get_connection_params()
print(json.dumps({key: str(params.get(key)) for key in ("user", "password", "host", "port")}
                 | {"database": database}))
"""


def test_the_worker_connects_as_the_tests_do_password_and_socket_host_included():
    probe = subprocess.run(
        [sys.executable, "manage.py", "shell", "-c", _CONNECTION_SEEN],
        cwd=ROOT,
        env={
            **os.environ,
            "DJANGO_SETTINGS_MODULE": "config.test_settings",
            "DATABASE_URL": worker_database_url(),
        },
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert probe.returncode == 0, probe.stderr
    ours = connection.get_connection_params()
    assert json.loads(probe.stdout.splitlines()[-1]) == {
        **{key: str(ours.get(key)) for key in ("user", "password", "host", "port")},
        "database": connection.settings_dict["NAME"],
    }


def wait_for(condition, timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.05)


def test_a_worker_killed_mid_dispatch_sends_nothing_twice_and_loses_nothing(
    reminder_settings,
):
    patients = book_due_reminders(24)
    with FakeTwilio() as twilio:
        first = worker(twilio)
        try:
            wait_for(lambda: twilio.count() >= 7, 60, "the first hand-overs")
            # The next text reaches Twilio, but its answer never gets back to the worker.
            twilio.stall()
            wait_for(twilio.stalled.is_set, 30, "a hand-over to stall")
            os.kill(first.pid, signal.SIGKILL)
            first.wait(timeout=10)
        finally:
            if first.poll() is None:
                first.kill()
            twilio.release()
        assert first.returncode == -signal.SIGKILL
        handed_over_before_restart = twilio.count()
        left_sending = OutboundMessage.objects.filter(status=MessageStatus.SENDING).count()
        assert 0 < handed_over_before_restart < len(patients)
        assert left_sending >= 1  # the stalled text at least: handed over, never recorded

        second = worker(twilio)
        try:
            wait_for(
                lambda: (
                    OutboundMessage.objects.filter(status=MessageStatus.SENT).count()
                    == len(patients)
                ),
                90,
                "every reminder to be recorded as sent",
            )
        finally:
            second.send_signal(signal.SIGTERM)
            out, err = second.communicate(timeout=30)

        assert "reconciled" in out, (out, err)
        for n, patient in enumerate(patients):
            assert twilio.count(to=phone_of(n)) == 1, (
                f"patient {n} got {twilio.count(to=phone_of(n))}"
            )
            (sent,) = sent_events(patient)
            assert sent.provider_message_id in twilio.sids()
        assert twilio.count() == len(patients)
        assert sorted(OutboundMessage.objects.values_list("provider_message_id", flat=True)) == (
            sorted(twilio.sids())
        )


def test_two_workers_claiming_at_once_never_take_the_same_reminder(reminder_settings):
    book_due_reminders(40)
    materialize_due(timezone.now())

    def claim(i: int) -> list[uuid.UUID]:
        mine: list[uuid.UUID] = []
        while True:
            selected, claims, _ = claim_batch(timezone.now(), batch_size=3)
            if not selected:
                return mine
            mine.extend(c.message_id for c in claims)

    claimed = together(4, claim)

    assert not [c for c in claimed if isinstance(c, Exception)], claimed
    every = [message for mine in claimed for message in mine]
    assert len(every) == len(set(every)) == 40
    assert sum(1 for mine in claimed if mine) >= 2  # they really did work side by side
