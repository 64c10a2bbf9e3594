"""The `churn` catch-up projection: per patient, the visits, bookings and reached contacts the
churn definition reads; facts of the events alone (no clock, no threshold): rebuilds agree (I5)."""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Sequence

from crm.domain import events as ev
from crm.domain.recorded import RecordedEvent
from crm.models import ChurnAppointment, ChurnContact, ChurnPatient
from crm.projections.runner import CatchUpProjection

# Channels whose every purpose withdrawn means the patient wants no contact at all.
_EVERY_CHANNEL = (ev.Channel.VOICE, ev.Channel.SMS)
_CLOSED = {
    ev.AppointmentCancelled: "cancelled",
    ev.AppointmentCompleted: "completed",
    ev.AppointmentNoShowRecorded: "no_show",
}
_FOLLOWED = (
    ev.PatientRegistered,
    ev.DemographicsChanged,
    ev.ConsentRecorded,
    ev.ConsentRevoked,
    ev.CallLogged,
    ev.SmsReceived,
    ev.CrisisContactRecorded,
    ev.AppointmentScheduled,
    ev.AppointmentRescheduled,
    ev.AppointmentCancelled,
    ev.AppointmentCompleted,
    ev.AppointmentNoShowRecorded,
    ev.PatientDeceased,
    ev.PatientMergedInto,
)


class ChurnProjection(CatchUpProjection):
    name = "churn"
    read_models = (ChurnPatient, ChurnAppointment, ChurnContact)

    def handle(self, events: Sequence[RecordedEvent]) -> None:
        followed = [r for r in events if isinstance(r.event, _FOLLOWED)]
        if followed:
            _Batch(followed).apply()


class _Batch:
    """The batch's rows in memory, applied in log order, then saved once: a merge moves
    the rows it knows and those stored, so any batch size writes the same."""

    def __init__(self, events: Sequence[RecordedEvent]) -> None:
        self.events = events
        streams = {r.stream_id for r in events}
        self.patients: dict[uuid.UUID, ChurnPatient | None] = {p: None for p in streams}
        self.patients.update((p.patient_id, p) for p in ChurnPatient.objects.filter(pk__in=streams))
        named = {r.event.appointment_id for r in events if hasattr(r.event, "appointment_id")}
        self.appointments = {
            a.appointment_id: a for a in ChurnAppointment.objects.filter(pk__in=named)
        }
        self.created_patients: set[uuid.UUID] = set()
        self.created_appointments: set[uuid.UUID] = set()
        self.changed_patients: set[uuid.UUID] = set()
        self.changed_appointments: set[uuid.UUID] = set()
        self.contacts: list[ChurnContact] = []
        self.moves: list[tuple[uuid.UUID, uuid.UUID]] = []  # (duplicate, survivor), in order

    def apply(self) -> None:
        for recorded in self.events:
            self._apply(recorded)
        self._save()

    def _answering(self, patient_id: uuid.UUID) -> uuid.UUID:
        """The record that answers for `patient_id` now: itself, or whom it merged into."""
        seen: set[uuid.UUID] = set()
        row = self._patient(patient_id)
        while row is not None and row.merged_into is not None and row.patient_id not in seen:
            seen.add(row.patient_id)
            patient_id = row.merged_into
            row = self._patient(patient_id)
        return patient_id

    def _patient(self, patient_id: uuid.UUID) -> ChurnPatient | None:
        # The batch's own patients were all looked up at once (None: no row, so nothing
        # to count until a registration in the batch makes one); others, as merges name them.
        if patient_id not in self.patients:
            self.patients[patient_id] = ChurnPatient.objects.filter(pk=patient_id).first()
        return self.patients[patient_id]

    def _apply(self, recorded: RecordedEvent) -> None:
        event, at, stream = recorded.event, recorded.occurred_at, recorded.stream_id
        if isinstance(event, ev.PatientRegistered):
            self.patients[stream] = ChurnPatient(patient_id=stream, language=event.language)
            self.created_patients.add(stream)
            return
        patient = self._patient(stream)
        if patient is None:
            return  # nothing before registration can happen; nothing to count
        if isinstance(event, ev.DemographicsChanged):
            patient.language = event.language
        elif isinstance(event, ev.ConsentRecorded | ev.ConsentRevoked):
            _consent(patient, event, at)
        elif isinstance(event, ev.PatientDeceased):
            patient.deceased_at = patient.deceased_at or at
        elif isinstance(event, ev.PatientMergedInto):
            patient.merged_at, patient.merged_into = at, event.surviving_patient_id
            self._move(stream, event.surviving_patient_id)
        elif isinstance(event, ev.CallLogged):
            if event.disposition is ev.CallDisposition.CONNECTED:
                self._contact(recorded, event.started_at)
            return
        elif isinstance(event, ev.SmsReceived | ev.CrisisContactRecorded):
            self._contact(recorded, at)
            return
        else:
            self._appointment(recorded)
            return
        self.changed_patients.add(stream)

    def _contact(self, recorded: RecordedEvent, at: dt.datetime) -> None:
        self.contacts.append(
            ChurnContact(
                position=recorded.position,
                patient_id=self._answering(recorded.stream_id),
                at=at,
            )
        )

    def _appointment(self, recorded: RecordedEvent) -> None:
        event = recorded.event
        if isinstance(event, ev.AppointmentScheduled):
            row = ChurnAppointment(
                appointment_id=event.appointment_id,
                patient_id=self._answering(recorded.stream_id),
                visit_type=event.appointment_type.value,
                booked_at=recorded.occurred_at,
                starts_at=event.starts_at,
            )
            self.appointments[row.appointment_id] = row
            self.created_appointments.add(row.appointment_id)
            return
        appointment_id = getattr(event, "appointment_id", None)
        row_or_none = self.appointments.get(appointment_id) if appointment_id else None
        if row_or_none is None:
            return
        if isinstance(event, ev.AppointmentRescheduled):
            row_or_none.starts_at = event.starts_at
        elif (status := _CLOSED.get(type(event))) is not None:
            row_or_none.status, row_or_none.closed_at = status, recorded.occurred_at
        else:
            return
        self.changed_appointments.add(row_or_none.appointment_id)

    def _move(self, duplicate: uuid.UUID, survivor: uuid.UUID) -> None:
        """The duplicate's care now counts for the survivor: rows in memory here, stored
        rows when the batch is saved (in this order, after the batch's own rows)."""
        for row in self.appointments.values():
            if row.patient_id == duplicate:
                row.patient_id = survivor
                self.changed_appointments.add(row.appointment_id)
        for contact in self.contacts:
            if contact.patient_id == duplicate:
                contact.patient_id = survivor
        self.moves.append((duplicate, survivor))

    def _rows(self, patients: set[uuid.UUID]) -> list[ChurnPatient]:
        """The rows of these patients (each created or changed here, so each has one)."""
        return [row for p in sorted(patients) if (row := self.patients[p]) is not None]

    def _save(self) -> None:
        ChurnPatient.objects.bulk_create(self._rows(self.created_patients), batch_size=500)
        ChurnPatient.objects.bulk_update(
            self._rows(self.changed_patients - self.created_patients),
            ["language", "deceased_at", "merged_at", "merged_into", "consents", "opted_out"],
            batch_size=500,
        )
        for duplicate, survivor in self.moves:
            ChurnAppointment.objects.filter(patient_id=duplicate).update(patient_id=survivor)
            ChurnContact.objects.filter(patient_id=duplicate).update(patient_id=survivor)
        ChurnAppointment.objects.bulk_create(
            [self.appointments[a] for a in sorted(self.created_appointments)], batch_size=500
        )
        ChurnAppointment.objects.bulk_update(
            [
                self.appointments[a]
                for a in sorted(self.changed_appointments - self.created_appointments)
            ],
            ["patient_id", "starts_at", "status", "closed_at"],
            batch_size=500,
        )
        ChurnContact.objects.bulk_create(self.contacts, batch_size=500)


def _consent(
    patient: ChurnPatient, event: ev.ConsentRecorded | ev.ConsentRevoked, at: dt.datetime
) -> None:
    """Keep the consents on file and the spans in which every channel was withdrawn."""
    was_out = _opted_out(patient.consents)
    consents = dict(patient.consents)
    if isinstance(event, ev.ConsentRecorded):
        consents[f"{event.channel.value}:{event.purpose.value}"] = True
    else:
        purposes = [event.purpose] if event.purpose is not None else list(ev.ConsentPurpose)
        for purpose in purposes:
            consents[f"{event.channel.value}:{purpose.value}"] = False
    patient.consents = consents
    now_out = _opted_out(consents)
    moment = at.astimezone(dt.UTC).isoformat()
    if now_out and not was_out:
        patient.opted_out = [*patient.opted_out, [moment, None]]
    elif was_out and not now_out:
        *earlier, (since, _) = patient.opted_out
        patient.opted_out = [*earlier, [since, moment]]


def _opted_out(consents: dict[str, bool]) -> bool:
    """Withdrawn on voice and texts for every purpose, and granted nowhere."""
    withdrawn = all(
        consents.get(f"{channel.value}:{purpose.value}") is False
        for channel in _EVERY_CHANNEL
        for purpose in ev.ConsentPurpose
    )
    return withdrawn and not any(consents.values())
