"""Claiming due texts: rows locked (SKIP LOCKED), checked once more, and marked "sending"
with an attempt token and a lease, in one short transaction before anything is sent."""

from __future__ import annotations

import datetime as dt
import uuid
import zlib
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field

from django.conf import settings
from django.db import connection, transaction
from django.db.models import Q

from crm.models import PatientProfile
from crm.projections import runner
from reminders.dispatch import checks
from reminders.dispatch.outbox import save_fields
from reminders.dispatch.outcomes import Claim, Report
from reminders.dispatch.texts import load_templates
from reminders.domain.sms_safe import SafeNames
from reminders.models import (
    REPLY_KINDS,
    WAITING,
    MessageStatus,
    OutboundMessage,
    Reminder,
    SmsAlias,
)
from reminders.projections.numbers import blocked_reasons

_NUMBER_LOCK_CLASS = 0x736D73  # "sms": two-key advisory locks, one per number
_COUNTERS = {
    MessageStatus.HELD: "held",
    MessageStatus.BLOCKED: "blocked",
    MessageStatus.DROPPED: "dropped",
}


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
        batch = _Batch.load(rows, now)
        claims: list[Claim] = []
        forget: set[uuid.UUID] = set()
        for row in rows:
            verdict = batch.verdict(row, now)
            if not verdict.status:
                forget.add(row.message_id)
                report.forgotten += 1
            elif verdict.status == MessageStatus.SENDING:
                claims.append(_claim(row, verdict.body, now, batch))
            else:
                row.status, row.reason = verdict.status, verdict.reason
                if verdict.next_attempt_at is not None:
                    row.next_attempt_at = verdict.next_attempt_at
                counter = _COUNTERS[MessageStatus(verdict.status)]
                setattr(report, counter, getattr(report, counter) + 1)
        if forget:
            OutboundMessage.objects.filter(message_id__in=forget, status__in=WAITING).delete()
        save_fields(
            [row for row in rows if row.message_id not in forget],
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


@dataclass
class _Batch:
    """What the checks of a batch's reminders and surveys read, each in one query."""

    reminders: dict[uuid.UUID, Reminder] = field(default_factory=dict)
    profiles: dict[uuid.UUID, PatientProfile] = field(default_factory=dict)
    blocked: dict[str, str] = field(default_factory=dict)
    recent: defaultdict[str, list[dt.datetime]] = field(default_factory=lambda: defaultdict(list))
    templates: dict[tuple[str, str], str] = field(default_factory=dict)
    names: SafeNames = field(default_factory=SafeNames)

    @classmethod
    def load(cls, rows: Sequence[OutboundMessage], now: dt.datetime) -> _Batch:
        texts = [row for row in rows if row.kind not in REPLY_KINDS]
        if not texts:
            return cls()
        reminders = Reminder.objects.in_bulk(
            [row.reminder_id for row in texts if row.reminder_id is not None]
        )
        for row in texts:
            reminder = reminders.get(row.reminder_id) if row.reminder_id else None
            if reminder is not None and reminder.phone and reminder.phone != row.to:
                row.to = reminder.phone  # the schedule followed a new number
        phones = sorted({row.to for row in texts if row.to})
        _lock_numbers(phones)  # the frequency cap is counted per number, across workers
        return cls(
            reminders=reminders,
            profiles=PatientProfile.objects.in_bulk(
                [row.patient_id for row in texts if row.patient_id is not None]
            ),
            blocked=blocked_reasons(phones),
            recent=_recent_hand_overs(phones, now),
            templates=load_templates(),
            names=SmsAlias.safe_names(),
        )

    def verdict(self, row: OutboundMessage, now: dt.datetime) -> checks.Verdict:
        if row.kind in REPLY_KINDS:
            return checks.Verdict(MessageStatus.SENDING, body=row.body)
        try:
            return checks.judge(
                row,
                self.reminders.get(row.reminder_id) if row.reminder_id else None,
                self.profiles.get(row.patient_id) if row.patient_id else None,
                self.blocked.get(row.to),
                self.recent[row.to],
                now,
                self.templates,
                self.names,
            )
        except runner.TRANSIENT_ERRORS:
            raise
        except Exception as exc:  # one text that cannot be prepared waits alone
            return checks.unprepared(row, exc, now)


def _claim(row: OutboundMessage, body: str, now: dt.datetime, batch: _Batch) -> Claim:
    row.status = MessageStatus.SENDING
    row.body = body
    row.attempts += 1
    row.attempt_token = uuid.uuid4()
    row.claimed_at = now
    row.lease_until = now + dt.timedelta(seconds=settings.REMINDERS_SEND_LEASE_SECONDS)
    row.reason = ""
    if row.kind not in REPLY_KINDS:
        batch.recent[row.to].append(now)
    return Claim(row.message_id, row.attempt_token, row.to, row.body)


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
