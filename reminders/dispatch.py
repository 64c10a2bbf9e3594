"""The dispatcher: hands due texts to the SMS provider, each exactly once (I9).

One pass: reconcile rows a dead worker left "sending", turn due reminders into outbox
rows, then in batches: claim (SELECT ... FOR UPDATE SKIP LOCKED, consent and limits
checked again, rows marked "sending" with an attempt token and a lease) and COMMIT; hand
each text over; record the outcomes (outbox rows and SmsSent / SmsFailed events) in a
second transaction. docs/reminders.md walks through every failure window.
"""

from __future__ import annotations

import datetime as dt
import logging
import time
import uuid
import zlib
from collections import defaultdict
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.db import connection, transaction
from django.db.models import Field, Q
from django.utils import timezone

from crm.domain import events as ev
from crm.eventstore.records import describe
from crm.models import PatientProfile
from crm.projections import runner
from reminders import messages, numbers, recording, rules
from reminders.backends import BaseSmsBackend, Sms, SmsError, SmsOutcomeUnknown, get_backend
from reminders.models import (
    REPLY_KINDS,
    WAITING,
    MessageKind,
    MessageStatus,
    OutboundMessage,
    Reminder,
    ReminderState,
)
from reminders.outbox import materialize_due
from reminders.recording import Entry
from reminders.sms_safe import SafeNames

log = logging.getLogger(__name__)

# How long a row held for a reason that may pass on its own (projection lag, a block
# under review) waits before it is looked at again.
RECHECK = dt.timedelta(minutes=5)
# Provider clocks and ours differ; look this far back past the claim when reconciling.
CLOCK_SKEW = dt.timedelta(minutes=5)
# A text whose preparation failed (a template or a value no one foresaw) is tried again.
UNPREPARED_RETRY = dt.timedelta(hours=1)
_NUMBER_LOCK_CLASS = 0x736D73  # "sms": two-key advisory locks, one per number


@dataclass
class Report:
    sent: int = 0
    failed: int = 0
    retrying: int = 0
    held: int = 0
    blocked: int = 0
    dropped: int = 0
    forgotten: int = 0
    reconciled: int = 0
    requeued: int = 0
    unknown: int = 0

    def add(self, other: Report) -> None:
        for name in self.__dataclass_fields__:
            setattr(self, name, getattr(self, name) + getattr(other, name))


@dataclass(frozen=True, slots=True)
class Claim:
    message_id: uuid.UUID
    token: uuid.UUID
    to: str
    body: str


@dataclass(frozen=True, slots=True)
class Outcome:
    """What became of one claimed text: exactly one of these fields says it."""

    claim: Claim
    sid: str = ""  # handed over (or found at the provider)
    at: dt.datetime | None = None
    error: SmsError | None = None
    unknown: str = ""  # no answer: ask the provider before anything else
    requeue: bool = False  # not handed over: back to the queue


# --- the pass ----------------------------------------------------------------------------


def dispatch_due(
    *,
    now: dt.datetime | None = None,
    backend: BaseSmsBackend | None = None,
    batch_size: int | None = None,
    catch_up: bool = True,
) -> Report:
    """One pass over everything due. Safe to run on many workers at once."""
    clock: Callable[[], dt.datetime] = (lambda: now) if now is not None else timezone.now
    sms = backend or get_backend()
    size = batch_size or settings.REMINDERS_BATCH_SIZE
    report = Report()
    try:
        if catch_up:
            projection = runner.registered().get("reminders")
            if projection is not None:
                runner.catch_up(projection)
        report.add(reconcile_stale(sms, clock(), batch_size=size))
        with transaction.atomic():
            materialize_due(clock())
        while True:
            selected, claims, claimed_report = claim_batch(clock(), batch_size=size)
            report.add(claimed_report)
            if not selected:
                break
            if claims:
                outcomes = hand_over(sms, claims, clock)
                report.add(record_outcomes(outcomes, clock()))
    finally:
        sms.close()  # a kept-alive connection would go stale before the next pass
    return report


# --- claim -------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class _Verdict:
    status: str  # SENDING (send it), or a waiting / final status, or "" to forget the row
    body: str = ""
    reason: str = ""
    next_attempt_at: dt.datetime | None = None


def claim_batch(now: dt.datetime, *, batch_size: int) -> tuple[int, list[Claim], Report]:
    """Claim up to `batch_size` due rows; returns (rows looked at, claims, what else
    happened to them). Two workers never claim the same row: SKIP LOCKED on PostgreSQL,
    the database lock of BEGIN IMMEDIATE on SQLite."""
    report = Report()
    with transaction.atomic():
        rows = list(
            OutboundMessage.objects.select_for_update(skip_locked=True)
            .filter(status__in=WAITING, next_attempt_at__lte=now)
            .order_by("next_attempt_at", "message_id")[:batch_size]
        )
        if not rows:
            return 0, [], report
        texts = [row for row in rows if row.kind not in REPLY_KINDS]
        reminders = Reminder.objects.in_bulk(
            [row.reminder_id for row in texts if row.reminder_id is not None]
        )
        for row in texts:
            reminder = reminders.get(row.reminder_id) if row.reminder_id else None
            if reminder is not None and reminder.phone and reminder.phone != row.to:
                row.to = reminder.phone  # the schedule followed a new number
        phones = sorted({row.to for row in texts if row.to})
        _lock_numbers(phones)  # the frequency cap is counted per number, across workers
        profiles = PatientProfile.objects.in_bulk(
            [row.patient_id for row in texts if row.patient_id is not None]
        )
        blocked = numbers.blocked_reasons(phones)
        recent = _recent_hand_overs(phones, now)
        templates = messages.load_templates() if texts else {}
        names = messages.load_safe_names() if texts else SafeNames()

        claims: list[Claim] = []
        forget: list[uuid.UUID] = []
        for row in rows:
            if row.kind in REPLY_KINDS:
                verdict = _Verdict(MessageStatus.SENDING, body=row.body)
            else:
                try:
                    verdict = _judge(
                        row,
                        reminders.get(row.reminder_id) if row.reminder_id else None,
                        profiles.get(row.patient_id) if row.patient_id else None,
                        blocked.get(row.to),
                        recent[row.to],
                        now,
                        templates,
                        names,
                    )
                except runner.TRANSIENT_ERRORS:
                    raise
                except Exception as exc:  # one text that cannot be prepared waits alone
                    verdict = _unprepared(row, exc, now)
            if not verdict.status:
                forget.append(row.message_id)
                report.forgotten += 1
                continue
            if verdict.status == MessageStatus.SENDING:
                row.status = MessageStatus.SENDING
                row.body = verdict.body
                row.attempts += 1
                row.attempt_token = uuid.uuid4()
                row.claimed_at = now
                row.lease_until = now + dt.timedelta(seconds=settings.REMINDERS_SEND_LEASE_SECONDS)
                row.reason = ""
                if row.kind not in REPLY_KINDS:
                    recent[row.to].append(now)
                claims.append(Claim(row.message_id, row.attempt_token, row.to, row.body))
                continue
            row.status = verdict.status
            row.reason = verdict.reason
            if verdict.next_attempt_at is not None:
                row.next_attempt_at = verdict.next_attempt_at
            counter = {
                MessageStatus.HELD: "held",
                MessageStatus.BLOCKED: "blocked",
                MessageStatus.DROPPED: "dropped",
            }[MessageStatus(verdict.status)]
            setattr(report, counter, getattr(report, counter) + 1)
        if forget:
            OutboundMessage.objects.filter(message_id__in=forget, status__in=WAITING).delete()
        _save_fields(
            [row for row in rows if row.message_id not in set(forget)],
            [
                "to",
                "status",
                "body",
                "reason",
                "attempts",
                "attempt_token",
                "claimed_at",
                "lease_until",
                "next_attempt_at",
            ],
        )
    return len(rows), claims, report


def _judge(
    row: OutboundMessage,
    reminder: Reminder | None,
    profile: PatientProfile | None,
    number_block: str | None,
    recent: list[dt.datetime],
    now: dt.datetime,
    templates: Mapping[tuple[str, str], str],
    names: SafeNames,
) -> _Verdict:
    """May this reminder or survey go now? I8, checked once more right before sending."""
    if reminder is None or reminder.state != ReminderState.SCHEDULED or reminder.due_at > now:
        # The schedule no longer wants it now (moved, cancelled, blocked): its row says why.
        return _Verdict("")
    if profile is None or profile.merged_into is not None or profile.deceased:
        return _wait(
            MessageStatus.BLOCKED,
            now + RECHECK,
            "The record changed; waiting for the schedule to catch up.",
        )
    if not profile.phone or profile.phone != row.to:
        return _wait(
            MessageStatus.BLOCKED,
            now + RECHECK,
            "The patient's number changed; waiting for the schedule to catch up.",
        )
    is_survey = row.kind == MessageKind.SATISFACTION
    purpose = ev.ConsentPurpose.SURVEYS if is_survey else ev.ConsentPurpose.APPOINTMENT_REMINDERS
    consent = profile.consents.get(f"sms:{purpose.value}") or {}
    if not consent.get("granted"):
        return _wait(MessageStatus.BLOCKED, now + RECHECK, "No SMS consent at sending time.")
    if number_block:
        return _wait(MessageStatus.BLOCKED, now + RECHECK, number_block)
    zone = profile.timezone
    appointment = None
    if not is_survey:
        appointment = next(
            (
                a
                for a in profile.upcoming_appointments
                if a["appointment_id"] == str(reminder.appointment_id)
            ),
            None,
        )
        if appointment is None or (
            dt.datetime.fromisoformat(appointment["starts_at"]) != reminder.appointment_starts_at
        ):
            return _wait(
                MessageStatus.BLOCKED,
                now + RECHECK,
                "The appointment changed; waiting for the schedule to catch up.",
            )
        if reminder.appointment_starts_at <= now:
            return _Verdict(
                MessageStatus.DROPPED,
                reason="Too late: the appointment had already started when this reminder came up.",
            )
    window = settings.REMINDERS_SEND_WINDOW
    allowed = rules.next_allowed(now, zone, window)
    if allowed > now:
        return _later(reminder, allowed, zone, "quiet hours")
    cap_until = _cap_until(recent, now)
    if cap_until > now:
        allowed = rules.next_allowed(cap_until, zone, window)
        return _later(reminder, allowed, zone, "the frequency cap")
    first_name = profile.preferred_name or profile.first_name
    if appointment is None:
        body = messages.render(
            "satisfaction",
            profile.language,
            {"first_name": first_name},
            templates=templates,
            names=names,
        )
    else:
        context = messages.reminder_context(
            first_name=first_name,
            starts_at=reminder.appointment_starts_at,
            timezone=zone,
            location=appointment["location"],
            provider=appointment["provider"],
            telehealth=appointment["modality"] == ev.Modality.TELEHEALTH.value,
            language=profile.language,
            names=names,
        )
        body = messages.render(
            "reminder", profile.language, context, templates=templates, names=names
        )
    return _Verdict(MessageStatus.SENDING, body=body)


def _unprepared(row: OutboundMessage, exc: Exception, now: dt.datetime) -> _Verdict:
    """Held, visibly, and tried again later (after a fix is deployed): never dropped in
    silence, and never in the way of the texts behind it (I11)."""
    log.exception("text %s could not be prepared; held", row.message_id)
    return _wait(
        MessageStatus.HELD,
        now + UNPREPARED_RETRY,
        f"Held: this text could not be prepared ({describe(exc)}); tried again at "
        f"{rules.local_text(now + UNPREPARED_RETRY, settings.TIME_ZONE)}.",
    )


def _wait(status: str, until: dt.datetime, reason: str) -> _Verdict:
    return _Verdict(status, reason=reason, next_attempt_at=until)


def _later(reminder: Reminder, allowed: dt.datetime, zone: str, by: str) -> _Verdict:
    when = rules.local_text(allowed, zone)
    if reminder.kind == "reminder" and allowed >= reminder.appointment_starts_at:
        return _Verdict(
            MessageStatus.DROPPED,
            reason=f"Dropped: {by} would hold it until {when}, after the appointment.",
        )
    return _wait(MessageStatus.HELD, allowed, f"Held by {by} until {when}.")


def _cap_until(recent: list[dt.datetime], now: dt.datetime) -> dt.datetime:
    """When one more text to this number fits both caps (now, if it fits already)."""
    until = now
    for window, cap in (
        (dt.timedelta(days=1), settings.REMINDERS_CAP_PER_DAY),
        (dt.timedelta(days=7), settings.REMINDERS_CAP_PER_WEEK),
    ):
        inside = sorted(t for t in recent if t > now - window)
        if len(inside) >= cap:
            until = max(until, inside[-cap] + window)
    return until


def _recent_hand_overs(
    phones: Sequence[str], now: dt.datetime
) -> defaultdict[str, list[dt.datetime]]:
    recent: defaultdict[str, list[dt.datetime]] = defaultdict(list)
    if not phones:
        return recent
    rows = (
        OutboundMessage.objects.filter(to__in=phones)
        .exclude(kind__in=REPLY_KINDS)
        .filter(Q(handed_over_at__gt=now - dt.timedelta(days=7)) | Q(status=MessageStatus.SENDING))
        .values_list("to", "handed_over_at", "claimed_at")
    )
    for to, handed_over_at, claimed_at in rows:
        at = handed_over_at or claimed_at
        if at is not None:
            recent[to].append(at)
    return recent


def _lock_numbers(phones: Sequence[str]) -> None:
    if connection.vendor != "postgresql" or not phones:
        return
    keys = sorted({zlib.crc32(number.encode()) - 2**31 for number in phones})
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT count(pg_advisory_xact_lock(%s, k)) FROM unnest(%s::int[]) AS k",
            [_NUMBER_LOCK_CLASS, keys],
        )


def _save_fields(rows: Sequence[OutboundMessage], fields: Sequence[str]) -> None:
    """Write `fields` of each row with one UPDATE per row, sent together (psycopg
    pipelines executemany). Django's bulk_update builds a CASE per field and row, which
    cost more than everything else in a batch."""
    if not rows:
        return
    meta = OutboundMessage._meta
    columns: list[Field[Any, Any]] = [meta.get_field(name) for name in fields]  # type: ignore[misc]
    pk = meta.pk
    assert pk is not None
    quote = connection.ops.quote_name
    assignments = ", ".join(f"{quote(str(f.column))} = %s" for f in columns)
    table, key = quote(meta.db_table), quote(str(pk.column))
    statement = f"UPDATE {table} SET {assignments} WHERE {key} = %s"
    params = [
        [f.get_db_prep_save(getattr(row, f.attname), connection) for f in columns]
        + [pk.get_db_prep_save(row.pk, connection)]
        for row in rows
    ]
    with connection.cursor() as cursor:
        cursor.executemany(statement, params)


# --- hand over ---------------------------------------------------------------------------


def hand_over(
    backend: BaseSmsBackend,
    claims: Sequence[Claim],
    clock: Callable[[], dt.datetime] = timezone.now,
) -> list[Outcome]:
    """Send each claimed text, stopping in time for the lease: a text is never handed
    over after its lease could have expired (a reconciler may own it by then)."""
    margin = 2 * settings.TWILIO_TIMEOUT_SECONDS + 1
    deadline = time.monotonic() + settings.REMINDERS_SEND_LEASE_SECONDS - margin
    outcomes: list[Outcome] = []
    for claim in claims:
        if time.monotonic() > deadline:
            outcomes.append(Outcome(claim, requeue=True))
            continue
        try:
            sid = backend.send(Sms(claim.message_id, claim.to, claim.body))
        except SmsError as error:
            outcomes.append(Outcome(claim, error=error))
        except SmsOutcomeUnknown as error:
            outcomes.append(Outcome(claim, unknown=str(error)))
        else:
            outcomes.append(Outcome(claim, sid=sid, at=clock()))
    return outcomes


# --- record ------------------------------------------------------------------------------


def record_outcomes(outcomes: Sequence[Outcome], now: dt.datetime) -> Report:
    """Record a batch of outcomes in one transaction: outbox rows and events together.

    A row is only touched while it still carries the claim's token: a worker whose lease
    ran out records nothing, and the reconciler (who asks the provider) decides instead.
    """
    report = Report()
    if not outcomes:
        return report
    with transaction.atomic():
        rows = {
            row.message_id: row
            for row in OutboundMessage.objects.select_for_update().filter(
                message_id__in=[o.claim.message_id for o in outcomes],
                status=MessageStatus.SENDING,
            )
        }
        # Which visit each reminder is about, named on its SmsSent for the metrics.
        visits = dict(
            Reminder.objects.filter(
                reminder_id__in=[r.reminder_id for r in rows.values() if r.reminder_id]
            ).values_list("reminder_id", "appointment_id")
        )
        entries: list[Entry] = []
        touched: list[OutboundMessage] = []
        for outcome in outcomes:
            row = rows.get(outcome.claim.message_id)
            if row is None or row.attempt_token != outcome.claim.token:
                continue
            touched.append(row)
            visit = visits.get(row.reminder_id) if row.reminder_id else None
            entries.extend(_settle(row, outcome, now, report, visit))
        _save_fields(
            touched,
            [
                "status",
                "reason",
                "provider_message_id",
                "handed_over_at",
                "lease_until",
                "attempt_token",
                "next_attempt_at",
                "error_code",
                "error_message",
            ],
        )
        entries.extend(_carrier_opt_outs(touched, now))
        recording.record(entries)
    return report


def _settle(
    row: OutboundMessage,
    outcome: Outcome,
    now: dt.datetime,
    report: Report,
    appointment_id: uuid.UUID | None = None,
) -> list[Entry]:
    stream = numbers.stream_of(row.patient_id, row.to)
    if outcome.sid:
        at = outcome.at or now
        row.status, row.provider_message_id, row.handed_over_at = (
            MessageStatus.SENT,
            outcome.sid,
            at,
        )
        row.lease_until, row.attempt_token, row.reason = None, None, ""
        report.sent += 1
        sent = ev.SmsSent(
            message_id=row.message_id,
            to=row.to,
            body=row.body,
            purpose=_purpose(row),
            provider_message_id=outcome.sid,
            reminder_id=row.reminder_id,
            appointment_id=appointment_id,
        )
        return [Entry(stream, (sent,), f"reminders:sms-sent:{row.message_id}", at)]
    if outcome.unknown:
        # Leave it "sending" with its lease over: the next pass asks the provider first.
        row.lease_until = now
        row.reason = (
            f"No answer from the SMS provider ({outcome.unknown}); asking it before any resend."
        )
        report.unknown += 1
        return []
    if outcome.requeue:
        row.status, row.next_attempt_at = MessageStatus.QUEUED, now
        row.lease_until, row.attempt_token, row.reason = None, None, ""
        report.requeued += 1
        return []
    error = outcome.error
    assert error is not None
    row.error_code, row.error_message = error.code, error.message
    row.lease_until, row.attempt_token = None, None
    if not error.permanent and row.attempts < settings.REMINDERS_RETRY_ATTEMPTS:
        delay = dt.timedelta(
            seconds=settings.REMINDERS_RETRY_BASE_SECONDS * 2 ** (row.attempts - 1)
        )
        row.status, row.next_attempt_at = MessageStatus.RETRYING, now + delay
        row.reason = (
            f"The SMS provider did not take it ({error.message}, {error.code}); "
            f"try {row.attempts + 1} of {settings.REMINDERS_RETRY_ATTEMPTS} at "
            f"{row.next_attempt_at:%Y-%m-%d %H:%M} UTC."
        )
        report.retrying += 1
        return []
    row.status = MessageStatus.FAILED
    message = (
        error.message
        if error.permanent
        else (f"gave up after {row.attempts} attempts: {error.message}")
    )
    row.reason = f"Not sent: {message} ({error.code})."
    report.failed += 1
    failed = ev.SmsFailed(
        message_id=row.message_id,
        error_code=error.code,
        error_message=message,
        permanent=error.permanent,
        reminder_id=row.reminder_id,
    )
    return [Entry(stream, (failed,), f"reminders:sms-failed:{row.message_id}", now)]


def _carrier_opt_outs(rows: Sequence[OutboundMessage], now: dt.datetime) -> list[Entry]:
    """Twilio's 21610: the person unsubscribed at the carrier. Every patient with the
    number gets ConsentRevoked(source=carrier), as if they had texted STOP to us."""
    refused = {row.to: row for row in rows if row.error_code == numbers.CARRIER_OPT_OUT}
    if not refused:
        return []
    return [
        Entry(
            patient_id,
            (numbers.carrier_opt_out(phone),),
            f"reminders:carrier-opt-out:{refused[phone].message_id}:{patient_id}",
            now,
        )
        for patient_id, phone in numbers.patients_with(refused).values_list("patient_id", "phone")
        if phone is not None
    ]


def _purpose(row: OutboundMessage) -> ev.ConsentPurpose:
    if row.kind == MessageKind.SATISFACTION:
        return ev.ConsentPurpose.SURVEYS
    return ev.ConsentPurpose.APPOINTMENT_REMINDERS


# --- reconcile ---------------------------------------------------------------------------


def reconcile_stale(backend: BaseSmsBackend, now: dt.datetime, *, batch_size: int) -> Report:
    """Rows left "sending" past their lease (a worker died, or got no answer): ask the
    provider whether it has the text, BEFORE anything is sent again. Found: record
    SmsSent with the provider's id. Not found: back to the queue, to be checked and sent.
    The provider cannot say: leave the row for the next pass, never guess."""
    report = Report()
    while True:
        with transaction.atomic():
            rows = list(
                OutboundMessage.objects.select_for_update(skip_locked=True)
                .filter(status=MessageStatus.SENDING, lease_until__lt=now)
                .order_by("lease_until")[:batch_size]
            )
            if not rows:
                return report
            lease = dt.timedelta(seconds=settings.REMINDERS_SEND_LEASE_SECONDS)
            for row in rows:
                row.attempt_token = uuid.uuid4()
                row.lease_until = now + lease
            _save_fields(rows, ["attempt_token", "lease_until"])
        outcomes: list[Outcome] = []
        for row in rows:
            assert row.attempt_token is not None
            claim = Claim(row.message_id, row.attempt_token, row.to, row.body)
            since = (row.claimed_at or now) - CLOCK_SKEW
            try:
                sid = backend.find_sent(to=row.to, body=row.body, since=since)
            except (SmsOutcomeUnknown, SmsError) as error:
                log.warning("cannot reconcile %s yet: %s", row.message_id, error)
                report.unknown += 1
                continue  # keeps its fresh lease: looked at again once that runs out
            if sid:
                outcomes.append(Outcome(claim, sid=sid, at=row.claimed_at or now))
                report.reconciled += 1
            else:
                outcomes.append(Outcome(claim, requeue=True))
        settled = record_outcomes(outcomes, now)
        report.requeued += settled.requeued
        if len(rows) < batch_size:
            return report
