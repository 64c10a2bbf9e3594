"""Whoever sees the patient's phone learns nothing clinical: a location or provider is named
only by the SMS-safe name supervisors set, and templates carry no clinical word."""

from __future__ import annotations

import datetime as dt

import pytest
from django.contrib.auth.models import Group, User
from django.core.exceptions import ValidationError

from crm.domain import events as ev
from reminders.backends import locmem
from reminders.dispatch import dispatch_due
from reminders.domain.sms_safe import SafeNames
from reminders.domain.texts import DEFAULTS, TemplateError, check_template
from reminders.models import MessageTemplate, SmsAlias
from tests.reminders.conftest import local

pytestmark = pytest.mark.django_db

VISIT = local(2026, 11, 10, 15, 0)
RIVERSIDE = "Riverside Behavioral Health, Suite 4"


@pytest.fixture(autouse=True)
def _one_reminder_a_day_ahead(settings):
    settings.REMINDERS_OFFSETS_HOURS = (24,)


def _text_for_a_visit(clinic, *, location=RIVERSIDE, language="en", **booking):
    patient = clinic.patient(language=language)
    clinic.book(patient, VISIT, location=location, **booking)
    clinic.reminders(patient)
    dispatch_due(now=VISIT - dt.timedelta(hours=24))
    (text,) = locmem.outbox
    return text.body


def test_a_location_without_an_sms_safe_name_is_not_named_at_all(clinic):
    body = _text_for_a_visit(clinic)

    assert body == (
        "Hi Rowan, reminder: your Harbor Clinic appointment is on Tue Nov 10 at 3:00 PM, "
        "in person. Reply C to confirm, R to reschedule, STOP to opt out."
    )


def test_a_location_is_named_by_the_alias_the_clinic_set_whatever_the_spelling_on_the_visit(
    clinic,
):
    SmsAlias.objects.create(kind="location", name=RIVERSIDE, alias="Riverside, Suite 4")

    body = _text_for_a_visit(clinic, location="riverside  behavioral health, SUITE 4")

    assert "at 3:00 PM, Riverside, Suite 4. Reply C" in body
    assert "Behavioral" not in body


def test_a_spanish_text_without_an_alias_says_in_person_in_spanish(clinic):
    body = _text_for_a_visit(clinic, language="es")

    assert "a las 15:00, en persona. Responda C" in body
    assert "Riverside" not in body


def test_a_video_visit_says_by_video_even_when_its_location_has_an_alias(clinic):
    SmsAlias.objects.create(kind="location", name=RIVERSIDE, alias="Riverside, Suite 4")

    body = _text_for_a_visit(clinic, modality=ev.Modality.TELEHEALTH)

    assert "at 3:00 PM, by video." in body


def test_a_provider_is_named_only_by_alias_and_otherwise_as_the_care_team(clinic):
    MessageTemplate.objects.filter(kind="reminder", language="en").update(
        body="{first_name}: {provider} sees you {date} {time}. Reply C to confirm."
    )
    without = _text_for_a_visit(clinic)
    locmem.reset()
    SmsAlias.objects.create(kind="provider", name="dr. lee", alias="Dr. L")
    second = clinic.patient(phone="(617) 555-0135")
    clinic.book(second, VISIT + dt.timedelta(hours=1), location=RIVERSIDE)
    clinic.reminders(second)
    dispatch_due(now=VISIT - dt.timedelta(hours=23))
    (with_alias,) = locmem.outbox

    assert without == "Rowan: your care team sees you Tue Nov 10 3:00 PM. Reply C to confirm."
    assert with_alias.body == "Rowan: Dr. L sees you Tue Nov 10 4:00 PM. Reply C to confirm."


def test_a_stored_text_that_writes_out_a_name_given_an_alias_sends_the_default_words(clinic):
    MessageTemplate.objects.filter(kind="reminder", language="en").update(
        body="{first_name}: Dr. Lee sees you {date} at {time}. Reply C to confirm."
    )
    SmsAlias.objects.create(kind="provider", name="Dr. Lee", alias="Dr. L")

    body = _text_for_a_visit(clinic)

    assert body.startswith("Hi Rowan, reminder: your Harbor Clinic appointment is on Tue")
    assert "Lee" not in body


@pytest.mark.parametrize(
    ("body", "complaint"),
    [
        ("Your therapy visit is {date} at {time}.", "therapy hints at the care"),
        ("Su cita de terapia es el {date}.", "terapia hints at the care"),
        ("{clinic} Behavioral Health: see you {date}.", "Behavioral hints at the care"),
        ("HIV clinic: {date} {time}.", "HIV hints at the care"),
    ],
)
def test_a_template_with_a_clinical_word_is_refused(body, complaint):
    with pytest.raises(TemplateError, match=complaint):
        check_template("reminder", body)


def test_a_template_writing_out_a_name_that_has_an_alias_is_refused():
    names = SafeNames.of([("provider", "Dr. Amara Okafor", "Dr. O")])

    with pytest.raises(TemplateError, match=r"Dr. Amara Okafor has an SMS-safe name"):
        check_template("reminder", "dr. amara  okafor awaits you {date}.", names)
    check_template("reminder", "{provider} awaits you {date}.", names)


def test_every_default_text_passes_its_own_checks():
    for (kind, _language), body in DEFAULTS.items():
        check_template(kind, body)


def test_the_admin_refuses_a_template_that_names_an_aliased_location():
    SmsAlias.objects.create(kind="location", name="Harborview Annex", alias="Annex")
    template = MessageTemplate.objects.get(kind="reminder", language="en")
    template.body = "Hi {first_name}, see you at Harborview Annex on {date} at {time}."

    with pytest.raises(ValidationError) as refused:
        template.full_clean()

    (message,) = refused.value.message_dict["body"]
    assert message.startswith("Harborview Annex has an SMS-safe name")


def _signed_in(client, username, *roles):
    user = User.objects.create_user(username, password="not-a-real-password-42", is_staff=True)
    for role in roles:
        user.groups.add(Group.objects.get_or_create(name=role)[0])
    client.force_login(user)
    return client


ADD = "/admin/reminders/smsalias/add/"


def test_a_supervisor_sets_an_alias_in_the_admin_and_a_clinical_one_is_refused(client):
    supervisor = _signed_in(client, "supervisor", "supervisor")

    refused = supervisor.post(
        ADD, {"kind": "location", "name": RIVERSIDE, "alias": "Riverside Behavioral"}
    )
    saved = supervisor.post(ADD, {"kind": "location", "name": RIVERSIDE, "alias": "Riverside"})
    again = supervisor.post(
        ADD, {"kind": "location", "name": RIVERSIDE.upper(), "alias": "Elsewhere"}
    )

    assert refused.status_code == 200
    assert "Behavioral hints at the care given" in refused.content.decode()
    assert saved.status_code == 302
    assert list(SmsAlias.objects.values_list("name", "alias")) == [(RIVERSIDE, "Riverside")]
    assert again.status_code == 200
    assert "already has an SMS-safe name" in again.content.decode()


def test_front_desk_staff_cannot_change_what_texts_call_a_place(client):
    desk = _signed_in(client, "frontdesk", "front_desk")

    response = desk.post(ADD, {"kind": "location", "name": RIVERSIDE, "alias": "Riverside"})

    assert response.status_code == 403
    assert not SmsAlias.objects.exists()


def test_an_alias_stored_past_the_form_with_a_clinical_word_names_nothing(clinic):
    # A script or an import skips the admin form's check; the text still says nothing.
    SmsAlias.objects.create(kind="location", name=RIVERSIDE, alias="Riverside Behavioral")

    body = _text_for_a_visit(clinic)

    assert "at 3:00 PM, in person. Reply C" in body
    assert "Behavioral" not in body
    assert "Riverside" not in body
