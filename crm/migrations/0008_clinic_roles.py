"""The clinic's four roles as Django groups, each holding exactly one permission per area it
opens (crm.roles.OPENS, docs/roles.md) and nothing else: any model permission a group was
given before (the demo once gave every role every view_* of crm) is taken away.

The table is written out here, not imported, so this migration does the same thing on any
later checkout; tests/crm/test_roles.py keeps it equal to crm.roles.OPENS.
"""

from typing import Any

from django.db import migrations

AREAS = {
    "patients": "Can open patients: find, register, read and update (not restricted notes)",
    "restricted_notes": "Can write and read restricted notes, and clear a crisis flag",
    "figures": "Can open the figures: dashboard, metrics API and their tables",
    "audit": "Can read the access audit",
    "pipeline": "Can read the projections' checkpoints, lag and parked streams",
}

OPENS = {
    "agent": ["patients"],
    "front_desk": ["patients"],
    "clinician": ["patients", "restricted_notes"],
    "supervisor": ["patients", "figures", "audit", "pipeline"],
}


def create_roles(apps: Any, schema_editor: Any) -> None:
    """Also called by the tests after a transactional test's flush has emptied the tables."""
    content_type_model = apps.get_model("contenttypes", "ContentType")
    permission_model = apps.get_model("auth", "Permission")
    group_model = apps.get_model("auth", "Group")
    # The area permissions hang on the patient profile's content type; created here if the
    # post-migrate signal has not made it yet (a fresh database).
    profile, _ = content_type_model.objects.get_or_create(app_label="crm", model="patientprofile")
    permissions = {}
    for area, name in AREAS.items():
        permission, _ = permission_model.objects.update_or_create(
            content_type=profile, codename=f"open_{area}", defaults={"name": name}
        )
        permissions[area] = permission
    for role, areas in OPENS.items():
        group, _ = group_model.objects.get_or_create(name=role)
        group.permissions.set([permissions[area] for area in areas])


def remove_area_permissions(apps: Any, schema_editor: Any) -> None:
    # The groups stay: people are in them, and earlier code read the names alone.
    permission_model = apps.get_model("auth", "Permission")
    permission_model.objects.filter(
        content_type__app_label="crm", codename__in=[f"open_{area}" for area in AREAS]
    ).delete()


class Migration(migrations.Migration):
    dependencies = [
        ("crm", "0007_command_record_fingerprint"),
        ("auth", "0012_alter_user_first_name_max_length"),
        ("contenttypes", "0002_remove_content_type_name"),
    ]
    operations = [migrations.RunPython(create_roles, remove_area_permissions)]
