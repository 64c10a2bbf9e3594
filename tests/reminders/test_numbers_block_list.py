"""The number-level block list: opted out, opted out at the carrier, held for a review."""

from __future__ import annotations

import datetime as dt
import itertools
import random
import uuid

import pytest

from crm import handlers
from crm.domain import events as ev
from crm.domain.recorded import RecordedEvent
from crm.projections import runner
from reminders.domain.numbers import Book, number_stream_id
from reminders.handlers.inbound import InboundSms, sms_receive
from reminders.models import SmsNumber, SmsNumberHold
from reminders.projections.numbers import SmsNumbersProjection, blocked_reason, blocked_reasons
from tests.reminders.sms_webhook import new_sid, resolve_stop_review

HOME = "+16175550134"
WORK = "+16175550135"
STRANGER = "+16175550199"


def texted(phone: str, body: str, at: dt.datetime) -> None:
    sms_receive(
        sms=InboundSms(provider_message_id=new_sid(), from_number=phone, body=body, received_at=at),
        now=at,
    )


def projection() -> SmsNumbersProjection:
    return runner.registered()["sms_numbers"]  # type: ignore[return-value]


def rows() -> tuple[list[tuple[str, ...]], list[tuple[str, ...]]]:
    numbers = [
        tuple(str(v) for v in row)
        for row in SmsNumber.objects.order_by("phone").values_list(
            "phone", "opted_out", "opted_out_at", "opt_out_source", "opt_out_keyword", "opted_in_at"
        )
    ]
    holds = [
        tuple(str(v) for v in row)
        for row in SmsNumberHold.objects.order_by("phone", "held_for").values_list(
            "phone", "held_for", "since", "message_id"
        )
    ]
    return numbers, holds


@pytest.mark.django_db
def test_a_number_nobody_blocked_has_no_reason(clinic):
    clinic.patient(phone="(617) 555-0134")

    assert blocked_reasons([HOME, WORK]) == {}
    assert blocked_reasons([]) == {}
    assert blocked_reason(HOME) is None


@pytest.mark.django_db
def test_the_carriers_unsubscribe_blocks_the_number_but_a_spoken_revocation_does_not(
    clinic, actor, now
):
    patient = clinic.patient(phone="(617) 555-0134")
    colleague = clinic.patient(phone="(617) 555-0135")
    handlers.consent_revoke(
        patient_id=colleague,
        channel=ev.Channel.SMS,
        source=ev.ConsentSource.VERBAL,
        actor=actor,
        occurred_at=now,
    )
    handlers.consent_revoke(
        patient_id=patient,
        channel=ev.Channel.SMS,
        source=ev.ConsentSource.CARRIER,
        actor=actor,
        occurred_at=now,
    )

    reasons = blocked_reasons([HOME, WORK])

    assert list(reasons) == [HOME]  # the verbal one is the patient's consent, not the number's
    assert reasons[HOME] == (
        "The number opted out on 03 Nov 2026: the carrier reported it unsubscribed "
        "(Twilio error 21610). No texts until it texts START."
    )


@pytest.mark.django_db
def test_the_reason_says_when_and_how_the_number_opted_out(clinic, now):
    clinic.patient(phone="(617) 555-0134")

    texted(HOME, "Quit", now)

    assert blocked_reason(HOME) == (
        "The number opted out on 03 Nov 2026: it texted QUIT. No texts until it texts START."
    )


@pytest.mark.django_db
def test_a_hold_follows_the_patient_when_their_record_is_merged(clinic, actor, now):
    duplicate = clinic.patient(phone="(617) 555-0134")
    survivor = clinic.patient(phone="(617) 555-0135")
    texted(HOME, "please stop texting me", now)
    handlers.patients_merge(
        surviving_patient_id=survivor, duplicate_patient_id=duplicate, actor=actor, now=now
    )
    assert blocked_reason(HOME) is not None

    # The review suggestion now sits on the surviving record; resolving it there releases.
    resolve_stop_review(survivor, dismissed=True, at=now + dt.timedelta(hours=1))

    assert blocked_reason(HOME) is None
    runner.catch_up(projection())
    assert blocked_reason(HOME) is None
    assert SmsNumberHold.objects.count() == 0


@pytest.mark.django_db
def test_the_projection_and_the_logs_tail_give_the_same_answer_at_every_checkpoint(clinic, now):
    clinic.patient(phone="(617) 555-0134")
    patient = clinic.patient(phone="(617) 555-0135")
    steps = [
        (HOME, "STOP"),
        (WORK, "don't text me anymore"),
        (STRANGER, "stop texting me"),
        (HOME, "START"),
        (STRANGER, "UNSUBSCRIBE"),
        (HOME, "no more messages"),
    ]
    for minutes, (phone, body) in enumerate(steps):
        texted(phone, body, now + dt.timedelta(minutes=minutes))
    resolve_stop_review(patient, dismissed=False, at=now + dt.timedelta(hours=1))
    expected = blocked_reasons([HOME, WORK, STRANGER])  # all from the tail: nothing projected
    assert sorted(expected) == [HOME, STRANGER]

    while runner.run_once(projection(), batch_size=1):
        assert blocked_reasons([HOME, WORK, STRANGER]) == expected

    assert runner.checkpoint_of("sms_numbers") > 0
    assert SmsNumberHold.objects.filter(phone=HOME).count() == 1  # "no more messages"
    assert SmsNumberHold.objects.filter(phone=WORK).count() == 0  # the review released it


@pytest.mark.django_db
def test_rebuilding_the_block_list_reproduces_the_live_rows(clinic, actor, now):
    patients = [clinic.patient(phone=f"(617) 555-01{n:02d}") for n in range(30, 36)]
    phones = [f"+161755501{n:02d}" for n in range(30, 37)]  # the last one is nobody's
    bodies = ["STOP", "START", "please stop texting me", "HELP", "cancel", "yes", "C", "hi"]
    rng = random.Random(20261103)
    clock = itertools.count()
    for _ in range(60):
        at = now + dt.timedelta(minutes=next(clock))
        roll = rng.random()
        if roll < 0.75:
            texted(rng.choice(phones), rng.choice(bodies), at)
        elif roll < 0.9:
            resolve_stop_review(rng.choice(patients), dismissed=rng.random() < 0.5, at=at)
        else:
            handlers.consent_revoke(
                patient_id=rng.choice(patients),
                channel=ev.Channel.SMS,
                source=ev.ConsentSource.CARRIER,
                actor=actor,
                occurred_at=at,
            )
        if rng.random() < 0.2:
            runner.run_once(projection(), batch_size=rng.randint(1, 7))
    answer_before = blocked_reasons(phones)
    runner.catch_up(projection())
    live = rows()
    assert blocked_reasons(phones) == answer_before

    runner.rebuild(projection(), batch_size=5)

    assert rows() == live
    assert blocked_reasons(phones) == answer_before
    assert live[0] or live[1]  # the history did block something


# --- the rules, without a database --------------------------------------------------------

_T0 = dt.datetime(2026, 11, 3, 14, 0, tzinfo=dt.UTC)
ALICE, BO = uuid.uuid4(), uuid.uuid4()
REVIEW = "sms_stop_review"
CARRIER = ev.ConsentSource.CARRIER
VERBAL = ev.ConsentSource.VERBAL
REMINDERS = ev.ConsentPurpose.APPOINTMENT_REMINDERS


def _at(position: int, stream: uuid.UUID, event: ev.DomainEvent) -> RecordedEvent:
    return RecordedEvent(
        position=position,
        stream_id=stream,
        version=position,
        event=event,
        occurred_at=_T0 + dt.timedelta(minutes=position),
        recorded_at=_T0 + dt.timedelta(minutes=position),
    )


def _stop_request(phone: str) -> ev.SmsReceived:
    return ev.SmsReceived(
        message_id=uuid.uuid4(),
        from_number=phone,
        body="stop texting me",
        intent=ev.SmsIntent.STOP_REQUEST,
    )


def _history() -> list[RecordedEvent]:
    events: list[tuple[uuid.UUID, ev.DomainEvent]] = [
        (ALICE, _stop_request(HOME)),
        (BO, _stop_request(HOME)),
        (number_stream_id(WORK), ev.SmsNumberOptedOut(phone=WORK, keyword="STOP")),
        (ALICE, ev.SuggestionDismissed(suggestion_id="s1", kind=REVIEW, reason="x", agent="a")),
        (number_stream_id(WORK), ev.SmsNumberOptedIn(phone=WORK, keyword="START")),
        (ALICE, ev.ConsentRevoked(channel=ev.Channel.SMS, source=CARRIER, phone=HOME)),
        (number_stream_id(STRANGER), _stop_request(STRANGER)),
        (ALICE, ev.PatientsMerged(merged_patient_id=BO, merged_by="frontdesk")),
        (ALICE, ev.SuggestionCompleted(suggestion_id="s2", kind=REVIEW, outcome="ok", agent="a")),
        (number_stream_id(HOME), ev.SmsNumberOptedIn(phone=HOME, keyword="UNSTOP")),
        (BO, _stop_request(WORK)),
        (ALICE, _stop_request(WORK)),
        (BO, ev.ConsentRecorded(channel=ev.Channel.SMS, purpose=REMINDERS, source=VERBAL)),
    ]  # fmt: skip
    return [_at(i + 1, stream, event) for i, (stream, event) in enumerate(events)]


def _snapshot(book: Book) -> dict[str, tuple[object, ...]]:
    return {
        phone: (s.opted_out, s.opted_out_at, s.opt_out_source, s.opted_in_at, sorted(s.holds))
        for phone, s in book.numbers.items()
    }


def test_replaying_part_of_the_tail_over_a_read_model_that_has_it_changes_nothing() -> None:
    history = _history()
    whole = Book()
    for recorded in history:
        whole.apply(recorded)
    for projected in range(len(history) + 1):
        for checkpoint in range(projected + 1):
            # The read model is at `projected`, but we read the checkpoint earlier.
            book = Book()
            for recorded in history[:projected]:
                book.apply(recorded)
            for recorded in history[checkpoint:]:
                book.apply(recorded)
            assert _snapshot(book) == _snapshot(whole), (projected, checkpoint)


def test_the_rules_read_the_history_as_a_person_would() -> None:
    book = Book()
    history = _history()
    for recorded in history[:2]:
        book.apply(recorded)
    assert sorted(book.status(HOME).holds) == sorted([str(ALICE), str(BO)])
    book.apply(history[2])
    assert book.status(WORK).opted_out
    book.apply(history[3])  # Alice's review: Bo's hold stays
    assert list(book.status(HOME).holds) == [str(BO)]
    book.apply(history[4])
    assert not book.status(WORK).opted_out
    for recorded in history[5:8]:
        book.apply(recorded)
    assert book.status(HOME).opt_out_source == "carrier"
    assert list(book.status(HOME).holds) == [str(ALICE)]  # Bo was merged into Alice
    assert list(book.status(STRANGER).holds) == [""]  # held for nobody: START lifts it
    book.apply(history[8])
    assert book.status(HOME).holds == {}
    book.apply(history[9])
    assert not book.status(HOME).opted_out
    for recorded in history[10:12]:
        book.apply(recorded)
    assert sorted(book.status(WORK).holds) == sorted([str(ALICE), str(BO)])
    book.apply(history[12])  # staff recorded Bo's consent again: Bo's hold is settled
    assert list(book.status(WORK).holds) == [str(ALICE)]
