"""What the EHR import keeps: identifiers and the records it could not match."""

from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [("crm", "0013_churn")]
    operations: list[migrations.operations.base.Operation] = [
        migrations.CreateModel(
            name="PatientIdentifier",
            fields=[
                ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                ("system", models.CharField(max_length=255)),
                ("value", models.CharField(max_length=100)),
                ("kind", models.CharField(blank=True, max_length=20)),
                ("patient_id", models.UUIDField(db_index=True)),
                ("recorded_at", models.DateTimeField()),
            ],
            options={
                "db_table": "crm_patient_identifier",
                "ordering": ["system", "value"],
                "constraints": [
                    models.UniqueConstraint(fields=("system", "value"), name="crm_identifier_unique")
                ],
                "indexes": [models.Index(fields=["value"], name="crm_identifier_value")],
            },
        ),
        migrations.CreateModel(
            name="EhrMatchReview",
            fields=[
                ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                ("source", models.CharField(help_text="The EHR's import source.", max_length=255)),
                ("resource", models.CharField(help_text="The EHR's record, e.g. Patient/123.", max_length=200)),
                ("name", models.CharField(max_length=401)),
                ("date_of_birth", models.DateField(null=True)),
                ("phone", models.CharField(blank=True, max_length=20)),
                ("identifiers", models.JSONField(default=list, help_text="The EHR's identifiers (MRN).")),
                ("candidates", models.JSONField(default=list, help_text="Patient ids it could be.")),
                ("reason", models.CharField(max_length=1000)),
                ("file", models.CharField(blank=True, max_length=1000)),
                ("first_seen_at", models.DateTimeField()),
                ("last_seen_at", models.DateTimeField()),
                ("decision", models.CharField(choices=[("pending", "Waiting for the front desk"), ("link", "Same person as the chosen patient"), ("new", "A different person: register a new patient")], default="pending", max_length=10)),
                ("linked_patient_id", models.UUIDField(blank=True, help_text="With 'same person': which of the candidates.", null=True)),
                ("decided_by", models.CharField(blank=True, max_length=150)),
                ("decided_at", models.DateTimeField(blank=True, null=True)),
                ("imported_patient_id", models.UUIDField(blank=True, help_text="Set once an import applied the decision.", null=True)),
            ],
            options={
                "verbose_name": "EHR record to match",
                "verbose_name_plural": "EHR records to match",
                "db_table": "crm_ehr_match_review",
                "ordering": ["-last_seen_at"],
                "constraints": [
                    models.UniqueConstraint(fields=("source", "resource"), name="crm_ehr_review_unique")
                ],
            },
        ),
        migrations.CreateModel(
            name="EhrSync",
            fields=[
                ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                ("source", models.CharField(max_length=255, unique=True)),
                ("synced_through", models.DateTimeField(null=True)),
                ("last_run_at", models.DateTimeField(null=True)),
                ("last_summary", models.JSONField(default=dict)),
                ("last_error", models.CharField(blank=True, max_length=1000)),
            ],
            options={"verbose_name": "EHR sync", "db_table": "crm_ehr_sync"},
        ),
        migrations.AddField(
            model_name="patientprofile",
            name="identifiers",
            field=models.JSONField(default=list),
        ),
    ]
