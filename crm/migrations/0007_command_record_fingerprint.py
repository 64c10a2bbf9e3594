"""I3: an idempotency record names the command it belongs to (a fingerprint), and the
database refuses UPDATE and DELETE on the records, as it does on the event log (I1)."""

from django.apps.registry import Apps
from django.db import migrations, models
from django.db.backends.base.schema import BaseDatabaseSchemaEditor

MESSAGE = "crm_command_record is append-only: idempotency records are never changed"

POSTGRES_FORWARD = f"""
CREATE FUNCTION crm_command_record_refuse_change() RETURNS trigger AS $$
BEGIN
    RAISE EXCEPTION '{MESSAGE}' USING ERRCODE = 'restrict_violation';
END;
$$ LANGUAGE plpgsql;
CREATE TRIGGER crm_command_record_no_update BEFORE UPDATE ON crm_command_record
    FOR EACH ROW EXECUTE FUNCTION crm_command_record_refuse_change();
CREATE TRIGGER crm_command_record_no_delete BEFORE DELETE ON crm_command_record
    FOR EACH ROW EXECUTE FUNCTION crm_command_record_refuse_change();
"""
POSTGRES_BACKWARD = """
DROP TRIGGER IF EXISTS crm_command_record_no_update ON crm_command_record;
DROP TRIGGER IF EXISTS crm_command_record_no_delete ON crm_command_record;
DROP FUNCTION IF EXISTS crm_command_record_refuse_change();
"""
SQLITE_FORWARD = [
    f"CREATE TRIGGER crm_command_record_no_update BEFORE UPDATE ON crm_command_record "
    f"BEGIN SELECT RAISE(ABORT, '{MESSAGE}'); END;",
    f"CREATE TRIGGER crm_command_record_no_delete BEFORE DELETE ON crm_command_record "
    f"BEGIN SELECT RAISE(ABORT, '{MESSAGE}'); END;",
]
SQLITE_BACKWARD = [
    "DROP TRIGGER IF EXISTS crm_command_record_no_update;",
    "DROP TRIGGER IF EXISTS crm_command_record_no_delete;",
]


def forward(apps: Apps, schema_editor: BaseDatabaseSchemaEditor) -> None:
    vendor = schema_editor.connection.vendor
    if vendor == "postgresql":
        schema_editor.execute(POSTGRES_FORWARD)
    elif vendor == "sqlite":
        for statement in SQLITE_FORWARD:
            schema_editor.execute(statement)
    else:
        raise RuntimeError(f"no append-only trigger for the {vendor} database")


def backward(apps: Apps, schema_editor: BaseDatabaseSchemaEditor) -> None:
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(POSTGRES_BACKWARD)
    else:
        for statement in SQLITE_BACKWARD:
            schema_editor.execute(statement)


class Migration(migrations.Migration):
    dependencies = [("crm", "0006_parked_stream")]
    operations = [
        # Records kept before this change have no fingerprint: they replay as they did.
        migrations.AddField(
            model_name="commandrecord",
            name="fingerprint",
            field=models.CharField(blank=True, default="", max_length=64),
        ),
        # After the column: on SQLite, adding it may rebuild the table, triggers and all.
        migrations.RunPython(forward, backward),
    ]
