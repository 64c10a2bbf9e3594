"""Random clinic days for property tests: a Hypothesis strategy of steps, and a player that
runs each step through the real command handlers (crm, the suggestion queue, inbound SMS)."""

from __future__ import annotations

import contextlib
import dataclasses
import datetime as dt
import uuid
from collections.abc import Callable, Sequence
from typing import TypeVar

from hypothesis import strategies as st

from crm import handlers
from crm.domain import events as ev
from crm.domain.errors import DomainError
from crm.eventstore import IdempotencyKeyReused
from crm.handlers import Actor
from crm.projections import runner
from engagement import handlers as queue
from engagement.models import Suggestion
from reminders.backends.locmem import LocmemBackend
from reminders.dispatch import dispatch_due
from reminders.handlers.inbound import InboundSms, sms_receive

T = TypeVar("T")
AGENT = Actor(name="agent.hypothesis", channel="api", role="agent")
START = dt.datetime(2026, 3, 2, 14, 0, tzinfo=dt.UTC)  # a Monday, 09:00 in New York
# Few numbers for many patients: households share a phone, and so do their texts.
PHONES = [f"+1617555{n:04d}" for n in range(100, 106)]
REPLIES = ["C", "R", "STOP", "please stop texting me", "START", "HELP", "4", "Is 3pm ok?"]
NAMES = ["Rowan", "Zoë", "Nguyễn", "O'Brien", "李", "Anne-Marie", "José", "Ngozi"]
ZONES = ["", "America/New_York", "America/Los_Angeles", "Pacific/Honolulu", "Europe/Madrid"]
OUTCOMES = ["reached", "not_reached", "keeps_texts", "opted_out", "Booked a visit"]

# What people type: any letter, mark, digit, punctuation, symbol or space (emoji included);
# the API refuses control characters, NUL and lone surrogates at the door.
_typed = st.characters(categories=("L", "M", "N", "P", "S", "Zs"))
words = st.text(_typed, min_size=1, max_size=60)


@dataclasses.dataclass(frozen=True, slots=True)
class Step:
    """Names its patient, visit, test or suggestion by an index into what exists when it
    runs, so Hypothesis can shrink a failing day to the few steps that matter."""

    command: str
    minutes: int  # the clinic's clock moves on this much first
    who: int  # the patient (an index)
    what: int  # a second patient, a visit, a test or a suggestion (an index)
    pick: int  # which variant: a phone, a reply, a disposition...
    amount: int  # hours ahead, seconds on the phone...
    text: str
    retried: bool  # sent twice with one idempotency key, as a client retrying would


def steps(*, min_size: int = 20, max_size: int = 40) -> st.SearchStrategy[list[Step]]:
    # Bookings, texts and the followers running come up more often than deaths and merges.
    often = ["schedule", "schedule", "text_in", "call", "catch_up"]
    step = st.builds(
        Step,
        command=st.sampled_from([*sorted(COMMANDS), *often]),
        minutes=st.integers(0, 3 * 24 * 60),
        who=st.integers(0, 1000),
        what=st.integers(0, 1000),
        pick=st.integers(0, 1000),
        amount=st.integers(0, 1000),
        text=words,
        retried=st.booleans(),
    )
    # A day starts with a few registrations, so later steps have someone to act on.
    first = st.lists(
        st.builds(Step, command=st.just("register"), **_rest()), min_size=2, max_size=5
    )
    return st.tuples(first, st.lists(step, min_size=min_size, max_size=max_size)).map(
        lambda t: t[0] + t[1]
    )


def _rest() -> dict[str, st.SearchStrategy[object]]:
    ints = st.integers(0, 1000)
    return dict(
        minutes=st.integers(0, 60),
        who=ints,
        what=ints,
        pick=ints,
        amount=ints,
        text=words,
        retried=st.just(False),
    )


def _of(values: Sequence[T], index: int) -> T:
    return values[index % len(values)]


class Player:
    """Plays steps on a fresh database; remembers what it created, by index."""

    def __init__(self) -> None:
        self.now = START
        self.patients: list[uuid.UUID] = []
        self.visits: dict[uuid.UUID, list[uuid.UUID]] = {}
        self.tests: dict[uuid.UUID, list[uuid.UUID]] = {}
        self.calls: dict[uuid.UUID, list[uuid.UUID]] = {}
        self.texts = 0
        self.keys = 0

    def play(self, script: list[Step]) -> None:
        for step in script:
            self.now += dt.timedelta(minutes=step.minutes)
            # A refusal is part of the day, as in the clinic.
            with contextlib.suppress(DomainError, IdempotencyKeyReused):
                COMMANDS[step.command](self, step)

    def patient(self, step: Step, index: int | None = None) -> uuid.UUID:
        return self.patients[(step.who if index is None else index) % len(self.patients)]

    def command(self, step: Step, handler: Callable[..., object], **arguments: object) -> object:
        """Run a crm command (twice, with one key, when the step is a retry)."""
        if not step.retried:
            return handler(actor=AGENT, **arguments)
        self.keys += 1
        key = f"retry-{self.keys}"
        first = handler(actor=AGENT, idempotency_key=key, **arguments)
        again = handler(actor=AGENT, idempotency_key=key, **arguments)
        assert again.duplicate and again.events == first.events  # type: ignore[attr-defined]
        return first


# --- the steps ---------------------------------------------------------------------------------


def _register(p: Player, s: Step) -> None:
    phone = None if s.pick % 7 == 0 else _of(PHONES, s.pick)
    patient_id = uuid.UUID(int=len(p.patients) + 1)
    handlers.patient_register(
        patient_id=patient_id,
        first_name=_of(NAMES, s.who),
        last_name=s.text.strip() or "Testpatient",
        date_of_birth=dt.date(1930 + s.amount % 90, 1 + s.what % 12, 1 + s.what % 28),
        phone=phone,
        language=_of(["en", "es", "pt-BR", "vi"], s.what),
        timezone_name=_of(ZONES, s.amount),
        actor=AGENT,
        now=p.now,
        occurred_at=p.now,
    )
    p.patients.append(patient_id)
    if phone is not None and s.amount % 3:  # most agree to reminders by text at the desk
        handlers.consent_record(
            patient_id=patient_id,
            channel=ev.Channel.SMS,
            purpose=ev.ConsentPurpose.APPOINTMENT_REMINDERS,
            source=ev.ConsentSource.VERBAL,
            actor=AGENT,
            occurred_at=p.now,
        )


def _contact_details(p: Player, s: Step) -> None:
    p.command(
        s,
        handlers.contact_details_change,
        patient_id=p.patient(s),
        phone=None if s.pick % 9 == 0 else _of(PHONES, s.pick),
        email=f"patient{s.amount}@example.org" if s.amount % 2 else "",
        timezone_name=_of(ZONES, s.what),
        occurred_at=p.now,
    )


def _demographics(p: Player, s: Step) -> None:
    p.command(
        s,
        handlers.demographics_change,
        patient_id=p.patient(s),
        first_name=_of(NAMES, s.pick),
        last_name=s.text.strip() or "Testpatient",
        preferred_name=_of(["", "Ro", "Pepe"], s.what),
        date_of_birth=dt.date(1930 + s.amount % 90, 6, 15),
        language=_of(["en", "es"], s.what),
        now=p.now,
        occurred_at=p.now,
    )


def _consent(p: Player, s: Step) -> None:
    channel = _of([ev.Channel.SMS, ev.Channel.SMS, ev.Channel.VOICE, ev.Channel.EMAIL], s.pick)
    purpose = _of(list(ev.ConsentPurpose), s.what)
    source = _of([ev.ConsentSource.VERBAL, ev.ConsentSource.WRITTEN], s.amount)
    common = {"patient_id": p.patient(s), "channel": channel, "source": source}
    if s.amount % 4:
        p.command(s, handlers.consent_record, purpose=purpose, occurred_at=p.now, **common)
    else:
        everything = s.what % 3 == 0
        p.command(
            s,
            handlers.consent_revoke,
            purpose=None if everything else purpose,
            occurred_at=p.now,
            **common,
        )


def _call(p: Player, s: Step) -> None:
    disposition = _of(list(ev.CallDisposition), s.pick)
    seconds = 0 if disposition is ev.CallDisposition.ABANDONED else s.amount
    patient_id = p.patient(s)
    call_id = uuid.UUID(int=(2 << 64) + sum(map(len, p.calls.values())) + 1)
    p.calls.setdefault(patient_id, []).append(call_id)
    p.command(
        s,
        handlers.call_log,
        patient_id=patient_id,
        call_id=call_id,
        direction=_of(list(ev.CallDirection), s.what),
        channel=_of([ev.Channel.VOICE, ev.Channel.VOICE, ev.Channel.SMS, ev.Channel.CHAT], s.what),
        started_at=p.now - dt.timedelta(seconds=seconds),
        duration_seconds=seconds,
        hold_seconds=seconds // 4,
        disposition=disposition,
        reason=s.text if s.pick % 3 else "",
        resolved_first_contact=disposition is ev.CallDisposition.CONNECTED and s.what % 2 == 0,
        now=p.now,
    )


def _wrap_up(p: Player, s: Step) -> None:
    """An agent's wrap-up of a logged call (or a correction of the last one)."""
    patient_id = p.patient(s)
    calls = p.calls.get(patient_id)
    if not calls:
        return
    code = _of(["", "billing", "other", "appointment"], s.what)
    p.command(
        s,
        handlers.call_wrap_up,
        patient_id=patient_id,
        call_id=_of(calls, s.pick),
        reason_code=code,
        reason=s.text if code == "other" else "",
        resolved_first_contact=s.amount % 2 == 0,
        wrap_up_seconds=s.amount % 300,
        occurred_at=p.now,
    )


def _note(p: Player, s: Step) -> None:
    p.command(
        s,
        handlers.note_add,
        patient_id=p.patient(s),
        text=s.text,
        restricted=s.pick % 3 == 0,
        occurred_at=p.now,
    )


def _schedule(p: Player, s: Step) -> None:
    patient_id = p.patient(s)
    visit = uuid.UUID(int=(1 << 64) + sum(map(len, p.visits.values())) + 1)
    p.command(
        s,
        handlers.appointment_schedule,
        patient_id=patient_id,
        appointment_id=visit,
        appointment_type=_of(list(ev.AppointmentType), s.pick),
        modality=_of(list(ev.Modality), s.what),
        starts_at=p.now + dt.timedelta(hours=1 + s.amount % (24 * 14)),
        duration_minutes=_of([15, 30, 50, 90], s.what),
        provider=_of(["Dr. Lee", "Dr. Okafor", "Dr. Fernhurst"], s.pick),
        location=s.text,
        now=p.now,
        occurred_at=p.now,
    )
    p.visits.setdefault(patient_id, []).append(visit)


def _visit(p: Player, s: Step) -> tuple[uuid.UUID, uuid.UUID] | None:
    patient_id = p.patient(s)
    visits = p.visits.get(patient_id)
    return (patient_id, visits[s.what % len(visits)]) if visits else None


def _visit_step(kind: str) -> Callable[[Player, Step], None]:
    def run(p: Player, s: Step) -> None:
        target = _visit(p, s)
        if target is None:
            return
        patient_id, visit = target
        common = {"patient_id": patient_id, "appointment_id": visit, "occurred_at": p.now}
        if kind == "reschedule":
            moved = p.now + dt.timedelta(hours=1 + s.amount % (24 * 10))
            p.command(s, handlers.appointment_reschedule, starts_at=moved, now=p.now, **common)
        elif kind == "confirm":
            via = _of([ev.Channel.VOICE, ev.Channel.SMS], s.pick)
            p.command(s, handlers.appointment_confirm, via=via, now=p.now, **common)
        elif kind == "cancel":
            by = _of(list(ev.CancelledBy), s.pick)
            p.command(s, handlers.appointment_cancel, cancelled_by=by, reason=s.text, **common)
        elif kind == "complete":
            p.command(s, handlers.appointment_complete, now=p.now, **common)
        else:
            p.command(s, handlers.appointment_no_show, now=p.now, **common)

    return run


def _lab_test(p: Player, s: Step) -> None:
    patient_id = p.patient(s)
    ordered = p.tests.setdefault(patient_id, [])
    if ordered and s.pick % 2:
        test_id = ordered[s.what % len(ordered)]
        p.command(s, handlers.lab_test_complete, patient_id=patient_id, test_id=test_id)
        return
    test_id = uuid.UUID(int=(2 << 64) + sum(map(len, p.tests.values())) + 1)
    p.command(
        s,
        handlers.lab_test_order,
        patient_id=patient_id,
        test_id=test_id,
        test_name=_of(["HbA1c", "Lipid panel", "PHQ-9"], s.what),
        due_by=(p.now + dt.timedelta(days=s.amount % 60)).date(),
        now=p.now,
        occurred_at=p.now,
    )
    ordered.append(test_id)


def _crisis(p: Player, s: Step) -> None:
    if s.pick % 4 == 0:
        p.command(
            s, handlers.crisis_flag_clear, patient_id=p.patient(s), reason=s.text, occurred_at=p.now
        )
        return
    p.command(
        s,
        handlers.crisis_contact_record,
        patient_id=p.patient(s),
        risk_level=_of(list(ev.RiskLevel), s.pick),
        handoff=_of(list(ev.CrisisHandoff), s.what),
        safety_plan=_of(list(ev.SafetyPlan), s.amount),
        summary=s.text,
        occurred_at=p.now,
    )


def _text_in(p: Player, s: Step) -> None:
    """A text from one of the shared numbers (a household's, or nobody's yet)."""
    p.texts += 1
    body = s.text if s.pick % 9 == 8 else _of(REPLIES, s.pick)
    sms = InboundSms(
        provider_message_id=f"SM{p.texts:032x}",
        from_number=_of(PHONES, s.what),
        body=body,
        received_at=p.now,
    )
    sms_receive(sms=sms, now=p.now)
    if s.retried:  # the provider retrying its webhook
        sms_receive(sms=sms, now=p.now)


def _death(p: Player, s: Step) -> None:
    p.command(
        s,
        handlers.patient_mark_deceased,
        patient_id=p.patient(s),
        date_of_death=p.now.date() if s.pick % 2 else None,
        now=p.now,
        occurred_at=p.now,
    )


def _merge(p: Player, s: Step) -> None:
    survivor, duplicate = p.patient(s), p.patient(s, s.what)
    handlers.patients_merge(
        surviving_patient_id=survivor, duplicate_patient_id=duplicate, actor=AGENT, now=p.now
    )


def _reminders_go_out(p: Player, s: Step) -> None:
    dispatch_due(now=p.now, backend=LocmemBackend())


def _work_the_queue(p: Player, s: Step) -> None:
    runner.catch_up(runner.registered()["suggestions"])
    open_ones = list(Suggestion.objects.order_by("suggestion_id"))
    if not open_ones:
        return
    row = open_ones[s.what % len(open_ones)]
    common = {"patient_id": row.patient_id, "suggestion_id": row.suggestion_id, "now": p.now}
    action = s.pick % 5
    if action == 0:
        p.command(s, queue.suggestion_claim, **common)
    elif action == 1:
        p.command(s, queue.suggestion_release, **common)
    elif action == 2:
        p.command(s, queue.suggestion_complete, outcome=_of(OUTCOMES, s.amount), **common)
    elif action == 3:
        p.command(s, queue.suggestion_dismiss, reason=s.text, **common)
    else:
        until = p.now + dt.timedelta(hours=1 + s.amount % 200)
        p.command(s, queue.suggestion_snooze, until=until, **common)


def _catch_up(p: Player, s: Step) -> None:
    """The followers run now and then mid-day, in batches of any size."""
    for projection in runner.registered().values():
        runner.catch_up(projection, batch_size=1 + s.amount % 40)


COMMANDS: dict[str, Callable[[Player, Step], None]] = {
    "register": _register,
    "contact_details": _contact_details,
    "demographics": _demographics,
    "consent": _consent,
    "call": _call,
    "wrap_up": _wrap_up,
    "note": _note,
    "schedule": _schedule,
    "reschedule": _visit_step("reschedule"),
    "confirm": _visit_step("confirm"),
    "cancel": _visit_step("cancel"),
    "complete": _visit_step("complete"),
    "no_show": _visit_step("no_show"),
    "lab_test": _lab_test,
    "crisis": _crisis,
    "text_in": _text_in,
    "death": _death,
    "merge": _merge,
    "reminders_go_out": _reminders_go_out,
    "work_the_queue": _work_the_queue,
    "catch_up": _catch_up,
}
