"""The suggestions' table reads as the clerk's work queue in the admin; no table changes."""

from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [("engagement", "0001_initial")]
    operations = [
        migrations.AlterModelOptions(
            name="suggestion",
            options={
                "ordering": ["priority", "due_at", "suggestion_id"],
                "verbose_name_plural": "work queue",
            },
        ),
    ]
