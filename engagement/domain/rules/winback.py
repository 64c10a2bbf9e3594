"""The win-back rule: a patient who lapsed from care (crm's churn definition, crm.domain.churn)
gets a call to bring them back, due inside the outreach hours and the frequency cap."""

from __future__ import annotations

import datetime as dt
import zoneinfo

from crm.domain import churn
from crm.domain import events as ev
from crm.domain.state import AppointmentStatus
from crm.domain.vocabulary import label
from engagement.domain.config import RuleConfig
from engagement.domain.rules.words import Words
from engagement.domain.state import EngagementState, Evidence
from engagement.domain.suggestions import RAISED_RE_ENGAGE, Kind, Need, suggestion_id

# How many of the latest attempts to reach the patient a reason names.
ATTEMPTS_NAMED = 3
_TYPE_WORDS = {
    "annual_wellness": "annual wellness visit",
    "new_patient": "new-patient visit",
    "follow_up": "follow-up visit",
    "therapy": "therapy session",
    "psychiatry": "psychiatry visit",
    "test": "test appointment",
}


def care_history(s: EngagementState) -> churn.CareHistory:
    """What the churn definition reads, from the engagement fold (merged records' care
    included): the same facts the `churn` projection keeps from the log."""
    appointments = s.patient.appointments
    visits = [
        churn.Visit(appointments[aid].starts_at, appointments[aid].appointment_type.value)
        for aid, _, _ in s.completed_visits
        if aid in appointments
    ]
    bookings = []
    for aid, booking in s.bookings.items():
        appointment = appointments.get(aid)
        if appointment is None:
            continue
        until = appointment.starts_at
        cancelled = appointment.status is AppointmentStatus.CANCELLED
        if cancelled and appointment.closed_at is not None:
            until = min(until, appointment.closed_at)
        bookings.append(churn.Booking(booking.scheduled_at, until))
    contacts = [c.at for c in s.calls if c.connected]
    contacts += [t.at for t in s.texts] + [c.at for c in s.crises]
    return churn.CareHistory(visits=visits, bookings=bookings, contacts=contacts)


def re_engage(s: EngagementState, c: RuleConfig, w: Words) -> list[Need]:
    """One need per stretch in care that ended in a lapse; met when a visit is booked or
    the patient is reached after it; expires when their last visit is too old to count
    them in care, or when they withdraw consent to every contact."""
    opted_out_at = _opted_out_of_everything(s)
    needs: list[Need] = []
    for spell in churn.spells(care_history(s), c.churn):
        if spell.ending is not churn.Ending.LAPSED:
            continue  # kept in touch without a visit: aged out of care, not lapsed
        lapsed = spell.ends_at
        if opted_out_at is not None and opted_out_at <= lapsed:
            continue  # nobody asks to be contacted after they withdrew from everything
        if not _channels(s):
            continue  # phone withdrawn and no consent to care texts: no way to ask them back
        need = _need(s, c, w, spell)
        for booking in s.bookings.values():
            if booking.scheduled_at >= lapsed:
                need.met(
                    booking.scheduled_at, f"A visit was booked {w.time(booking.scheduled_at)}."
                )
                need.evidence.append(booking.evidence)
        reached = s.contact_after(lapsed - dt.timedelta(microseconds=1))
        if reached is not None:
            need.met(reached[0], f"The patient was reached ({reached[1]}) {w.time(reached[0])}.")
        months = c.churn.active_months
        need.lapses(
            c.churn.active_until(spell.last_visit.at),
            f"The last visit is {months} months old: no longer counted in care.",
        )
        if opted_out_at is not None:
            need.lapses(
                opted_out_at,
                f"The patient withdrew consent to every contact {w.time(opted_out_at)}.",
            )
        needs.append(need)
    return needs


def _need(s: EngagementState, c: RuleConfig, w: Words, spell: churn.Spell) -> Need:
    patient, last, lapsed = s.patient, spell.last_visit, spell.ends_at
    days = c.churn.lapse_days_of(last.visit_type)
    tried = sorted(
        (a for a in s.failed_attempts if a.at > last.at), key=lambda a: a.at, reverse=True
    )[:ATTEMPTS_NAMED]
    if tried:
        attempts = "Last attempts to reach them: " + "; ".join(
            f"{w.time(a.at)} ({label(a.channel)}, {a.what})" for a in tried
        )
    else:
        attempts = "No attempt to reach them since the visit"
    channels = _channels(s)
    since = "then" if spell.quiet_since == last.at else w.day(spell.quiet_since)
    reason = (
        f"Lapsed from care {w.day(lapsed)}: last visit {w.day(last.at)} "
        f"({_TYPE_WORDS.get(last.visit_type, last.visit_type)}); no visit, nothing booked "
        f"and no contact for {days} days since {since}. {attempts}. "
        + ("Phone consent withdrawn: text only. " if channels == ["sms"] else "")
        + "Call to invite them back."
    )
    crisis = _recent_crisis(s, c, w, lapsed)
    evidence = [e for e in [_visit_evidence(s, last.at)] if e is not None]
    return Need(
        suggestion_id(
            Kind.RE_ENGAGE, patient.patient_id, w.local_date(spell.started_at).isoformat()
        ),
        Kind.RE_ENGAGE,
        opened_at=lapsed,
        due_at=_next_allowed(s, c, w, lapsed),
        reason=reason + (f" {crisis}" if crisis else ""),
        evidence=evidence + [a.evidence for a in tried],
        payload={
            "last_visit_at": last.at.astimezone(dt.UTC).isoformat(),
            "last_visit_type": last.visit_type,
            "lapse_days": days,
            "attempts": len(tried),
            "channels": channels,
            "priority_raised": bool(crisis),
        },
        priority=RAISED_RE_ENGAGE if crisis else None,
    )


def _recent_crisis(s: EngagementState, c: RuleConfig, w: Words, lapsed: dt.datetime) -> str:
    if s.patient.crisis_open:
        return "Crisis flag open: ranked with the caring contacts."
    recent = [x.at for x in s.crises if lapsed - c.re_engage_crisis_window <= x.at <= lapsed]
    if recent:
        return f"Crisis contact {w.day(max(recent))}: ranked with the caring contacts."
    return ""


def _channels(s: EngagementState) -> list[str]:
    """How the clinic may reach them: by phone unless every phone purpose was withdrawn,
    by text when they agreed to care messages by text."""
    patient = s.patient
    phone_withdrawn = all(
        (consent := patient.consents.get(f"voice:{p.value}")) is not None and not consent.granted
        for p in ev.ConsentPurpose
    )
    channels = [] if phone_withdrawn else ["voice"]
    if patient.has_consent(ev.Channel.SMS, ev.ConsentPurpose.CARE_MESSAGES):
        channels.append("sms")
    return channels


def _opted_out_of_everything(s: EngagementState) -> dt.datetime | None:
    """When every purpose on phone and text was withdrawn (and nothing is granted), as the
    churn figures leave them out; None while any contact is allowed."""
    consents = s.patient.consents
    keys = [f"{ch}:{p.value}" for ch in ("voice", "sms") for p in ev.ConsentPurpose]
    found = [consents.get(key) for key in keys]
    if any(c is None or c.granted for c in found) or any(c.granted for c in consents.values()):
        return None
    return max(c.at for c in found if c is not None)


def _visit_evidence(s: EngagementState, at: dt.datetime) -> Evidence | None:
    for aid, _, evidence in s.completed_visits:
        appointment = s.patient.appointments.get(aid)
        if appointment is not None and appointment.starts_at == at:
            return evidence
    return None


def _next_allowed(s: EngagementState, c: RuleConfig, w: Words, opened: dt.datetime) -> dt.datetime:
    """The first moment from `opened` (or from the latest attempt since) inside the local
    outreach hours with the frequency cap's room: the texts' rules, for calls too."""
    moment = max([opened, *(at for at in s.outreach if at > opened)])
    caps = (
        (dt.timedelta(days=1), c.outreach_cap_per_day),
        (dt.timedelta(days=7), c.outreach_cap_per_week),
    )
    for _ in range(16):  # each turn moves past one attempt; a handful settles it
        moment = _inside_hours(moment, w.zone, c.outreach_window)
        later = moment
        for window, cap in caps:
            inside = sorted(at for at in s.outreach if moment - window < at <= moment)
            if len(inside) >= cap:
                later = max(later, inside[-cap] + window)
        if later == moment:
            return moment
        moment = later
    return moment


def _inside_hours(
    moment: dt.datetime, zone: zoneinfo.ZoneInfo | dt.tzinfo, window: tuple[dt.time, dt.time]
) -> dt.datetime:
    local = moment.astimezone(zone)
    start, end = window
    if start <= local.time() < end:
        return moment
    day = local.date() if local.time() < start else local.date() + dt.timedelta(days=1)
    return dt.datetime.combine(day, start, tzinfo=zone).astimezone(dt.UTC)
