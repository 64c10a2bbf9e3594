"""What every table of the clinic's admin obeys, whoever registered it: the access rule of
crm.roles, lists filtered only by the filters they offer, and an audit row per patient page."""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from typing import Any

from django.apps import apps
from django.contrib import admin
from django.contrib.admin.exceptions import DisallowedModelAdminLookup
from django.contrib.admin.views.autocomplete import AutocompleteJsonView
from django.contrib.admin.views.main import ChangeList
from django.core.exceptions import PermissionDenied
from django.db import models
from django.http import HttpRequest, HttpResponse

from crm.api import audit
from crm.api.audit import AccessNote
from crm.models import AccessAction
from crm.roles import Area, may

# Apps whose tables hold patient data or what was done with it; a table of theirs that
# names no area and has no view check of its own is the operator's (Area.OPERATIONS).
# Other apps (accounts, tokens, login lockouts) hold no patient data and keep Django's own
# permissions, which no role is granted.
PATIENT_APPS = frozenset({"crm", "engagement", "reminders", "django_q"})
# The columns that say which patient a row is about, in the order they are looked for.
PATIENT_COLUMNS = ("patient_id", "stream_id")
_READ = "_crm_object_read"


class GuardedChangeList(ChangeList):
    """Refuses any query parameter the list's filters did not take (Django's lookup_allowed
    lets any lookup on the model's own fields through, `data__text__startswith` included),
    and writes an audit row for each patient the page shows."""

    model_admin: ClinicAccess

    def get_filters(self, request: HttpRequest) -> Any:
        sent = set(self.get_filters_params())
        filters = super().get_filters(request)
        # What is left in the lookups after the filters and the date hierarchy took theirs.
        unoffered = sorted(sent & set(filters[2]))
        if unoffered:
            raise DisallowedModelAdminLookup(
                f"This list cannot be filtered by {', '.join(unoffered)}; use its filters."
            )
        return filters

    def get_results(self, request: HttpRequest) -> None:
        super().get_results(request)
        shown = list(self.result_list)
        self.result_list = shown
        notes = self.model_admin.list_access_notes(request, shown, self.query)
        audit.record(
            request, user=request.user, action=AccessAction.READ, status_code=200, notes=notes
        )


class GuardedAutocomplete(AutocompleteJsonView):
    """Django answers /admin/autocomplete/ for any foreign key whose target table has a
    search box, whether or not a form offers that field: a search past the list's guard and
    its audit (reminders found by patient id, unaudited). Only a field a registered admin
    declares in autocomplete_fields is answered; the target table's own rule still applies."""

    def process_request(self, request: HttpRequest) -> tuple[str, Any, Any, str]:
        found = super().process_request(request)
        site = self.admin_site
        source = apps.get_model(request.GET["app_label"], request.GET["model_name"])
        if site is None or not site.is_registered(source):
            raise PermissionDenied
        source_admin = site.get_model_admin(source)
        if request.GET["field_name"] not in source_admin.get_autocomplete_fields(request):
            raise PermissionDenied
        return found


class ClinicTable:
    """What a table says about itself, with the defaults. It comes last in a guarded
    admin's classes (after Django's ModelAdmin), so whatever the admin declares wins."""

    # Who reads the table (crm.roles.Area); None: it holds no patient data and Django's
    # permissions decide (accounts, tokens, message templates).
    area: Area | None = None
    # The column naming the patient each row is about; None: rows name no patient.
    patient_field: str | None = None
    list_outcome = "listed"

    def list_access_notes(
        self, request: HttpRequest, rows: Iterable[Any], query: str
    ) -> list[AccessNote]:
        """One note per patient a list page shows (and one for a search that found none)."""
        if self.patient_field is None:
            return []
        digest = audit.query_digest(query.strip()) if query.strip() else ""
        patients = dict.fromkeys(_patient_of(row, self.patient_field) for row in rows)
        notes = [AccessNote(patient, self.list_outcome, digest) for patient in patients]
        return notes or ([AccessNote(None, "no_match", digest)] if digest else [])


class ClinicAccess(admin.ModelAdmin, ClinicTable):  # type: ignore[type-arg]
    """Put in front of a registered ModelAdmin: `area` decides who reads the table, whatever
    the admin's own view permission says; a write needs the area and the admin's own
    permission (read-only tables refuse every write).

    CrmAdminSite.register puts it in front of each ModelAdmin (crm, reminders, django-q2,
    Django's own accounts), so no table can forget it. This module lives outside the
    crm.admin package because the site is built while that package is being imported.
    """

    def has_module_permission(self, request: HttpRequest) -> bool:
        if self.area is None:
            return super().has_module_permission(request)
        return may(request.user, self.area)

    def has_view_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        if self.area is None:
            return super().has_view_permission(request, obj)
        return may(request.user, self.area)

    def has_add_permission(self, request: HttpRequest, *args: Any) -> bool:
        allowed = super().has_add_permission(request, *args)
        return allowed if self.area is None else allowed and may(request.user, self.area)

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        allowed = super().has_change_permission(request, obj)
        return allowed if self.area is None else allowed and may(request.user, self.area)

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        allowed = super().has_delete_permission(request, obj)
        return allowed if self.area is None else allowed and may(request.user, self.area)

    # --- lists -----------------------------------------------------------------------------

    def get_changelist(self, request: HttpRequest, **kwargs: Any) -> type[ChangeList]:
        return _guarded_changelist(super().get_changelist(request, **kwargs))

    # --- one row: its page and its history ------------------------------------------------

    def get_object(self, request: HttpRequest, object_id: str, from_field: Any = None) -> Any:
        found = super().get_object(request, object_id, from_field)
        setattr(request, _READ, found)
        return found

    def change_view(
        self,
        request: HttpRequest,
        object_id: str,
        form_url: str = "",
        extra_context: dict[str, Any] | None = None,
    ) -> HttpResponse:
        response = super().change_view(request, object_id, form_url, extra_context)
        self._audit_object_page(request, response)
        return response

    def history_view(
        self, request: HttpRequest, object_id: str, extra_context: dict[str, Any] | None = None
    ) -> HttpResponse:
        response = super().history_view(request, object_id, extra_context)
        self._audit_object_page(request, response)
        return response

    def _audit_object_page(self, request: HttpRequest, response: HttpResponse) -> None:
        found = getattr(request, _READ, None)
        if self.patient_field is None or found is None or response.status_code != 200:
            return
        note = AccessNote(_patient_of(found, self.patient_field), "returned")
        audit.record(
            request, user=request.user, action=AccessAction.READ, status_code=200, notes=[note]
        )


def guarded(model: type[models.Model], admin_class: type[Any]) -> type[ClinicAccess]:
    """`admin_class` with ClinicAccess in front, and the defaults of `model`'s app for what
    the class does not say itself."""
    if issubclass(admin_class, ClinicAccess):
        raise TypeError(
            f"{admin_class.__name__} is already guarded: build on "
            "crm.admin_guard.unguarded(type(registered_admin)) instead."
        )
    ours = model._meta.app_label in PATIENT_APPS
    names = {f.name for f in model._meta.concrete_fields}
    attributes: dict[str, Any] = {
        "__module__": admin_class.__module__,
        "_crm_unguarded": admin_class,
    }
    if not _declares(admin_class, "area"):
        # Django's own view permission never opens one of our tables: without an area or a
        # view check of its own, a table is the operator's.
        own_check = admin_class.has_view_permission is not admin.ModelAdmin.has_view_permission
        attributes["area"] = Area.OPERATIONS if ours and not own_check else None
    if not _declares(admin_class, "patient_field"):
        found = [c for c in PATIENT_COLUMNS if c in names]
        attributes["patient_field"] = found[0] if ours and found else None
    return type(admin_class.__name__, (ClinicAccess, admin_class), attributes)


def unguarded(admin_class: type[Any]) -> type[Any]:
    """The class as its app wrote it, to build another admin on (django-q2's, made read-only)."""
    original: type[Any] = getattr(admin_class, "_crm_unguarded", admin_class)
    return original


def _declares(admin_class: type[Any], name: str) -> bool:
    return any(name in vars(klass) for klass in admin_class.__mro__ if klass is not ClinicAccess)


def _patient_of(row: models.Model, field: str) -> uuid.UUID | None:
    value = getattr(row, field, None)
    return value if isinstance(value, uuid.UUID) else None


_CHANGELISTS: dict[type[ChangeList], type[ChangeList]] = {}


def _guarded_changelist(base: type[ChangeList]) -> type[ChangeList]:
    if issubclass(base, GuardedChangeList):
        return base
    if base not in _CHANGELISTS:
        _CHANGELISTS[base] = type(f"Guarded{base.__name__}", (GuardedChangeList, base), {})
    return _CHANGELISTS[base]
