"""The words of our texts: editable, in the patient's language, and never clinical."""

from __future__ import annotations

import pytest
from django.core.exceptions import ValidationError

from crm.domain import events as ev
from reminders.backends import locmem
from reminders.dispatch import dispatch_due
from reminders.dispatch.texts import render
from reminders.domain.texts import TemplateError, check_template
from reminders.models import MessageTemplate, SmsAlias
from tests.reminders.conftest import local

pytestmark = pytest.mark.django_db


def test_english_and_spanish_texts_are_seeded_for_every_kind():
    seeded = set(MessageTemplate.objects.values_list("kind", "language"))

    assert seeded == {
        (kind, language)
        for kind in (
            "reminder",
            "satisfaction",
            "opt_out_confirmation",
            "opt_in_confirmation",
            "help",
        )
        for language in ("en", "es")
    }


def test_a_language_we_have_no_texts_for_gets_english_and_a_regional_one_its_base():
    assert render("help", "fr", {}).startswith("Harbor Clinic appointment texts.")
    assert render("help", "es-MX", {}).startswith("Mensajes de citas de Harbor Clinic.")


def test_an_edited_text_is_what_goes_out(clinic, settings):
    settings.REMINDERS_OFFSETS_HOURS = (24,)
    SmsAlias.objects.create(kind="location", name="Main St clinic", alias="Main St clinic")
    MessageTemplate.objects.filter(kind="reminder", language="en").update(
        body="{first_name}: see you {date} {time} at {location}. Reply C to confirm."
    )
    patient = clinic.patient()
    clinic.book(patient, local(2026, 11, 10, 15, 0))
    clinic.reminders(patient)

    dispatch_due(now=local(2026, 11, 9, 15, 0))

    assert [t.body for t in locmem.outbox] == [
        "Rowan: see you Tue Nov 10 3:00 PM at Main St clinic. Reply C to confirm."
    ]


def test_a_reminder_never_names_the_visit_type_the_provider_or_the_reason(clinic, settings):
    settings.REMINDERS_OFFSETS_HOURS = (24,)
    patient = clinic.patient()
    clinic.book(patient, local(2026, 11, 10, 15, 0), kind=ev.AppointmentType.PSYCHIATRY)
    clinic.reminders(patient)

    dispatch_due(now=local(2026, 11, 9, 15, 0))

    (text,) = locmem.outbox
    for clinical in ("psychiatry", "Psychiatry", "Dr. Lee", "follow", "therapy"):
        assert clinical not in text.body


@pytest.mark.parametrize(
    ("kind", "body", "complaint"),
    [
        ("reminder", "Your {appointment_type} visit", "{appointment_type} is not allowed here"),
        ("reminder", "Seen for {reason}", "{reason} is not allowed here"),
        ("help", "Dr {provider} awaits", "{provider} is not allowed here"),
        ("reminder", "Hi {first_name.__class__}", "is not allowed here"),
        ("reminder", "Hi {first_name!r}", "{first_name!r} is not allowed here"),
        ("help", "Hi {first_name}", "{first_name} is not allowed here"),
        ("reminder", "Hi {first_name", "Braces do not match"),
        ("reminder", "   ", "must not be empty"),
    ],
)
def test_a_template_naming_anything_else_is_refused(kind, body, complaint):
    with pytest.raises(TemplateError, match=complaint.replace("{", r"\{").replace("(", r"\(")):
        check_template(kind, body)


def test_the_admin_form_refuses_an_unknown_placeholder_with_a_clear_error():
    template = MessageTemplate.objects.get(kind="reminder", language="en")
    template.body = "Hi {first_name}, your {diagnosis} follow-up is {date}."

    with pytest.raises(ValidationError) as refused:
        template.full_clean()

    (message,) = refused.value.message_dict["body"]
    assert message.startswith("{diagnosis} is not allowed here; use only {first_name}, {date}")


def test_the_admin_saves_an_allowed_edit(client, django_user_model):
    admin = django_user_model.objects.create_superuser("owner", "o@example.org", "pw-not-real-9")
    client.force_login(admin)
    template = MessageTemplate.objects.get(kind="help", language="en")

    response = client.post(
        f"/admin/reminders/messagetemplate/{template.pk}/change/",
        {"kind": "help", "language": "en", "body": "{clinic}: call {clinic_phone}."},
    )
    refused = client.post(
        f"/admin/reminders/messagetemplate/{template.pk}/change/",
        {"kind": "help", "language": "en", "body": "{clinic}: {first_name}"},
    )

    assert response.status_code == 302
    template.refresh_from_db()
    assert template.body == "{clinic}: call {clinic_phone}."
    assert refused.status_code == 200
    assert "{first_name} is not allowed here" in refused.content.decode()
