"""Who is in care, who has lapsed: the churn projection's tables."""

from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [("crm", "0012_voice_calls")]
    operations = [
        migrations.CreateModel(
            name="ChurnPatient",
            fields=[
                ("patient_id", models.UUIDField(primary_key=True, serialize=False)),
                ("language", models.CharField(max_length=16)),
                ("deceased_at", models.DateTimeField(null=True)),
                ("merged_at", models.DateTimeField(null=True)),
                ("merged_into", models.UUIDField(null=True)),
                ("consents", models.JSONField(default=dict)),
                ("opted_out", models.JSONField(default=list)),
            ],
            options={"db_table": "crm_churn_patient", "ordering": ["patient_id"]},
        ),
        migrations.CreateModel(
            name="ChurnAppointment",
            fields=[
                ("appointment_id", models.UUIDField(primary_key=True, serialize=False)),
                ("patient_id", models.UUIDField()),
                ("visit_type", models.CharField(max_length=32)),
                ("booked_at", models.DateTimeField()),
                ("starts_at", models.DateTimeField()),
                ("status", models.CharField(default="scheduled", max_length=16)),
                ("closed_at", models.DateTimeField(null=True)),
            ],
            options={
                "db_table": "crm_churn_appointment",
                "ordering": ["appointment_id"],
                "indexes": [models.Index(fields=["patient_id"], name="crm_churn_appt_patient")],
            },
        ),
        migrations.CreateModel(
            name="ChurnContact",
            fields=[
                ("position", models.BigIntegerField(primary_key=True, serialize=False)),
                ("patient_id", models.UUIDField()),
                ("at", models.DateTimeField()),
            ],
            options={
                "db_table": "crm_churn_contact",
                "ordering": ["position"],
                "indexes": [
                    models.Index(fields=["patient_id", "at"], name="crm_churn_contact_patient")
                ],
            },
        ),
    ]
