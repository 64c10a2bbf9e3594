"""The front desk's patients: find one, see everything at a glance, act through small forms,
each running a command handler the API runs too (the profile itself is never edited)."""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterable
from typing import Any

from django.conf import settings
from django.contrib import admin, messages
from django.contrib.admin.views.main import SEARCH_VAR, ChangeList
from django.core.exceptions import PermissionDenied
from django.db.models import QuerySet
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import get_object_or_404
from django.template.response import TemplateResponse
from django.urls import URLPattern, path, reverse
from django.utils import timezone
from django.utils.html import format_html_join
from django.utils.http import urlencode
from django.utils.safestring import SafeString

from crm import extensions
from crm.admin import formatting as fmt
from crm.admin.access import (
    AccessNote,
    Area,
    actor_for,
    audit_access,
    may,
    may_read_restricted_notes,
)
from crm.admin.forms import PATIENT_ACTIONS, PatientActionForm, RegisterPatientForm
from crm.admin.patient_page import badges, next_visit, patient_page
from crm.admin.search import search_patients, search_problem, typed_number
from crm.api.audit import query_digest
from crm.models import AccessAction, PatientProfile

TEMPLATES = "admin/crm/patientprofile"
ALREADY_SENT = "This form had already been sent; nothing new was recorded."


class PatientChangeList(ChangeList):
    """The patient list, plus what other apps count per patient (one query per count for
    the whole page). The site's guard (crm.admin_guard) audits the patients it shows."""

    def get_results(self, request: HttpRequest) -> None:
        super().get_results(request)
        shown: list[PatientProfile] = list(self.result_list)
        self.result_list = shown
        ids = [profile.patient_id for profile in shown]
        now = timezone.now()
        counted = {
            count.key: count.load(ids, now) if ids else {} for count in extensions.patient_counts()
        }
        for profile in shown:
            profile.crm_counts = {  # type: ignore[attr-defined]
                key: per_patient.get(profile.patient_id, 0) for key, per_patient in counted.items()
            }


def _count_column(count: extensions.PatientCount) -> Callable[[Any], str]:
    def column(obj: PatientProfile) -> str:
        counts: dict[str, int] = getattr(obj, "crm_counts", {})
        return f"{counts.get(count.key, 0):,}"

    column.__name__ = f"count_{count.key}"
    return admin.display(description=count.label)(column)


@admin.register(PatientProfile)
class PatientProfileAdmin(admin.ModelAdmin):  # type: ignore[type-arg]
    list_display = ["patient", "born", "phone_number", "next_appointment", "flags"]
    list_display_links = ["patient"]
    list_filter = ["crisis_flag", "deceased"]
    # The search box needs a field here; the search itself is get_search_results.
    search_fields = ["search_name"]
    search_help_text = (
        "Name, date of birth (05/17/1984 or 1984-05-17) or phone number written any way."
    )
    list_per_page = 25
    show_full_result_count = False
    actions = None
    change_list_template = f"{TEMPLATES}/change_list.html"
    area = Area.PATIENTS
    patient_field = "patient_id"

    # --- who may do what: every clinic role reads (area), never an edit or a delete ------

    def has_add_permission(self, request: HttpRequest) -> bool:
        return may(request.user, Area.PATIENTS)  # "add" is registration, through the handler

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    # --- the list ---------------------------------------------------------------------

    def get_changelist(self, request: HttpRequest, **kwargs: Any) -> type[ChangeList]:
        return PatientChangeList

    def get_list_display(self, request: HttpRequest) -> list[str | Callable[[Any], str | bool]]:
        # What other apps count (open suggestions...) goes before the flags.
        base = list(super().get_list_display(request))
        counts = extensions.patient_counts()
        return [*base[:-1], *(_count_column(c) for c in counts), base[-1]]

    def list_access_notes(
        self, request: HttpRequest, rows: Iterable[Any], query: str
    ) -> list[AccessNote]:
        # Like the API's search: every patient listed, or one row saying nobody matched.
        digest = query_digest(query.strip()) if query.strip() else ""
        notes = [AccessNote(p.patient_id, "search_match", digest) for p in rows]
        return notes or [AccessNote(None, "no_match", digest)]

    def get_search_results(
        self, request: HttpRequest, queryset: QuerySet[PatientProfile], search_term: str
    ) -> tuple[QuerySet[PatientProfile], bool]:
        region = settings.PHONE_DEFAULT_REGION
        return search_patients(queryset, search_term, region=region), False

    def changelist_view(
        self, request: HttpRequest, extra_context: dict[str, Any] | None = None
    ) -> HttpResponse:
        typed = request.GET.get(SEARCH_VAR, "")
        region = settings.PHONE_DEFAULT_REGION
        number = typed_number(typed, region=region)
        register = reverse("admin:crm_patientprofile_add")
        context = {
            "title": "Find a patient",
            "now": timezone.now(),
            "search_problem": search_problem(typed, region=region),
            # A search that found nobody offers registration with the number filled in.
            "register_url": f"{register}?{urlencode({'phone': number})}" if number else register,
            **(extra_context or {}),
        }
        return super().changelist_view(request, context)

    @admin.display(description="Patient", ordering="last_name")
    def patient(self, obj: PatientProfile) -> str:
        legal = f"{obj.first_name} {obj.last_name}"
        return obj.display_name if obj.display_name == legal else f"{obj.display_name} ({legal})"

    @admin.display(description="Born", ordering="date_of_birth")
    def born(self, obj: PatientProfile) -> str:
        return fmt.day(obj.date_of_birth)

    @admin.display(description="Phone")
    def phone_number(self, obj: PatientProfile) -> str:
        return fmt.phone(obj.phone) or "—"

    @admin.display(description="Next appointment", ordering="next_appointment_at")
    def next_appointment(self, obj: PatientProfile) -> str:
        visit = next_visit(obj, timezone.now())
        return visit.describe(obj.timezone) if visit else "—"

    @admin.display(description="Flags")
    def flags(self, obj: PatientProfile) -> SafeString:
        return format_html_join(
            " ",
            '<span class="crm-badge crm-badge--{}" title="{}">{}</span>',
            ((b.tone, b.title, b.text) for b in badges(obj)),
        )

    # --- registration, the patient page and its actions --------------------------------

    def get_urls(self) -> list[URLPattern]:
        wrap = self.admin_site.admin_view
        custom = [
            path(
                "<uuid:patient_id>/do/<slug:action>/",
                wrap(self.action_view),
                name="crm_patientprofile_action",
            ),
        ]
        return [*custom, *super().get_urls()]

    def add_view(
        self, request: HttpRequest, form_url: str = "", extra_context: dict[str, Any] | None = None
    ) -> HttpResponse:
        if not self.has_add_permission(request):
            raise PermissionDenied
        now = timezone.now()
        # From a search that found nobody: the number the caller gave, written out.
        typed = fmt.phone(request.GET.get("phone", "")[:40])
        form = RegisterPatientForm(
            request.POST if request.method == "POST" else None,
            user=request.user,
            now=now,
            initial={"phone": typed} if typed else {},
        )
        if request.method == "POST":
            result = form.run(actor_for(request.user, channel="admin"))
            if result is not None:
                outcome = "replayed" if result.duplicate else "created"
                audit_access(
                    request, [AccessNote(result.patient_id, outcome)], action=AccessAction.CREATE
                )
                messages.success(request, form.success_message(result))
                return HttpResponseRedirect(_patient_url(result.patient_id))
        if form.possible_duplicates:
            # Naming who is already registered under what was typed is a lookup: audited
            # like the screen pop, with the keyed hash of the number typed.
            typed = getattr(form, "cleaned_data", {}).get("phone") or ""
            digest = query_digest(typed) if typed else ""
            shown = [
                AccessNote(p.patient_id, "possible_duplicate", digest)
                for p in form.possible_duplicates
            ]
            audit_access(request, shown)
        context = {
            **self.admin_site.each_context(request),
            "opts": self.opts,
            "title": form.title,
            "form": form,
            "duplicates": [(_patient_url(p.patient_id), p) for p in form.possible_duplicates],
        }
        return TemplateResponse(request, f"{TEMPLATES}/register.html", context)

    def change_view(
        self,
        request: HttpRequest,
        object_id: str,
        form_url: str = "",
        extra_context: dict[str, Any] | None = None,
    ) -> HttpResponse:
        if not self.has_view_permission(request):
            raise PermissionDenied
        profile = self._profile(object_id)
        older_than = request.GET.get("older_than", "")
        page = patient_page(
            profile,
            now=timezone.now(),
            include_restricted=may_read_restricted_notes(request.user),
            older_than=int(older_than) if older_than.isdigit() else None,
        )
        audit_access(request, [AccessNote(profile.patient_id, "returned")])
        context = {
            **self.admin_site.each_context(request),
            "opts": self.opts,
            "title": profile.display_name,
            "page": page,
            "actions": [
                (slug, form.title)
                for slug, form in PATIENT_ACTIONS.items()
                if not form.per_appointment and form.offered(profile, request.user)
            ],
        }
        return TemplateResponse(request, f"{TEMPLATES}/patient.html", context)

    def history_view(
        self, request: HttpRequest, object_id: str, extra_context: dict[str, Any] | None = None
    ) -> HttpResponse:
        # The patient's history is the timeline on their page, not the admin's change log.
        return HttpResponseRedirect(_patient_url(self._profile(object_id).patient_id))

    def action_view(self, request: HttpRequest, patient_id: uuid.UUID, action: str) -> HttpResponse:
        form_class = PATIENT_ACTIONS.get(action)
        if form_class is None:
            raise Http404("No such action.")
        if not self.has_view_permission(request) or not form_class.allowed(request.user):
            raise PermissionDenied
        profile = get_object_or_404(PatientProfile, patient_id=patient_id)
        now = timezone.now()
        form: PatientActionForm
        if request.method == "POST":
            form = form_class(request.POST, patient=profile, user=request.user, now=now)
            result = form.run(actor_for(request.user, channel="admin"))
            outcome, status = form.failure or (
                "replayed" if result is not None and result.duplicate else "changed",
                200,
            )
            audit_access(
                request,
                [AccessNote(patient_id, outcome)],
                action=AccessAction.CHANGE,
                status_code=status,
            )
            if result is not None:
                if result.duplicate:
                    messages.warning(request, ALREADY_SENT)
                else:
                    messages.success(request, form.success_message(result))
                return HttpResponseRedirect(_patient_url(patient_id))
        else:
            initial = {
                "appointment": request.GET.get("appointment", ""),
                "test": request.GET.get("test", ""),
            }
            form = form_class(patient=profile, user=request.user, now=now, initial=initial)
            # The form's page shows who the patient is: a read, like the patient page.
            audit_access(request, [AccessNote(patient_id, "returned")])
        context = {
            **self.admin_site.each_context(request),
            "opts": self.opts,
            "title": form.title,
            "form": form,
            "profile": profile,
            "patient_url": _patient_url(patient_id),
            "patient_badges": badges(profile),
            "patient_phone": fmt.phone(profile.phone),
        }
        return TemplateResponse(request, f"{TEMPLATES}/action.html", context)

    def _profile(self, object_id: str) -> PatientProfile:
        try:
            patient_id = uuid.UUID(object_id)
        except ValueError:
            raise Http404("No such patient.") from None
        return get_object_or_404(PatientProfile, patient_id=patient_id)


def _patient_url(patient_id: uuid.UUID) -> str:
    return reverse("admin:crm_patientprofile_change", args=[patient_id])
