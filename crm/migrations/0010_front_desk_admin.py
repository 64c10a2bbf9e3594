"""Names the front desk reads in the admin: a patient (not a "patient profile") and the
access log's entries (not "entrys"). Only the models' options change; no table does."""

from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [("crm", "0009_contact_reasons")]
    operations = [
        migrations.AlterModelOptions(
            name="accesslogentry",
            options={
                "ordering": ["-id"],
                "verbose_name": "access log entry",
                "verbose_name_plural": "access log entries",
            },
        ),
        migrations.AlterModelOptions(
            name="patientprofile",
            options={
                "ordering": ["last_name", "first_name", "patient_id"],
                "verbose_name": "patient",
            },
        ),
    ]
