"""The actions on the patient page: each one a small form running the command handler the
API runs; refusals come back on the form and leave the record as it was."""

from __future__ import annotations

import datetime as dt
import uuid
import zoneinfo

import pytest

from crm import eventstore, handlers
from crm.domain import events as ev
from crm.handlers import Actor
from crm.models import Event, PatientProfile
from tests.admin.pages import action_url, form_fields, patient_url, text_of

pytestmark = pytest.mark.django_db

CLINIC = zoneinfo.ZoneInfo("America/New_York")
AGENT = Actor(name="agent.cedar", channel="api", role="agent")


def open_form(client, patient_id, action, **query):
    page = client.get(action_url(patient_id, action), query)
    assert page.status_code == 200
    return form_fields(page.content.decode())


def send(client, patient_id, action, **changes):
    """Fill the form as drawn with `changes` and send it, following the redirect."""
    fields = open_form(client, patient_id, action, appointment=changes.pop("appointment", ""))
    fields.update({key: str(value) for key, value in changes.items()})
    return client.post(action_url(patient_id, action), fields, follow=True)


def events_of(patient_id) -> list[str]:
    return list(
        Event.objects.filter(stream_id=patient_id)
        .order_by("version")
        .values_list("event_type", flat=True)
    )


def next_week(clinic_now: dt.datetime) -> dt.date:
    return clinic_now.astimezone(CLINIC).date() + dt.timedelta(days=7)


# --- booking ------------------------------------------------------------------------------


def test_the_desk_books_a_visit_and_sees_it_on_the_page_and_in_the_timeline(
    desk, patient, clinic_now
):
    rowan = patient()
    day = next_week(clinic_now)

    response = send(
        desk,
        rowan,
        "schedule",
        appointment_type="therapy",
        modality="telehealth",
        day=day.isoformat(),
        time="09:30",
        duration_minutes=50,
        provider="Lee Brightmoor, LCSW",
        location="Telehealth (video visit)",
    )

    page = text_of(response)
    assert response.redirect_chain[-1][0] == patient_url(rowan)
    assert "Booked: therapy" in page
    upcoming = page[page.index("Upcoming appointments") : page.index("Timeline")]
    assert "Therapy" in upcoming and "9:30 AM" in upcoming and "Lee Brightmoor" in upcoming
    assert "Booked: therapy" in page[page.index("Timeline") :]
    assert "recorded by frontdesk (front desk, in the admin)" in page
    stored = Event.objects.get(stream_id=rowan, event_type="AppointmentScheduled")
    assert dt.datetime.fromisoformat(stored.data["starts_at"]) == dt.datetime.combine(
        day, dt.time(9, 30), tzinfo=CLINIC
    )
    assert stored.metadata["channel"] == "admin"
    assert stored.metadata["actor_id"] == desk.user.pk


def test_a_time_typed_in_the_patients_zone_books_that_hour_there(desk, patient, clinic_now):
    avery = patient(first_name="Avery", phone="(206) 555-0142")  # Seattle
    day = next_week(clinic_now)

    send(
        desk,
        avery,
        "schedule",
        appointment_type="follow_up",
        day=day.isoformat(),
        time="09:00",
        time_zone="America/Los_Angeles",
        provider="Dr. Sam Oakridge",
        location="Telehealth (video visit)",
    )

    stored = Event.objects.get(stream_id=avery, event_type="AppointmentScheduled")
    seattle = zoneinfo.ZoneInfo("America/Los_Angeles")
    starts_at = dt.datetime.fromisoformat(stored.data["starts_at"])
    assert starts_at == dt.datetime.combine(day, dt.time(9, 0), tzinfo=seattle)


def test_booking_in_the_past_is_refused_on_the_form_and_nothing_is_saved(desk, patient, clinic_now):
    rowan = patient()
    yesterday = clinic_now.astimezone(CLINIC).date() - dt.timedelta(days=1)

    response = send(
        desk,
        rowan,
        "schedule",
        appointment_type="follow_up",
        day=yesterday.isoformat(),
        time="10:00",
        provider="Dr. Sam Oakridge",
        location="Main Street Clinic",
    )

    assert response.status_code == 200 and not response.redirect_chain
    assert "Cannot book an appointment in the past." in text_of(response)
    assert 'value="Dr. Sam Oakridge"' in response.content.decode()  # nothing to retype
    assert events_of(rowan) == ["PatientRegistered"]


def test_an_out_of_range_length_is_shown_on_its_field(desk, patient, clinic_now):
    rowan = patient()

    response = send(
        desk,
        rowan,
        "schedule",
        day=next_week(clinic_now).isoformat(),
        time="10:00",
        duration_minutes=600,
        provider="Dr. Sam Oakridge",
        location="Main Street Clinic",
    )

    assert "Ensure this value is less than or equal to 480." in text_of(response)
    assert events_of(rowan) == ["PatientRegistered"]


def test_a_form_sent_twice_books_one_visit(desk, patient, clinic_now):
    rowan = patient()
    fields = open_form(desk, rowan, "schedule")
    fields.update(
        day=next_week(clinic_now).isoformat(),
        time="11:15",
        provider="Dr. Sam Oakridge",
        location="Main Street Clinic",
    )

    first = desk.post(action_url(rowan, "schedule"), fields, follow=True)
    again = desk.post(action_url(rowan, "schedule"), fields, follow=True)

    assert "Booked" in text_of(first)
    assert "already been sent; nothing new was recorded" in text_of(again)
    assert events_of(rowan).count("AppointmentScheduled") == 1


def test_a_change_made_by_someone_else_meanwhile_is_caught_not_overwritten(
    desk, patient, clinic_now
):
    rowan = patient()
    fields = open_form(desk, rowan, "schedule")  # drawn at version 1
    handlers.contact_details_change(
        patient_id=rowan, phone="(617) 555-0177", email="new@example.org", actor=AGENT
    )
    fields.update(
        day=next_week(clinic_now).isoformat(),
        time="11:15",
        provider="Dr. Sam Oakridge",
        location="Main Street Clinic",
    )

    refused = desk.post(action_url(rowan, "schedule"), fields)
    retried_fields = form_fields(refused.content.decode())
    retried = desk.post(action_url(rowan, "schedule"), retried_fields, follow=True)

    assert "Someone else changed this patient's record" in text_of(refused)
    assert retried_fields["expected_version"] == "2"  # the form follows the new record
    assert "Booked" in text_of(retried)
    assert events_of(rowan) == [
        "PatientRegistered",
        "ContactDetailsChanged",
        "AppointmentScheduled",
    ]


# --- what happens to a visit next ---------------------------------------------------------


def test_a_visit_is_confirmed_rescheduled_and_cancelled_from_the_page(
    desk, patient, book, clinic_now
):
    rowan = patient()
    visit = book(rowan, in_days=3)

    send(desk, rowan, "confirm", appointment=visit, via="sms")
    moved = send(
        desk,
        rowan,
        "reschedule",
        appointment=visit,
        day=next_week(clinic_now).isoformat(),
        time="14:00",
        reason="Conflicts with work",
    )
    cancelled = send(desk, rowan, "cancel", appointment=visit, cancelled_by="patient")

    assert "needs a new confirmation" in text_of(moved)
    page = text_of(cancelled)
    assert "No upcoming appointments." in page
    assert "Visit cancelled by the patient" in page
    assert "Rescheduled to" in page and "Conflicts with work" in page
    assert "Visit confirmed by text (SMS)" in page
    assert events_of(rowan)[-3:] == [
        "AppointmentConfirmed",
        "AppointmentRescheduled",
        "AppointmentCancelled",
    ]


def test_a_visit_whose_time_has_passed_is_closed_as_completed_or_no_show(desk, patient, book):
    rowan = patient()
    attended = book(rowan, in_days=-1)
    missed = book(rowan, in_days=-2)

    send(desk, rowan, "complete", appointment=attended)
    page = text_of(send(desk, rowan, "no-show", appointment=missed))

    assert "Visits to close" not in page
    assert "Visit completed" in page and "Did not attend (no-show)" in page
    assert PatientProfile.objects.get(pk=rowan).no_show_count == 1


def test_a_no_show_cannot_be_marked_before_the_visit_starts(desk, patient, book):
    rowan = patient()
    visit = book(rowan, in_days=2)

    response = send(desk, rowan, "no-show", appointment=visit)

    assert "Cannot mark a no-show before the appointment's start time." in text_of(response)
    assert "AppointmentNoShowRecorded" not in events_of(rowan)


def test_a_visit_cancelled_while_the_form_was_open_is_not_closed_again(desk, patient, book):
    rowan = patient()
    visit = book(rowan, in_days=-1)
    fields = open_form(desk, rowan, "complete", appointment=visit)
    handlers.appointment_cancel(
        patient_id=rowan, appointment_id=visit, cancelled_by=ev.CancelledBy.CLINIC, actor=AGENT
    )

    response = desk.post(action_url(rowan, "complete"), fields)

    page = text_of(response)
    assert "This appointment is no longer open" in page or "Someone else changed" in page
    assert "AppointmentCompleted" not in events_of(rowan)


# --- calls, notes, crisis, contact details, consent ----------------------------------------


def test_the_desk_logs_a_call_with_its_talk_hold_and_wrap_up_time(desk, patient):
    rowan = patient()

    page = text_of(
        send(
            desk,
            rowan,
            "log-call",
            reason="Billing question",
            talk="4:30",
            hold="1:00",
            wrap_up="0:45",
            resolved_first_contact="on",
        )
    )

    assert "Call logged." in page
    assert "Inbound call, connected: Billing question" in page
    call = Event.objects.get(stream_id=rowan, event_type="CallLogged").data
    assert (call["duration_seconds"], call["hold_seconds"], call["wrap_up_seconds"]) == (
        330,
        60,
        45,
    )
    assert call["agent"] == "frontdesk" and call["resolved_first_contact"] is True


def test_a_missed_call_cannot_be_marked_resolved(desk, patient):
    rowan = patient()

    response = send(desk, rowan, "log-call", disposition="no_answer", resolved_first_contact="on")

    assert "can only be true for a call that connected" in text_of(response)
    assert events_of(rowan) == ["PatientRegistered"]


def test_a_duration_typed_wrong_is_shown_on_its_field(desk, patient):
    rowan = patient()

    response = send(desk, rowan, "log-call", talk="four minutes")

    assert "Type minutes, or minutes:seconds such as 4:30." in text_of(response)


def test_seconds_past_59_are_not_taken_for_a_duration(desk, patient):
    rowan = patient()

    response = send(desk, rowan, "log-call", talk="4:75")

    assert "Type minutes, or minutes:seconds such as 4:30." in text_of(response)
    assert events_of(rowan) == ["PatientRegistered"]


def test_the_front_desk_cannot_write_a_restricted_note_but_a_clinician_can(
    desk, clinician, patient
):
    rowan = patient()
    assert "restricted" not in open_form(desk, rowan, "note")

    send(desk, rowan, "note", text="Asked about parking.", restricted="on")
    send(clinician, rowan, "note", text="Reviewed sleep routine.", restricted="on")

    notes = dict(
        Event.objects.filter(stream_id=rowan, event_type="NoteAdded").values_list(
            "data__text", "data__restricted"
        )
    )
    assert notes == {"Asked about parking.": False, "Reviewed sleep routine.": True}


def test_a_crisis_contact_is_recorded_even_if_the_record_moved_meanwhile(desk, patient):
    rowan = patient()
    fields = open_form(desk, rowan, "crisis-contact")
    handlers.note_add(patient_id=rowan, text="Called about a bill.", actor=AGENT)
    fields.update(
        risk_level="high", handoff="clinician", safety_plan="reviewed", summary="Panic, no plan."
    )

    page = text_of(desk.post(action_url(rowan, "crisis-contact"), fields, follow=True))

    assert "Crisis contact recorded" in page
    assert "Crisis · high risk" in page
    assert events_of(rowan)[-1] == "CrisisContactRecorded"


@pytest.mark.parametrize(
    ("action", "changes", "recorded"),
    [
        ("consent-revoke", {"channel": "sms", "purpose": "", "source": "verbal"}, "ConsentRevoked"),
        ("deceased", {"confirm": "on"}, "PatientDeceased"),
    ],
)
def test_an_opt_out_or_a_death_is_recorded_even_if_the_record_moved_meanwhile(
    desk, patient, action, changes, recorded
):
    rowan = patient()
    fields = open_form(desk, rowan, action)  # drawn at version 1
    handlers.note_add(patient_id=rowan, text="Called about a bill.", actor=AGENT)
    fields.update(changes)

    page = text_of(desk.post(action_url(rowan, action), fields, follow=True))

    assert "Someone else changed this patient's record" not in page
    assert events_of(rowan) == ["PatientRegistered", "NoteAdded", recorded]


def test_a_number_changed_from_the_page_moves_a_zone_the_old_number_gave(desk, patient):
    rowan = patient()  # a Boston number: the profile derives the clinic's Eastern zone
    assert open_form(desk, rowan, "contact-details")["timezone_name"] == ""

    send(desk, rowan, "contact-details", phone="(206) 555-0142")

    assert PatientProfile.objects.get(pk=rowan).timezone == "America/Los_Angeles"


def test_contact_details_typed_any_way_are_stored_as_one_number(desk, patient):
    rowan = patient()

    page = text_of(
        send(desk, rowan, "contact-details", phone="617.555.0177", email="ro@example.org")
    )

    assert "Contact details saved." in page and "(617) 555-0177" in page
    assert PatientProfile.objects.get(pk=rowan).phone == "+16175550177"


def test_a_phone_number_that_is_not_one_is_shown_on_the_phone_field(desk, patient):
    rowan = patient()

    response = send(desk, rowan, "contact-details", phone="555-01")

    assert "is not a valid phone number" in text_of(response)
    assert events_of(rowan) == ["PatientRegistered"]


def test_consent_is_recorded_then_withdrawn_and_the_page_says_so(desk, patient):
    rowan = patient()

    send(desk, rowan, "consent-record", channel="sms", purpose="appointment_reminders")
    page = text_of(send(desk, rowan, "consent-revoke", channel="sms", purpose=""))

    assert "Consent withdrawn: text (SMS) for every purpose" in page
    assert "SMS opted out" in page
    assert "Consent given: text (SMS) for appointment reminders" in page


# --- registering a patient -----------------------------------------------------------------


def registration(**changes):
    fields = {
        "first_name": "Marisol",
        "last_name": "Pradoverde",
        "date_of_birth": "03/14/1979",
        "phone": "+1 305 555 0121",
        "email": "",
        "language": "es",
        "timezone_name": "",
        "form_token": str(uuid.uuid4()),
    }
    fields.update(changes)
    return fields


def test_the_desk_registers_a_patient_and_lands_on_their_page(desk, db):
    response = desk.post("/admin/crm/patientprofile/add/", registration(), follow=True)

    page = text_of(response)
    assert "Registered Marisol Pradoverde." in page
    assert "Born Mar 14, 1979" in page and "(305) 555-0121" in page
    assert "speaks Spanish" in page  # the language by name (issue 14), not its code


def test_a_possible_duplicate_is_shown_before_a_second_record_is_made(desk, patient):
    patient(first_name="Marisol", last_name="Pradoverde", phone="(305) 555-0121")

    warned = desk.post("/admin/crm/patientprofile/add/", registration())
    confirmed = desk.post(
        "/admin/crm/patientprofile/add/",
        registration(not_a_duplicate="on", phone="", form_token=str(uuid.uuid4())),
        follow=True,
    )

    assert "already registered" in text_of(warned)
    assert "Marisol Pradoverde, born May 17, 1984" in text_of(warned)
    assert PatientProfile.objects.count() == 2
    assert "Registered Marisol Pradoverde." in text_of(confirmed)


def test_a_birth_date_in_the_future_is_refused_on_its_field(desk, db):
    response = desk.post("/admin/crm/patientprofile/add/", registration(date_of_birth="2999-01-01"))

    assert "is in the future." in text_of(response)
    assert PatientProfile.objects.count() == 0


# --- who may act ---------------------------------------------------------------------------


def test_staff_without_a_clinic_role_cannot_open_or_send_an_action(staff, patient):
    rowan = patient()
    temp = staff("temp.worker")

    assert temp.get(action_url(rowan, "note")).status_code == 403
    assert temp.post(action_url(rowan, "note"), {"text": "hello"}).status_code == 403
    assert events_of(rowan) == ["PatientRegistered"]


def test_an_action_the_page_does_not_offer_is_not_found(desk, patient):
    rowan = patient()

    assert desk.get(action_url(rowan, "delete")).status_code == 404


def test_no_admin_view_can_edit_or_delete_a_profile(desk, staff, patient):
    rowan = patient()
    root = staff("root", "front_desk", superuser=True)

    for client in (desk, root):
        assert (
            client.post(f"/admin/crm/patientprofile/{rowan}/delete/", {"post": "yes"}).status_code
            == 403
        )
        assert client.post(patient_url(rowan), {"first_name": "Changed"}).status_code == 200
    assert PatientProfile.objects.get(pk=rowan).first_name == "Rowan"
    assert eventstore.current_version(rowan) == 1
