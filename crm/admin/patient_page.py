"""What the patient page and the patient list show, drawn from the profile read model and
one page of the log. Nothing here writes; every change goes through an action form."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from django.conf import settings

from crm import extensions
from crm.admin import formatting as fmt
from crm.admin.forms import OpenAppointment, OpenTest, open_appointments, open_tests
from crm.admin.timeline import TimelinePage, timeline_page
from crm.domain import events as ev
from crm.domain.state import consent_key
from crm.models import PatientProfile

_REMINDERS = consent_key(ev.Channel.SMS, ev.ConsentPurpose.APPOINTMENT_REMINDERS)


@dataclass(frozen=True, slots=True)
class Badge:
    text: str
    tone: str  # danger, warning, ok, muted
    title: str = ""


@dataclass(frozen=True, slots=True)
class Consent:
    channel: str
    purpose: str
    granted: bool
    when: str
    source: str


@dataclass(frozen=True, slots=True)
class Visit:
    appointment_id: str
    kind: str
    when: str  # in the patient's zone
    clinic_when: str  # the clinic's clock, when it differs from the patient's
    modality: str
    provider: str
    location: str
    duration_minutes: int
    confirmed: bool


@dataclass(frozen=True, slots=True)
class PatientPage:
    profile: PatientProfile
    age: int
    phone: str
    badges: list[Badge]
    consents: list[Consent]
    upcoming: list[Visit]  # still ahead
    to_close: list[Visit]  # start time passed, neither completed, cancelled nor a no-show
    timeline: TimelinePage
    last_crisis: str
    last_contact: str  # the clinic's day, "" when none yet
    registered: str
    crisis_line: str
    tests: list[OpenTest]  # ordered, not yet done
    # What other apps add (open suggestions, reminders), in their registered order.
    panels: list[ShownPanel]


@dataclass(frozen=True, slots=True)
class ShownPanel:
    key: str
    panel: extensions.Panel

    @property
    def rows(self) -> list[tuple[str, tuple[str, ...]]]:
        """(tone, cells) per row; a row without a tone of its own has none."""
        tones = self.panel.tones
        return [
            (tones[index] if index < len(tones) else "", row)
            for index, row in enumerate(self.panel.rows)
        ]

    @property
    def current(self) -> list[tuple[str, tuple[str, ...]]]:
        """The rows in view: all of them, or those before the folded history."""
        return self.rows[: self.panel.history_from]

    @property
    def history(self) -> list[tuple[str, tuple[str, ...]]]:
        """The rows folded below the others (none unless the panel says where it starts)."""
        start = self.panel.history_from
        return [] if start is None else self.rows[start:]


def badges(profile: PatientProfile) -> list[Badge]:
    """The flags a person must see before saying anything: crisis first."""
    found: list[Badge] = []
    if profile.crisis_flag:
        risk = (profile.last_crisis or {}).get("risk_level", "")
        when = (
            fmt.moment(profile.last_crisis_at, profile.timezone) if profile.last_crisis_at else ""
        )
        found.append(Badge(f"Crisis · {risk} risk" if risk else "Crisis", "danger", when))
    if profile.deceased:
        found.append(Badge("Deceased", "muted"))
    if profile.merged_into:
        found.append(Badge("Merged into another record", "muted"))
    reminders = profile.consents.get(_REMINDERS)
    if reminders is None:
        found.append(Badge("No SMS consent", "muted", "Never asked about text reminders"))
    elif reminders["granted"]:
        found.append(Badge("SMS reminders ✓", "ok", "Agreed to text reminders"))
    else:
        found.append(Badge("SMS opted out", "warning", "Do not send text reminders"))
    return found


def next_visit(profile: PatientProfile, now: dt.datetime) -> OpenAppointment | None:
    return next((a for a in open_appointments(profile) if a.starts_at >= now), None)


def patient_page(
    profile: PatientProfile,
    *,
    now: dt.datetime,
    include_restricted: bool,
    older_than: int | None = None,
) -> PatientPage:
    zone_name = profile.timezone
    visits = open_appointments(profile)
    return PatientPage(
        profile=profile,
        age=fmt.age(profile.date_of_birth, now.astimezone(fmt.zone(zone_name)).date()),
        phone=fmt.phone(profile.phone),
        badges=badges(profile),
        consents=_consents(profile),
        upcoming=[_visit(v, zone_name) for v in visits if v.starts_at >= now],
        to_close=[_visit(v, zone_name) for v in visits if v.starts_at < now],
        timeline=timeline_page(
            patient_id=profile.patient_id,
            zone_name=zone_name,
            include_restricted=include_restricted,
            older_than=older_than,
        ),
        last_crisis=_last_crisis(profile),
        last_contact=fmt.clinic_day(profile.last_contact_at) if profile.last_contact_at else "",
        registered=fmt.clinic_day(profile.registered_at),
        crisis_line=settings.CRISIS_LINE,
        tests=open_tests(profile.patient_id),
        panels=[
            ShownPanel(entry.key, entry.load(profile.patient_id, zone_name, now))
            for entry in extensions.patient_panels()
        ],
    )


def _consents(profile: PatientProfile) -> list[Consent]:
    lines = []
    for key, value in sorted(profile.consents.items()):
        channel, _, purpose = key.partition(":")
        lines.append(
            Consent(
                channel=fmt.label(ev.Channel(channel)),
                purpose=fmt.label(ev.ConsentPurpose(purpose)),
                granted=bool(value["granted"]),
                when=fmt.moment(dt.datetime.fromisoformat(value["at"]), profile.timezone),
                source=fmt.label(ev.ConsentSource(value["source"])),
            )
        )
    return lines


def _visit(visit: OpenAppointment, zone_name: str) -> Visit:
    return Visit(
        appointment_id=str(visit.appointment_id),
        kind=fmt.label(visit.appointment_type).capitalize(),
        when=fmt.local_moment(visit.starts_at, zone_name),
        clinic_when=fmt.clinic_time(visit.starts_at, zone_name),
        modality=fmt.label(visit.modality),
        provider=visit.provider,
        location=visit.location,
        duration_minutes=visit.duration_minutes,
        confirmed=visit.confirmed,
    )


def _last_crisis(profile: PatientProfile) -> str:
    crisis = profile.last_crisis
    if not crisis or profile.last_crisis_at is None:
        return ""
    handoff = fmt.label(ev.CrisisHandoff(crisis["handoff"]))
    plan = fmt.label(ev.SafetyPlan(crisis["safety_plan"]))
    when = fmt.moment(profile.last_crisis_at, profile.timezone)
    return f"{when}: {crisis['risk_level']} risk, {handoff}, {plan}"
