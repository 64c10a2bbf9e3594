"""Seed the editable texts with English and Spanish defaults (the words are copied here,
so later edits of reminders/messages.py never change what this migration did)."""

from django.db import migrations

SEEDS = [
    ('reminder', 'en', 'Hi {first_name}, reminder: your {clinic} appointment is on {date} at {time}, {location}. Reply C to confirm, R to reschedule, STOP to opt out.'),
    ('reminder', 'es', 'Hola {first_name}, recordatorio: su cita en {clinic} es el {date} a las {time}, {location}. Responda C para confirmar, R para cambiarla, STOP para no recibir más.'),
    ('satisfaction', 'en', 'Hi {first_name}, thank you for visiting {clinic}. How was your visit? Reply with a number from 1 (poor) to 5 (excellent).'),
    ('satisfaction', 'es', 'Hola {first_name}, gracias por visitar {clinic}. ¿Cómo fue su visita? Responda con un número del 1 (mala) al 5 (excelente).'),
    ('opt_out_confirmation', 'en', '{clinic}: you will get no more texts from us. Reply START to get them again. Questions? Call {clinic_phone}.'),
    ('opt_out_confirmation', 'es', '{clinic}: ya no recibirá mensajes nuestros. Responda START para recibirlos de nuevo. ¿Preguntas? Llame al {clinic_phone}.'),
    ('opt_in_confirmation', 'en', '{clinic}: you will get appointment texts again. Reply STOP to opt out, HELP for help.'),
    ('opt_in_confirmation', 'es', '{clinic}: volverá a recibir mensajes sobre sus citas. Responda STOP para no recibirlos, HELP para ayuda.'),
    ('help', 'en', '{clinic} appointment texts. Call us at {clinic_phone}. Reply STOP to opt out. Msg & data rates may apply.'),
    ('help', 'es', 'Mensajes de citas de {clinic}. Llámenos al {clinic_phone}. Responda STOP para no recibir más. Pueden aplicarse tarifas.'),
]


def seed(apps, schema_editor):
    MessageTemplate = apps.get_model("reminders", "MessageTemplate")
    for kind, language, body in SEEDS:
        MessageTemplate.objects.get_or_create(
            kind=kind, language=language, defaults={"body": body}
        )


def unseed(apps, schema_editor):
    MessageTemplate = apps.get_model("reminders", "MessageTemplate")
    for kind, language, body in SEEDS:
        MessageTemplate.objects.filter(kind=kind, language=language, body=body).delete()


class Migration(migrations.Migration):
    dependencies = [("reminders", "0001_initial")]

    operations = [migrations.RunPython(seed, unseed)]
