"""In the admin, the event log is there to read, never to edit or delete."""

from __future__ import annotations

import pytest
from django.urls import reverse

from crm.models import Event
from tests.roles import role_group

pytestmark = pytest.mark.django_db


def test_even_a_superuser_can_read_but_not_change_or_delete_an_event(
    admin_client, admin_user, register
):
    # The raw log is for a superuser who also holds a clinic role (docs/roles.md).
    admin_user.groups.add(role_group("supervisor"))
    register()
    event = Event.objects.get()

    listing = admin_client.get(reverse("admin:crm_event_changelist"))
    detail = admin_client.get(reverse("admin:crm_event_change", args=[event.pk]))
    edit = admin_client.post(
        reverse("admin:crm_event_change", args=[event.pk]), {"event_type": "PatientDeceased"}
    )
    delete = admin_client.post(reverse("admin:crm_event_delete", args=[event.pk]), {"post": "yes"})
    add = admin_client.get(reverse("admin:crm_event_add"))

    assert listing.status_code == 200 and b"PatientRegistered" in listing.content
    assert detail.status_code == 200 and b"Rowan" in detail.content
    assert b'name="_save"' not in detail.content
    assert (edit.status_code, delete.status_code, add.status_code) == (403, 403, 403)
    assert Event.objects.get().event_type == "PatientRegistered"
