"""I1: the database itself refuses UPDATE and DELETE on the event log."""

from django.db import migrations

MESSAGE = "crm_event is append-only: events are never updated or deleted"

POSTGRES_FORWARD = f"""
CREATE FUNCTION crm_event_refuse_change() RETURNS trigger AS $$
BEGIN
    RAISE EXCEPTION '{MESSAGE}' USING ERRCODE = 'restrict_violation';
END;
$$ LANGUAGE plpgsql;
CREATE TRIGGER crm_event_no_update BEFORE UPDATE ON crm_event
    FOR EACH ROW EXECUTE FUNCTION crm_event_refuse_change();
CREATE TRIGGER crm_event_no_delete BEFORE DELETE ON crm_event
    FOR EACH ROW EXECUTE FUNCTION crm_event_refuse_change();
"""
POSTGRES_BACKWARD = """
DROP TRIGGER IF EXISTS crm_event_no_update ON crm_event;
DROP TRIGGER IF EXISTS crm_event_no_delete ON crm_event;
DROP FUNCTION IF EXISTS crm_event_refuse_change();
"""
SQLITE_FORWARD = [
    f"CREATE TRIGGER crm_event_no_update BEFORE UPDATE ON crm_event "
    f"BEGIN SELECT RAISE(ABORT, '{MESSAGE}'); END;",
    f"CREATE TRIGGER crm_event_no_delete BEFORE DELETE ON crm_event "
    f"BEGIN SELECT RAISE(ABORT, '{MESSAGE}'); END;",
]
SQLITE_BACKWARD = [
    "DROP TRIGGER IF EXISTS crm_event_no_update;",
    "DROP TRIGGER IF EXISTS crm_event_no_delete;",
]


def forward(apps, schema_editor):
    vendor = schema_editor.connection.vendor
    if vendor == "postgresql":
        schema_editor.execute(POSTGRES_FORWARD)
    elif vendor == "sqlite":
        for statement in SQLITE_FORWARD:
            schema_editor.execute(statement)
    else:
        raise RuntimeError(f"no append-only trigger for the {vendor} database")


def backward(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(POSTGRES_BACKWARD)
    else:
        for statement in SQLITE_BACKWARD:
            schema_editor.execute(statement)


class Migration(migrations.Migration):
    dependencies = [("crm", "0001_initial")]
    operations = [migrations.RunPython(forward, backward)]
